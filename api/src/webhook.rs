//! The payment provider's webhook signature:
//! `Reelgate-Signature: t=<epoch>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
//! Signing the timestamp with the body stops replays of old deliveries
//! beyond the tolerance; idempotency on `event_id` stops the rest.

use hmac::{KeyInit, Mac};
use reelgate_shared::EpochSeconds;
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "reelgate-signature";
/// How far a delivery's timestamp may be from now, either way.
pub const TOLERANCE_SECS: u64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Reelgate-Signature header")]
    Missing,
    #[error("Reelgate-Signature is not t=<epoch>,v1=<64 hex digits>")]
    Malformed,
    #[error("signature timestamp is more than 5 minutes from now")]
    Stale,
    #[error("signature does not match the body")]
    Mismatch,
}

impl SignatureError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "signature_missing",
            Self::Malformed => "signature_malformed",
            Self::Stale => "signature_expired",
            Self::Mismatch => "signature_invalid",
        }
    }
}

fn mac(secret: &[u8], timestamp: u64, body: &[u8]) -> Result<hmac::Hmac<Sha256>, SignatureError> {
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The header value a provider would send (used by the local stack's
/// simulated provider and by tests).
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={timestamp},v1={digest}")
}

/// Accepts the delivery if any `v1` matches (providers send several while
/// rotating secrets). The comparison is constant-time (`Mac::verify_slice`).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &[u8],
    now: EpochSeconds,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) if timestamp.is_none() => {
                timestamp = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| SignatureError::Malformed)?,
                );
            }
            Some(("v1", value)) if value.len() == 64 => {
                signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?);
            }
            Some(("v1", _)) => return Err(SignatureError::Malformed),
            Some((_, _)) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.get().abs_diff(timestamp) > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, body)?;
    signatures
        .iter()
        .any(|signature| expected.clone().verify_slice(signature).is_ok())
        .then_some(())
        .ok_or(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"event_id":"e1"}"#;

    #[test]
    fn a_fresh_signature_verifies_and_any_change_breaks_it() {
        let now = EpochSeconds::new(1_800_000_000);
        let header = sign(SECRET, now.get(), BODY);
        assert_eq!(verify(Some(&header), BODY, SECRET, now), Ok(()));
        assert_eq!(
            verify(Some(&header), b"{}", SECRET, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), BODY, b"other", now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_tolerance_is_five_minutes_either_way() {
        let now = EpochSeconds::new(1_800_000_000);
        assert_eq!(
            verify(
                Some(&sign(SECRET, now.get() - 300, BODY)),
                BODY,
                SECRET,
                now
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                Some(&sign(SECRET, now.get() - 301, BODY)),
                BODY,
                SECRET,
                now
            ),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(
                Some(&sign(SECRET, now.get() + 301, BODY)),
                BODY,
                SECRET,
                now
            ),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn malformed_headers_are_named() {
        let now = EpochSeconds::new(1);
        for header in [
            "",
            "t=1",
            "v1=00",
            "t=x,v1=00",
            "garbage",
            &format!("t=1,v1={}", "zz".repeat(32)),
        ] {
            assert_eq!(
                verify(Some(header), BODY, SECRET, now),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
        assert_eq!(
            verify(None, BODY, SECRET, now),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn a_second_v1_allows_secret_rotation() {
        let now = EpochSeconds::new(1_800_000_000);
        let old = sign(b"old", now.get(), BODY);
        let new = sign(SECRET, now.get(), BODY);
        let header = format!("{old},{}", new.split(',').nth(1).unwrap());
        assert_eq!(verify(Some(&header), BODY, SECRET, now), Ok(()));
    }
}
