//! JWS signature checks for Cognito tokens: RS256 with an RSA JWK, ES256
//! with a P-256 JWK. The JWT rules (alg, kid, claims) live in `crate::jwt`;
//! this only answers "did this key sign these bytes".

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa;
use p256::ecdsa::signature::Verifier;
use rsa::BoxedUint;
use sha2::Sha256;

use super::NativeCrypto;
use crate::crypto::{CryptoError, JwsAlgorithm, JwsVerifier};
use crate::jwt::Jwk;

fn component(value: Option<&String>, name: &'static str) -> Result<Vec<u8>, CryptoError> {
    value
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .filter(|bytes| !bytes.is_empty())
        .ok_or(CryptoError::UnusableKey(name))
}

fn rsa_key(jwk: &Jwk) -> Result<rsa::PublicKey, CryptoError> {
    if jwk.kty != "RSA" {
        return Err(CryptoError::UnusableKey("RS256 needs an RSA key"));
    }
    let n = BoxedUint::from_be_slice_vartime(&component(jwk.n.as_ref(), "RSA modulus n")?);
    let e = BoxedUint::from_be_slice_vartime(&component(jwk.e.as_ref(), "RSA exponent e")?);
    rsa::PublicKey::new(n, e).map_err(|_| CryptoError::UnusableKey("RSA key out of bounds"))
}

fn p256_key(jwk: &Jwk) -> Result<ecdsa::VerifyingKey, CryptoError> {
    if jwk.kty != "EC" || jwk.crv.as_deref() != Some("P-256") {
        return Err(CryptoError::UnusableKey("ES256 needs a P-256 EC key"));
    }
    let x = component(jwk.x.as_ref(), "EC x")?;
    let y = component(jwk.y.as_ref(), "EC y")?;
    if x.len() != 32 || y.len() != 32 {
        return Err(CryptoError::UnusableKey("EC coordinates must be 32 bytes"));
    }
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(0x04);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
        .map_err(|_| CryptoError::UnusableKey("EC point not on P-256"))
}

impl JwsVerifier for NativeCrypto {
    fn verify_jws(
        &self,
        alg: JwsAlgorithm,
        key: &Jwk,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let verified = match alg {
            JwsAlgorithm::Rs256 => rsa_key(key)?
                .pkcs1v15_verify::<Sha256>(signing_input, signature)
                .is_ok(),
            // JWS carries ES256 as raw r||s (RFC 7518 §3.4), not DER.
            JwsAlgorithm::Es256 => ecdsa::Signature::from_slice(signature).is_ok_and(|sig| {
                p256_key(key).is_ok_and(|k| k.verify(signing_input, &sig).is_ok())
            }),
        };
        verified.then_some(()).ok_or(CryptoError::BadSignature)
    }
}
