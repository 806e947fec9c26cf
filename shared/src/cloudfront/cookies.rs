//! Signed cookies: the same signature carried in `CloudFront-*` cookies, one
//! `Set-Cookie` header each, scoped by `Path` to one title so a browser only
//! ever presents them for that title's playlist and segments.

use std::fmt::Write as _;

use super::{Policy, SignError, base64};
use crate::crypto::{PolicyHash, PolicySigner};
use crate::ids::KeyPairId;

pub const POLICY: &str = "CloudFront-Policy";
pub const EXPIRES: &str = "CloudFront-Expires";
pub const SIGNATURE: &str = "CloudFront-Signature";
pub const KEY_PAIR_ID: &str = "CloudFront-Key-Pair-Id";
pub const HASH_ALGORITHM: &str = "CloudFront-Hash-Algorithm";

/// Every cookie name reelgate may set; all of them are cleared on sign-out.
const ALL_NAMES: [&str; 5] = [POLICY, EXPIRES, SIGNATURE, KEY_PAIR_ID, HASH_ALGORITHM];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SameSite {
    Strict,
    #[default]
    Lax,
    /// Cross-site players; browsers require `Secure` with it, which is always set.
    None,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    #[error("cookie path must start with '/' and hold only URL path characters")]
    BadPath,
    #[error("cookie domain must be a host name")]
    BadDomain,
}

/// Attributes shared by the cookies of one set. `Secure` and `HttpOnly` are
/// not optional: the cookies are bearer credentials for the title.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CookieAttributes {
    path: String,
    domain: Option<String>,
    same_site: SameSite,
    max_age: Option<u64>,
}

impl CookieAttributes {
    /// Checked here so that no configured value can inject another attribute
    /// (`;`) or header (CR/LF) into `Set-Cookie`.
    pub fn new(path: impl Into<String>, same_site: SameSite) -> Result<Self, CookieError> {
        let path = path.into();
        let path_ok = path.starts_with('/')
            && path.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~' | b'%')
            });
        if !path_ok {
            return Err(CookieError::BadPath);
        }
        Ok(Self {
            path,
            domain: None,
            same_site,
            max_age: None,
        })
    }

    pub fn with_domain(mut self, domain: impl Into<String>) -> Result<Self, CookieError> {
        let domain = domain.into();
        let domain_ok = !domain.is_empty()
            && domain.len() <= 253
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
        if !domain_ok {
            return Err(CookieError::BadDomain);
        }
        self.domain = Some(domain);
        Ok(self)
    }

    pub fn with_max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// One `Set-Cookie` value, built in one allocation: the edge writes three
    /// of these for every grant.
    fn header(&self, name: &str, value: &str, max_age: Option<u64>) -> String {
        // Besides the name, value, path and domain, the attributes add at most ~120 bytes.
        let domain_len = self.domain.as_ref().map_or(0, String::len);
        let mut header =
            String::with_capacity(name.len() + value.len() + self.path.len() + domain_len + 128);
        for part in [name, "=", value, "; Path=", &self.path] {
            header.push_str(part);
        }
        if let Some(domain) = &self.domain {
            header.push_str("; Domain=");
            header.push_str(domain);
        }
        if let Some(age) = max_age {
            // Writing to a String cannot fail.
            let _ = write!(header, "; Max-Age={age}");
        }
        if max_age == Some(0) {
            header.push_str("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        }
        header.push_str("; Secure; HttpOnly; SameSite=");
        header.push_str(self.same_site.as_str());
        header
    }
}

/// The values of one signed cookie set, already in CloudFront's base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCookies {
    /// `CloudFront-Policy` (custom) or `CloudFront-Expires` (canned).
    policy: (&'static str, String),
    signature: String,
    key_pair_id: KeyPairId,
    hash: PolicyHash,
}

/// Signs `policy` once; the result can be handed to any number of viewers
/// of the same title and expiry, which is what makes the edge's cookie cache work.
pub fn sign_cookies(
    policy: &Policy,
    key_pair_id: &KeyPairId,
    hash: PolicyHash,
    signer: &dyn PolicySigner,
) -> Result<SignedCookies, SignError> {
    let json = policy.to_json();
    let signature = base64::encode(&signer.sign_policy(json.as_bytes(), hash)?);
    let policy = if policy.is_canned() {
        (EXPIRES, policy.expires().to_string())
    } else {
        (POLICY, base64::encode(json.as_bytes()))
    };
    Ok(SignedCookies {
        policy,
        signature,
        key_pair_id: key_pair_id.clone(),
        hash,
    })
}

impl SignedCookies {
    /// `(name, value)` pairs in the order they are set.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![
            (self.policy.0, self.policy.1.as_str()),
            (SIGNATURE, self.signature.as_str()),
            (KEY_PAIR_ID, self.key_pair_id.as_str()),
        ];
        if let Some(algorithm) = self.hash.announced() {
            pairs.push((HASH_ALGORITHM, algorithm));
        }
        pairs
    }

    pub fn set_cookie_headers(&self, attributes: &CookieAttributes) -> Vec<String> {
        self.pairs()
            .into_iter()
            .map(|(name, value)| attributes.header(name, value, attributes.max_age))
            .collect()
    }
}

/// Headers that delete every reelgate cookie at `attributes`' path and domain
/// (a browser matches a deletion on name, path and domain).
pub fn expired_cookie_headers(attributes: &CookieAttributes) -> Vec<String> {
    ALL_NAMES
        .iter()
        .map(|name| attributes.header(name, "", Some(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CryptoError;
    use crate::time::EpochSeconds;

    /// A signer whose output is the policy's length: enough to check layout.
    struct LengthSigner;
    impl PolicySigner for LengthSigner {
        fn sign_policy(&self, policy: &[u8], _: PolicyHash) -> Result<Vec<u8>, CryptoError> {
            Ok(policy.len().to_be_bytes().to_vec())
        }
    }

    fn key() -> KeyPairId {
        KeyPairId::parse("K2EXAMPLE").unwrap()
    }

    #[test]
    fn custom_policy_cookies_carry_policy_signature_and_key() {
        let policy = Policy::custom("https://d.net/videos/demo/*", EpochSeconds::new(300)).unwrap();
        let cookies = sign_cookies(&policy, &key(), PolicyHash::Sha1, &LengthSigner).unwrap();
        let names: Vec<_> = cookies.pairs().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, [POLICY, SIGNATURE, KEY_PAIR_ID]);
        let attributes = CookieAttributes::new("/videos/demo/", SameSite::Lax)
            .unwrap()
            .with_domain("example.com")
            .unwrap()
            .with_max_age(300);
        let headers = cookies.set_cookie_headers(&attributes);
        assert_eq!(headers.len(), 3);
        assert_eq!(
            headers[2],
            "CloudFront-Key-Pair-Id=K2EXAMPLE; Path=/videos/demo/; Domain=example.com; Max-Age=300; Secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn sha256_adds_the_hash_algorithm_cookie_and_canned_uses_expires() {
        let policy = Policy::canned("https://d.net/a", EpochSeconds::new(300));
        let cookies = sign_cookies(&policy, &key(), PolicyHash::Sha256, &LengthSigner).unwrap();
        let pairs = cookies.pairs();
        assert_eq!(pairs[0], (EXPIRES, "300"));
        assert_eq!(pairs[3], (HASH_ALGORITHM, "SHA256"));
    }

    #[test]
    fn expiring_clears_every_name_at_the_same_path() {
        let attributes = CookieAttributes::new("/videos/demo/", SameSite::Strict).unwrap();
        let headers = expired_cookie_headers(&attributes);
        assert_eq!(headers.len(), ALL_NAMES.len());
        assert!(
            headers
                .iter()
                .all(|h| h.contains("Path=/videos/demo/; Max-Age=0; Expires=Thu, 01 Jan 1970"))
        );
    }

    #[test]
    fn attributes_cannot_inject() {
        assert_eq!(
            CookieAttributes::new("/a; Domain=evil", SameSite::Lax),
            Err(CookieError::BadPath)
        );
        assert_eq!(
            CookieAttributes::new("videos/", SameSite::Lax),
            Err(CookieError::BadPath)
        );
        let ok = CookieAttributes::new("/", SameSite::Lax).unwrap();
        assert_eq!(ok.with_domain("a.com\r\nX: y"), Err(CookieError::BadDomain));
    }
}
