//! Validated identifiers. Each newtype is checked once, where text enters the
//! system, and afterwards carries the proof: a `VideoId` can be put into a
//! CloudFront policy `Resource` or a DynamoDB key without further escaping,
//! because the characters that would widen a policy (`*`, `?`), change a path
//! (`/`, `.`, `%`) or split a key (`#`) can never be in it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a piece of text is not a valid identifier. The `kind` names the
/// identifier so that a message is useful without its (possibly hostile) value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} is shorter than {min} characters")]
    TooShort { kind: &'static str, min: usize },
    #[error("{kind} must start with a letter or digit")]
    BadStart { kind: &'static str },
    #[error("{kind} contains a character outside {allowed}")]
    BadCharacter {
        kind: &'static str,
        allowed: &'static str,
    },
}

struct Rule {
    kind: &'static str,
    max: usize,
    allowed: &'static str,
    start_alnum: bool,
    is_allowed: fn(u8) -> bool,
}

impl Rule {
    fn check(&self, s: &str) -> Result<(), IdError> {
        let kind = self.kind;
        let bytes = s.as_bytes();
        let Some(&first) = bytes.first() else {
            return Err(IdError::Empty { kind });
        };
        if bytes.len() > self.max {
            return Err(IdError::TooLong {
                kind,
                max: self.max,
            });
        }
        if self.start_alnum && !first.is_ascii_alphanumeric() {
            return Err(IdError::BadStart { kind });
        }
        if !bytes.iter().all(|&b| (self.is_allowed)(b)) {
            return Err(IdError::BadCharacter {
                kind,
                allowed: self.allowed,
            });
        }
        Ok(())
    }
}

macro_rules! validated_id {
    ($(#[$doc:meta])* $name:ident, $rule:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            const RULE: Rule = $rule;

            /// Checks `s` and wraps it; the only way to build one.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                Self::RULE.check(s)?;
                Ok(Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::RULE.check(&s)?;
                Ok(Self(s))
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

fn video_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn sub_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@' | b':')
}

fn key_pair_char(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn event_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':')
}

validated_id!(
    /// A title's id, `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$` (ARCHITECTURE §6). It is
    /// spliced into policy resources (`…/videos/<id>/*`), cookie paths and
    /// DynamoDB sort keys, so wildcards, dots, slashes and `%` are unrepresentable.
    VideoId,
    Rule {
        kind: "video id",
        max: 64,
        allowed: "A-Z a-z 0-9 _ -",
        start_alnum: true,
        is_allowed: video_char,
    }
);

validated_id!(
    /// A Cognito user's `sub` (a UUID in Cognito; emulators use other shapes).
    /// `#` is excluded because it separates the parts of a DynamoDB key.
    UserSub,
    Rule {
        kind: "user sub",
        max: 128,
        allowed: "A-Z a-z 0-9 _ - . @ :",
        start_alnum: true,
        is_allowed: sub_char,
    }
);

validated_id!(
    /// The id CloudFront gives a public key (`K2JCJMDEHXQW5F`); it is echoed in
    /// a cookie and a query string, so only CloudFront's own alphabet is allowed.
    KeyPairId,
    Rule {
        kind: "key pair id",
        max: 64,
        allowed: "A-Z 0-9",
        start_alnum: true,
        is_allowed: key_pair_char,
    }
);

validated_id!(
    /// A payment provider's event id (`evt_1NG8Du2eZvKYlo2C`): the idempotency
    /// key of a webhook delivery.
    EventId,
    Rule {
        kind: "event id",
        max: 128,
        allowed: "A-Z a-z 0-9 _ - . :",
        start_alnum: true,
        is_allowed: event_char,
    }
);

validated_id!(
    /// A plan tier (`premium`, `basic`): named by a plan item, a catalogue
    /// title's tier list and a Stripe subscription's `metadata.tier`. It is part
    /// of a DynamoDB item and compared for equality, so it keeps the title
    /// alphabet: nothing that could split a key or smuggle whitespace.
    Tier,
    Rule {
        kind: "tier",
        max: 64,
        allowed: "A-Z a-z 0-9 _ -",
        start_alnum: true,
        is_allowed: video_char,
    }
);

validated_id!(
    /// A payment provider's payment id (Stripe's `pi_3MtwBwLkdIwHu7ix28a3tqPa`):
    /// what a refund names, so the grant it bought can be found and revoked.
    PaymentIntentId,
    Rule {
        kind: "payment intent id",
        max: 128,
        allowed: "A-Z a-z 0-9 _ -",
        start_alnum: true,
        is_allowed: video_char,
    }
);

/// A player's stream id (`?stream=<id>`, `^[A-Za-z0-9_-]{8,64}$`, §12):
/// what a client sends to count separate players on one device against a
/// plan's `max_devices`. At least 8 characters so a client's random id does
/// not collide with another player's by accident; the alphabet keeps it
/// safe inside a DynamoDB attribute and a log line.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StreamId(String);

impl StreamId {
    const MIN: usize = 8;
    const RULE: Rule = Rule {
        kind: "stream id",
        max: 64,
        allowed: "A-Z a-z 0-9 _ -",
        start_alnum: false,
        is_allowed: video_char,
    };

    pub fn parse(s: &str) -> Result<Self, IdError> {
        Self::RULE.check(s)?;
        if s.len() < Self::MIN {
            return Err(IdError::TooShort {
                kind: Self::RULE.kind,
                min: Self::MIN,
            });
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_id_accepts_the_documented_alphabet() {
        for ok in ["demo", "a", "A1_b-2", &"x".repeat(64)] {
            assert_eq!(VideoId::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn video_id_rejects_anything_that_could_widen_a_policy_or_path() {
        for bad in [
            "", "*", "demo*", "de?mo", "a/b", "..", ".hidden", "a.b", "%2A", "a%2e", "-lead",
            "_lead", "tab\t", "é", "a b", "a#b",
        ] {
            assert!(VideoId::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert_eq!(
            VideoId::parse(&"x".repeat(65)),
            Err(IdError::TooLong {
                kind: "video id",
                max: 64
            })
        );
    }

    #[test]
    fn deserializing_validates() {
        let ok: VideoId = serde_json::from_str("\"demo\"").unwrap();
        assert_eq!(ok.as_str(), "demo");
        assert!(serde_json::from_str::<VideoId>("\"*\"").is_err());
    }

    #[test]
    fn key_pair_id_is_cloudfront_alphabet_only() {
        assert!(KeyPairId::parse("K2JCJMDEHXQW5F").is_ok());
        assert!(KeyPairId::parse("k2lower").is_err());
        assert!(KeyPairId::parse("K2;Path=/").is_err());
    }

    #[test]
    fn user_sub_cannot_split_a_dynamodb_key() {
        assert!(UserSub::parse("8f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f").is_ok());
        assert!(UserSub::parse("alice#VIDEO").is_err());
    }

    #[test]
    fn tier_and_payment_intent_cannot_split_a_key_or_carry_whitespace() {
        assert!(Tier::parse("premium").is_ok());
        assert!(PaymentIntentId::parse("pi_3MtwBwLkdIwHu7ix28a3tqPa").is_ok());
        for bad in ["premium#X", "pre mium", "", "_x"] {
            assert!(Tier::parse(bad).is_err(), "{bad:?}");
            assert!(PaymentIntentId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stream_id_is_8_to_64_of_the_title_alphabet() {
        for ok in ["abcdefgh", "_-_-_-_-", "A1b2C3d4e5", &"x".repeat(64)] {
            assert_eq!(StreamId::parse(ok).unwrap().as_str(), ok);
        }
        assert!(matches!(
            StreamId::parse("abcdefg"),
            Err(IdError::TooShort { min: 8, .. })
        ));
        for bad in [
            "",
            &"x".repeat(65),
            "abcdefg*",
            "abcd efgh",
            "abcdefg.",
            "abcdéfgh",
        ] {
            assert!(StreamId::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }
}
