//! Signed URLs: the policy's signature appended to the URL's own query.

use super::{Policy, SignError, base64};
use crate::crypto::{PolicyHash, PolicySigner};
use crate::ids::KeyPairId;

/// Whether `url` is something CloudFront serves: http(s), no fragment (a
/// fragment never reaches CloudFront, so the signature would not match).
pub(crate) fn is_signable_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://")) && !url.contains('#')
}

/// Appends `Expires` (canned) or `Policy` (custom), `Signature`,
/// `Key-Pair-Id` and, for SHA-256, `Hash-Algorithm` to `url`, keeping its
/// query string. A canned policy must be for `url` itself.
pub fn sign_url(
    url: &str,
    policy: &Policy,
    key_pair_id: &KeyPairId,
    hash: PolicyHash,
    signer: &dyn PolicySigner,
) -> Result<String, SignError> {
    if !is_signable_url(url) {
        return Err(SignError::UnsupportedUrl);
    }
    if policy.is_canned() && policy.resource() != url {
        return Err(SignError::CannedResourceMismatch);
    }
    let json = policy.to_json();
    let signature = base64::encode(&signer.sign_policy(json.as_bytes(), hash)?);
    let separator = if url.contains('?') { '&' } else { '?' };
    let mut signed = if policy.is_canned() {
        format!("{url}{separator}Expires={}", policy.expires())
    } else {
        format!("{url}{separator}Policy={}", base64::encode(json.as_bytes()))
    };
    signed.push_str(&format!("&Signature={signature}&Key-Pair-Id={key_pair_id}"));
    if let Some(algorithm) = hash.announced() {
        signed.push_str(&format!("&Hash-Algorithm={algorithm}"));
    }
    Ok(signed)
}
