//! CloudFront signed URLs and signed cookies (ARCHITECTURE §4): the policy
//! documents, CloudFront's base64 variant, the signer, and a validator that
//! decides as CloudFront's trusted key group does. No library does this well
//! for Rust, and the edge signs on every cache miss, so it lives here.

pub mod base64;
mod cidr;
mod cookies;
mod policy;
mod signed_url;
pub mod validator;
mod wildcard;

pub use cidr::{CidrError, Ipv4Cidr};
pub use cookies::{
    CookieAttributes, CookieError, SameSite, SignedCookies, expired_cookie_headers, sign_cookies,
};
pub use policy::{Policy, PolicyError};
pub use signed_url::sign_url;
pub use wildcard::matches as resource_matches;

use crate::crypto::CryptoError;

/// Why a URL or cookie set could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("URL must start with http:// or https:// and have no fragment")]
    UnsupportedUrl,
    #[error("a canned policy's resource must be the URL being signed")]
    CannedResourceMismatch,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}
