//! Network hints: a keyed hash of the network a viewer's request came from,
//! so operators can see one account used from many networks at once
//! (`reelgate logs sharing`) without the logs ever holding an address.
//!
//! The network is the address's IPv4 /24 or IPv6 /48 (an IPv4-mapped IPv6
//! address counts as its IPv4 address): coarse enough that a viewer's
//! address churning within their provider's block keeps one hint, fine
//! enough that two households rarely share one. The hint is
//! `<key id>:<first 8 bytes of HMAC-SHA256(key, message)>` in hex, where the
//! message is the byte 4 and the /24's three octets, or the byte 6 and the
//! /48's six bytes. Without the key the hint cannot be reversed: there are
//! only 2^24 IPv4 /24s, so an unkeyed hash could be. The key id in the hint
//! means hints made under different keys never compare equal.

use std::fmt;
use std::net::IpAddr;

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

use crate::config::{NetworkHintKeyId, NetworkHintSecret};

/// Hex characters of the truncated HMAC in a hint (64 bits: collisions
/// among the 2^24 IPv4 /24s are vanishingly rare).
pub const HINT_HEX_LEN: usize = 16;

/// The configured key (`network_hint` in the edge config). Debug never
/// shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct NetworkHintKey {
    id: NetworkHintKeyId,
    secret: Vec<u8>,
}

impl fmt::Debug for NetworkHintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetworkHintKey({}, <redacted>)", self.id)
    }
}

/// Why a request has no hint. Logged as `network_missing`; the address
/// itself never is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoHint {
    /// `clientIp` is not an IPv4 or IPv6 address.
    MalformedClientIp,
}

impl NoHint {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedClientIp => "malformed_client_ip",
        }
    }
}

impl NetworkHintKey {
    pub fn new(id: NetworkHintKeyId, secret: NetworkHintSecret) -> Self {
        Self {
            id,
            secret: secret.as_bytes().to_vec(),
        }
    }

    pub fn id(&self) -> &NetworkHintKeyId {
        &self.id
    }

    /// The hint for a Lambda@Edge `clientIp`.
    pub fn hint(&self, client_ip: &str) -> Result<NetworkHint, NoHint> {
        let ip: IpAddr = client_ip.parse().map_err(|_| NoHint::MalformedClientIp)?;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let mut message = [0u8; 7];
        let message = match ip {
            IpAddr::V4(v4) => {
                message[0] = 4;
                message[1..4].copy_from_slice(&v4.octets()[..3]);
                &message[..4]
            }
            IpAddr::V6(v6) => {
                message[0] = 6;
                message[1..7].copy_from_slice(&v6.octets()[..6]);
                &message[..]
            }
        };
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.secret)
            .expect("HMAC accepts a key of any length");
        mac.update(message);
        let digest = mac.finalize().into_bytes();
        let mut text = String::with_capacity(self.id.len() + 1 + HINT_HEX_LEN);
        text.push_str(&self.id);
        text.push(':');
        for byte in &digest[..HINT_HEX_LEN / 2] {
            text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            text.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
        }
        Ok(NetworkHint(text))
    }
}

/// `<key id>:<16 hex>`, as logged. Equal hints mean the same network under
/// the same key; hints under different keys are never equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NetworkHint(String);

impl NetworkHint {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the key that made it.
    pub fn key_id(&self) -> &str {
        self.0.split_once(':').map_or("", |(id, _)| id)
    }
}

impl TryFrom<String> for NetworkHint {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let ok = text.split_once(':').is_some_and(|(id, hash)| {
            NetworkHintKeyId::parse("network", id).is_ok()
                && hash.len() == HINT_HEX_LEN
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(Self(text))
        } else {
            Err("a network hint is <key id>:<16 lowercase hex>".to_owned())
        }
    }
}

impl From<NetworkHint> for String {
    fn from(hint: NetworkHint) -> Self {
        hint.0
    }
}

impl fmt::Display for NetworkHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn key(id: &str, secret: &str) -> NetworkHintKey {
        NetworkHintKey::new(
            NetworkHintKeyId::parse("id", id).unwrap(),
            NetworkHintSecret::parse("key", secret).unwrap(),
        )
    }

    fn hint(client_ip: &str) -> String {
        key("k1", SECRET).hint(client_ip).unwrap().0
    }

    #[test]
    fn one_ipv4_slash_24_is_one_hint() {
        assert_eq!(hint("203.0.113.9"), hint("203.0.113.250"));
        assert_eq!(hint("203.0.113.9"), hint("203.0.113.0"));
        assert_ne!(hint("203.0.113.9"), hint("203.0.114.9"));
        assert_ne!(hint("203.0.113.9"), hint("204.0.113.9"));
    }

    #[test]
    fn one_ipv6_slash_48_is_one_hint() {
        assert_eq!(hint("2001:db8:1::1"), hint("2001:db8:1:ffff::abcd"));
        assert_ne!(hint("2001:db8:1::1"), hint("2001:db8:2::1"));
        // The v4 and v6 messages are told apart by their first byte.
        assert_ne!(hint("0.0.0.1"), hint("::1"));
    }

    #[test]
    fn an_ipv4_mapped_address_is_its_ipv4_network() {
        assert_eq!(hint("::ffff:203.0.113.9"), hint("203.0.113.77"));
        assert_eq!(hint("::ffff:cb00:7109"), hint("203.0.113.1"));
    }

    #[test]
    fn a_new_key_or_key_id_changes_every_hint() {
        let other_secret = "fedcba9876543210fedcba9876543210";
        for ip in ["203.0.113.9", "2001:db8:1::1"] {
            let before = hint(ip);
            let rotated = key("k2", other_secret).hint(ip).unwrap().0;
            assert_ne!(before, rotated);
            assert!(rotated.starts_with("k2:"));
            // Same secret under a new id: still never equal.
            assert_ne!(before, key("k2", SECRET).hint(ip).unwrap().0);
            // Same id, new secret (a rotation that forgot the id): the
            // hash differs all the same.
            assert_ne!(before, key("k1", other_secret).hint(ip).unwrap().0);
        }
    }

    #[test]
    fn the_hint_is_the_documented_hmac() {
        // RFC 4231-style check against the hmac crate directly, with the
        // message spelled out: 4, then 203.0.113.
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&[4, 203, 0, 113]);
        let digest = mac.finalize().into_bytes();
        let expected: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hint("203.0.113.9"), format!("k1:{expected}"));
        assert_eq!(hint("203.0.113.9").len(), 3 + HINT_HEX_LEN);
    }

    #[test]
    fn a_malformed_address_has_no_hint_and_no_panic() {
        for bad in [
            "",
            "203.0.113",
            "203.0.113.256",
            "203.0.113.9:443",
            "[2001:db8::1]",
            "2001:db8::1%eth0",
            "not an ip",
            "203.0.113.9\n",
            "١٢٣.0.0.1",
        ] {
            assert_eq!(
                key("k1", SECRET).hint(bad),
                Err(NoHint::MalformedClientIp),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_hint_never_contains_the_address() {
        for ip in ["203.0.113.9", "2001:db8:1::1", "::ffff:198.51.100.7"] {
            let hint = hint(ip);
            assert!(!hint.contains(ip) && !hint.contains("203.0") && !hint.contains("2001"));
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", key("k1", SECRET)).contains(SECRET));
    }

    #[test]
    fn hints_parse_back_only_in_their_own_shape() {
        let parsed: NetworkHint =
            serde_json::from_str(&format!("\"{}\"", hint("1.2.3.4"))).unwrap();
        assert_eq!(parsed.key_id(), "k1");
        for bad in [
            "\"k1:xyz\"",
            "\"nohash\"",
            "\"k1:0123456789ABCDEF\"",
            "\"a b:0123456789abcdef\"",
        ] {
            assert!(serde_json::from_str::<NetworkHint>(bad).is_err(), "{bad}");
        }
    }
}
