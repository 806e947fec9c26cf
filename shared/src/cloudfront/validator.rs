//! Decides a request the way CloudFront's trusted key group does, so the
//! local emulator and the tests refuse exactly what production refuses.
//!
//! Semantics (AWS "Creating a signed URL using a custom policy" and the
//! signed-cookie pages), made precise where the docs are loose:
//! - signed-URL parameters win over cookies when a request carries any;
//! - the signature is checked before any condition, so an attacker learns
//!   nothing about a policy they could not have signed;
//! - `DateLessThan` is exclusive (`now < expires`), `DateGreaterThan` is
//!   exclusive (`now > starts`), both in whole epoch seconds;
//! - `AWS:SourceIp` is an IPv4 range, so an IPv6 or unknown client never matches;
//! - the resource is the request URL without CloudFront's own query
//!   parameters, matched against the policy `Resource` with `*` and `?`.

use std::net::IpAddr;

use super::cookies::{EXPIRES, HASH_ALGORITHM, KEY_PAIR_ID, POLICY, SIGNATURE};
use super::{Policy, base64, wildcard};
use crate::crypto::{CryptoError, PolicyHash, PolicyVerifier};
use crate::ids::KeyPairId;
use crate::time::EpochSeconds;

const URL_PARAMS: [&str; 5] = [
    "Expires",
    "Policy",
    "Signature",
    "Key-Pair-Id",
    "Hash-Algorithm",
];

/// Why CloudFront answers 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Denial {
    #[error("no Key-Pair-Id in the query or cookies")]
    MissingKey,
    #[error("no signature in the query or cookies")]
    MissingSignature,
    #[error("neither Expires nor Policy in the query or cookies")]
    MissingPolicy,
    #[error("a CloudFront parameter appears twice, or both Expires and Policy are present")]
    Ambiguous,
    #[error("the policy is not CloudFront base64 of a valid policy document")]
    MalformedPolicy,
    #[error("Expires is not an epoch time")]
    MalformedExpires,
    #[error("the signature is not CloudFront base64")]
    MalformedSignature,
    #[error("the hash algorithm is neither SHA1 nor SHA256")]
    UnsupportedHash,
    #[error("the key pair id is not in the trusted key group")]
    UnknownKey,
    #[error("the signature does not match the policy")]
    BadSignature,
    #[error("the policy has expired")]
    Expired,
    #[error("the policy is not valid yet")]
    NotYetValid,
    #[error("the client address is outside the policy's range")]
    IpNotAllowed,
    #[error("the request URL does not match the policy resource")]
    ResourceMismatch,
}

impl Denial {
    /// A stable, machine-readable name for logs, tests and the CLI.
    pub fn reason(self) -> &'static str {
        match self {
            Self::MissingKey => "MissingKey",
            Self::MissingSignature => "MissingSignature",
            Self::MissingPolicy => "MissingPolicy",
            Self::Ambiguous => "AmbiguousParameters",
            Self::MalformedPolicy => "MalformedPolicy",
            Self::MalformedExpires => "MalformedExpires",
            Self::MalformedSignature => "MalformedSignature",
            Self::UnsupportedHash => "UnsupportedHashAlgorithm",
            Self::UnknownKey => "UnknownKey",
            Self::BadSignature => "BadSignature",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::IpNotAllowed => "IpNotAllowed",
            Self::ResourceMismatch => "ResourceMismatch",
        }
    }

    /// The `<Code>` and `<Message>` of CloudFront's XML 403 body. CloudFront
    /// deliberately says little ("Access denied") once a key is found; the
    /// specific [`reason`](Self::reason) is for our own logs.
    pub fn cloudfront_error(self) -> (&'static str, &'static str) {
        match self {
            Self::MissingKey => (
                "MissingKey",
                "Missing Key-Pair-Id query parameter or cookie value",
            ),
            Self::UnknownKey => ("InvalidKey", "Unknown Key"),
            Self::MalformedPolicy | Self::MalformedExpires | Self::Ambiguous => {
                ("MalformedPolicy", "Malformed Policy")
            }
            Self::MissingPolicy | Self::MissingSignature | Self::MalformedSignature => {
                ("MalformedSignature", "Could not unencode Signature")
            }
            _ => ("AccessDenied", "Access denied"),
        }
    }

    /// The body CloudFront sends with the 403.
    pub fn xml_body(self) -> String {
        let (code, message) = self.cloudfront_error();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )
    }
}

/// What a successful check proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub key_pair_id: KeyPairId,
    pub policy: Policy,
}

/// The request being decided. `url` is absolute (`https://host/path?query`),
/// as CloudFront sees it; `cookie_header` is the raw `Cookie` header, if any.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub url: &'a str,
    pub cookie_header: Option<&'a str>,
    pub client_ip: Option<IpAddr>,
    pub now: EpochSeconds,
}

/// Decides `request` with signed-URL parameters if it has any, else cookies.
pub fn validate(request: &Request<'_>, keys: &dyn PolicyVerifier) -> Result<Access, Denial> {
    let (resource, url_params) = split_cloudfront_params(request.url);
    let credentials = if url_params.is_empty() {
        Credentials::from_cookies(request.cookie_header.unwrap_or(""))?
    } else {
        Credentials::from_pairs(url_params.iter().map(|(n, v)| (*n, v.as_str())), &URL_NAMES)?
    };
    credentials.check(&resource, request, keys)
}

/// Names of the five credentials, in the URL or cookie vocabulary.
struct Names {
    expires: &'static str,
    policy: &'static str,
    signature: &'static str,
    key_pair_id: &'static str,
    hash: &'static str,
}

const URL_NAMES: Names = Names {
    expires: "Expires",
    policy: "Policy",
    signature: "Signature",
    key_pair_id: "Key-Pair-Id",
    hash: "Hash-Algorithm",
};

const COOKIE_NAMES: Names = Names {
    expires: EXPIRES,
    policy: POLICY,
    signature: SIGNATURE,
    key_pair_id: KEY_PAIR_ID,
    hash: HASH_ALGORITHM,
};

#[derive(Default)]
struct Credentials {
    expires: Option<String>,
    policy: Option<String>,
    signature: Option<String>,
    key_pair_id: Option<String>,
    hash: Option<String>,
}

impl Credentials {
    /// A browser may hold the same cookie name for several paths and sends
    /// the most specific path first; like CloudFront, use the first one.
    fn from_cookies(header: &str) -> Result<Self, Denial> {
        let mut credentials = Self::default();
        for (name, value) in header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
        {
            if let Some(slot) = credentials.slot(&COOKIE_NAMES, name.trim()) {
                slot.get_or_insert_with(|| value.trim().trim_matches('"').to_owned());
            }
        }
        Ok(credentials)
    }

    /// Query parameters must appear once each: a duplicate would let a
    /// proxy and CloudFront disagree about which one was signed.
    fn from_pairs<'a>(
        pairs: impl Iterator<Item = (&'a str, &'a str)>,
        names: &Names,
    ) -> Result<Self, Denial> {
        let mut credentials = Self::default();
        for (name, value) in pairs {
            if let Some(slot) = credentials.slot(names, name)
                && slot.replace(value.to_owned()).is_some()
            {
                return Err(Denial::Ambiguous);
            }
        }
        Ok(credentials)
    }

    fn slot(&mut self, names: &Names, name: &str) -> Option<&mut Option<String>> {
        match name {
            n if n == names.expires => Some(&mut self.expires),
            n if n == names.policy => Some(&mut self.policy),
            n if n == names.signature => Some(&mut self.signature),
            n if n == names.key_pair_id => Some(&mut self.key_pair_id),
            n if n == names.hash => Some(&mut self.hash),
            _ => None,
        }
    }

    fn check(
        self,
        resource: &str,
        request: &Request<'_>,
        keys: &dyn PolicyVerifier,
    ) -> Result<Access, Denial> {
        let key_pair_id = self.key_pair_id.ok_or(Denial::MissingKey)?;
        let key_pair_id = KeyPairId::parse(&key_pair_id).map_err(|_| Denial::UnknownKey)?;
        let signature = self.signature.ok_or(Denial::MissingSignature)?;
        let signature = base64::decode(&signature).map_err(|_| Denial::MalformedSignature)?;
        let hash = match self.hash.as_deref() {
            None | Some("SHA1") => PolicyHash::Sha1,
            Some("SHA256") => PolicyHash::Sha256,
            Some(_) => return Err(Denial::UnsupportedHash),
        };
        let (document, policy) = match (self.expires, self.policy) {
            (Some(_), Some(_)) => return Err(Denial::Ambiguous),
            (None, None) => return Err(Denial::MissingPolicy),
            (Some(expires), None) => {
                let expires = expires
                    .parse::<u64>()
                    .map_err(|_| Denial::MalformedExpires)?;
                let policy = Policy::canned(resource, EpochSeconds::new(expires));
                (policy.to_json().into_bytes(), policy)
            }
            (None, Some(encoded)) => {
                let document = base64::decode(&encoded).map_err(|_| Denial::MalformedPolicy)?;
                let text = std::str::from_utf8(&document).map_err(|_| Denial::MalformedPolicy)?;
                let policy = Policy::from_json(text).map_err(|_| Denial::MalformedPolicy)?;
                (document, policy)
            }
        };
        keys.verify_policy(&key_pair_id, &document, &signature, hash)
            .map_err(|e| match e {
                CryptoError::UnknownKeyPairId(_) => Denial::UnknownKey,
                _ => Denial::BadSignature,
            })?;
        if request.now >= policy.expires() {
            return Err(Denial::Expired);
        }
        if policy.starts().is_some_and(|starts| request.now <= starts) {
            return Err(Denial::NotYetValid);
        }
        if let Some(range) = policy.source_ip()
            && !request.client_ip.is_some_and(|ip| range.contains(ip))
        {
            return Err(Denial::IpNotAllowed);
        }
        if !wildcard::matches(policy.resource(), resource) {
            return Err(Denial::ResourceMismatch);
        }
        Ok(Access {
            key_pair_id,
            policy,
        })
    }
}

/// Splits `url` into the resource CloudFront compares (the URL with its own
/// parameters removed, other parameters kept in order) and those parameters,
/// percent-decoded.
fn split_cloudfront_params(url: &str) -> (String, Vec<(&'static str, String)>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut ours = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match URL_PARAMS.iter().find(|known| **known == name) {
            Some(known) => ours.push((*known, percent_decode(value))),
            None => kept.push(pair),
        }
    }
    let resource = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (resource, ours)
}

/// Decodes `%XX` escapes; anything malformed is kept verbatim and will fail
/// the base64 or signature check later, which is the honest outcome.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudfront_params_are_removed_and_others_kept_in_order() {
        let (resource, params) = split_cloudfront_params(
            "https://d.net/v/a.ts?b=1&Expires=5&a=2&Signature=x%7Ey&Key-Pair-Id=K1",
        );
        assert_eq!(resource, "https://d.net/v/a.ts?b=1&a=2");
        assert_eq!(
            params,
            vec![
                ("Expires", "5".to_owned()),
                ("Signature", "x~y".to_owned()),
                ("Key-Pair-Id", "K1".to_owned())
            ]
        );
    }

    #[test]
    fn a_url_with_only_cloudfront_params_loses_its_question_mark() {
        let (resource, _) = split_cloudfront_params("https://d.net/a?Expires=5");
        assert_eq!(resource, "https://d.net/a");
    }

    #[test]
    fn malformed_percent_escapes_are_kept_verbatim() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn duplicated_url_parameters_are_ambiguous() {
        let pairs = [("Expires", "1"), ("Expires", "2")];
        assert!(matches!(
            Credentials::from_pairs(pairs.into_iter(), &URL_NAMES),
            Err(Denial::Ambiguous)
        ));
    }

    #[test]
    fn every_denial_has_a_distinct_reason() {
        use std::collections::HashSet;
        let all = [
            Denial::MissingKey,
            Denial::MissingSignature,
            Denial::MissingPolicy,
            Denial::Ambiguous,
            Denial::MalformedPolicy,
            Denial::MalformedExpires,
            Denial::MalformedSignature,
            Denial::UnsupportedHash,
            Denial::UnknownKey,
            Denial::BadSignature,
            Denial::Expired,
            Denial::NotYetValid,
            Denial::IpNotAllowed,
            Denial::ResourceMismatch,
        ];
        let reasons: HashSet<_> = all.iter().map(|d| d.reason()).collect();
        assert_eq!(reasons.len(), all.len());
        assert!(
            Denial::Expired
                .xml_body()
                .contains("<Code>AccessDenied</Code>")
        );
    }
}
