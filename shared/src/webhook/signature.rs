//! The `t=<epoch>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` signature
//! of a webhook delivery: Stripe's `Stripe-Signature` scheme, which the
//! generic `Reelgate-Signature` header follows too. Signing the timestamp
//! with the body stops replays of old deliveries beyond the tolerance;
//! idempotency on the event id stops the rest.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::time::EpochSeconds;

/// How far a delivery's timestamp may be from now, either way (Stripe's
/// libraries default to the same 300 s).
pub const TOLERANCE_SECS: u64 = 300;

/// Headers longer than this are refused before any work: Stripe sends one
/// timestamp and a few signatures (one per active secret), well under 1 KB.
pub const MAX_HEADER_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signature header")]
    Missing,
    #[error("signature header is not t=<epoch>,v1=<64 hex digits>[,v1=…]")]
    Malformed,
    #[error("signature timestamp is more than 5 minutes from now")]
    Stale,
    #[error("signature does not match the body")]
    Mismatch,
}

impl SignatureError {
    /// The stable `reason` of the API's problem document.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "signature_missing",
            Self::Malformed => "signature_malformed",
            Self::Stale => "signature_expired",
            Self::Mismatch => "signature_invalid",
        }
    }
}

fn mac(secret: &[u8], timestamp: u64, body: &[u8]) -> hmac::Hmac<Sha256> {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value a provider would send (the local stack's simulated
/// providers and tests sign with it).
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let digest = hex::encode(mac(secret, timestamp, body).finalize().into_bytes());
    format!("t={timestamp},v1={digest}")
}

/// Accepts the delivery if any `v1` matches (Stripe sends one per active
/// secret while an endpoint's secret is rolled). Other schemes (`v0`, future
/// ones) are skipped, as Stripe's libraries do. Each comparison is
/// constant-time (`Mac::verify_slice`).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &[u8],
    now: EpochSeconds,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    if header.len() > MAX_HEADER_BYTES {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) if timestamp.is_none() => {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(SignatureError::Malformed);
                }
                timestamp = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| SignatureError::Malformed)?,
                );
            }
            Some(("t", _)) => return Err(SignatureError::Malformed),
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
    let expected = mac(secret, timestamp, body);
    signatures
        .iter()
        .any(|signature| expected.clone().verify_slice(signature).is_ok())
        .then_some(())
        .ok_or(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;
    const NOW: u64 = 1_800_000_000;

    fn now() -> EpochSeconds {
        EpochSeconds::new(NOW)
    }

    /// An independent HMAC (the `hmac` crate's reference use) so `sign` is
    /// not only checked against itself.
    fn reference(secret: &[u8], t: u64, body: &[u8]) -> String {
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        assert_eq!(sign(SECRET, NOW, BODY), reference(SECRET, NOW, BODY));
        // Stripe's documented example shape: 64 lowercase hex digits.
        let header = sign(b"whsec_x", 1, b"");
        assert!(header.starts_with("t=1,v1="));
        assert_eq!(header.len(), "t=1,v1=".len() + 64);
    }

    #[test]
    fn a_fresh_signature_verifies_and_any_change_breaks_it() {
        let header = sign(SECRET, NOW, BODY);
        assert_eq!(verify(Some(&header), BODY, SECRET, now()), Ok(()));
        assert_eq!(
            verify(Some(&header), b"{}", SECRET, now()),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), BODY, b"other", now()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_tolerance_is_five_minutes_either_way() {
        for (t, ok) in [
            (NOW - 300, true),
            (NOW + 300, true),
            (NOW - 301, false),
            (NOW + 301, false),
        ] {
            let result = verify(Some(&sign(SECRET, t, BODY)), BODY, SECRET, now());
            assert_eq!(result.is_ok(), ok, "t={t}");
            if !ok {
                assert_eq!(result, Err(SignatureError::Stale));
            }
        }
    }

    #[test]
    fn malformed_headers_are_named() {
        for header in [
            "",
            "t=1",
            "v1=00",
            "t=x,v1=00",
            "t=+1,v1=00",
            "garbage",
            &format!("t=1,v1={}", "zz".repeat(32)),
            &format!("t=1,t=2,v1={}", "00".repeat(32)),
            &"t=1,".repeat(2000),
        ] {
            assert_eq!(
                verify(Some(header), BODY, SECRET, now()),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
        assert_eq!(
            verify(None, BODY, SECRET, now()),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn any_v1_may_match_and_other_schemes_are_skipped() {
        let old = sign(b"old", NOW, BODY);
        let new = sign(SECRET, NOW, BODY);
        let new_v1 = new.split(',').nth(1).unwrap();
        let old_v1 = old.split(',').nth(1).unwrap();
        for header in [
            format!("{old},{new_v1}"),
            format!("t={NOW},{new_v1},{old_v1}"),
            format!("t={NOW},v0={},{new_v1}", "ab".repeat(32)),
            format!(" t={NOW} , {new_v1} "),
        ] {
            assert_eq!(
                verify(Some(&header), BODY, SECRET, now()),
                Ok(()),
                "{header}"
            );
        }
        assert_eq!(
            verify(Some(&old), BODY, SECRET, now()),
            Err(SignatureError::Mismatch)
        );
    }

    proptest! {
        /// Whatever the secret, body and time within the tolerance, a
        /// signature verifies, and flipping any one body byte breaks it.
        #[test]
        fn signed_bodies_verify_and_tampered_ones_do_not(
            secret in proptest::collection::vec(any::<u8>(), 0..80),
            body in proptest::collection::vec(any::<u8>(), 1..300),
            skew in -300i64..=300,
            flip in any::<proptest::sample::Index>(),
        ) {
            let t = NOW.checked_add_signed(skew).unwrap();
            let header = sign(&secret, t, &body);
            prop_assert_eq!(verify(Some(&header), &body, &secret, now()), Ok(()));
            let mut tampered = body.clone();
            let at = flip.index(tampered.len());
            tampered[at] ^= 0x01;
            prop_assert_eq!(
                verify(Some(&header), &tampered, &secret, now()),
                Err(SignatureError::Mismatch)
            );
        }

        /// No header, however odd, panics; only a correct one verifies.
        #[test]
        fn arbitrary_headers_never_panic(header in ".{0,200}") {
            let result = verify(Some(&header), BODY, SECRET, now());
            prop_assert!(result.is_err());
        }
    }
}
