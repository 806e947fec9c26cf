//! What the fuzz targets share: a test crypto provider, so the fuzzer gets
//! past signature checks to the rules behind them, and the fixed keys,
//! clock and configs the targets run against.
//!
//! The provider accepts a signature exactly when it is [`GOOD_SIGNATURE`]:
//! inputs carrying it reach the claim, policy and entitlement rules, and
//! every other input exercises the refusal paths. Real RSA/ECDSA is tested
//! elsewhere (shared/tests, the AWS vectors, the OpenSSL differential tests).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reelgate_shared::KeyPairId;
use reelgate_shared::crypto::{
    CryptoError, JwsAlgorithm, JwsVerifier, KeyRing, KeySlot, PolicyHash, PolicySigner,
    PolicyVerifier,
};
use reelgate_shared::jwt::Jwk;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;

/// The one signature the test provider accepts (JWS and CloudFront policy).
pub const GOOD_SIGNATURE: &[u8] = b"fuzz-ok";
/// The fixed clock of every target: 2027-01-15.
pub const NOW: u64 = 1_800_000_000;
pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Fuzz";
pub const CLIENT: &str = "fuzzclient";
pub const KID: &str = "fuzz-1";
/// An RSA-2048 test key (the repository's throwaway one): its public half is
/// the JWKS entry, so the JWK parser accepts it.
pub const IDP_KEY: &str = include_str!("../../shared/tests/keys/rsa2048.pkcs8.pem");
/// A P-256 test key, for configs that need a signing key.
pub const SIGNING_KEY: &str = include_str!("../../shared/tests/keys/p256.pkcs8.pem");

pub struct FuzzCrypto;

impl JwsVerifier for FuzzCrypto {
    fn verify_jws(
        &self,
        _: JwsAlgorithm,
        _: &Jwk,
        _: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        accept(signature)
    }
}

impl PolicyVerifier for FuzzCrypto {
    fn verify_policy(
        &self,
        _: &KeyPairId,
        _: &[u8],
        signature: &[u8],
        _: PolicyHash,
    ) -> Result<(), CryptoError> {
        accept(signature)
    }
}

impl PolicySigner for FuzzCrypto {
    fn sign_policy(&self, _: &[u8], _: PolicyHash) -> Result<Vec<u8>, CryptoError> {
        Ok(GOOD_SIGNATURE.to_vec())
    }
}

impl KeyRing for FuzzCrypto {
    fn sign_policy_in(
        &self,
        _: KeySlot,
        policy: &[u8],
        hash: PolicyHash,
    ) -> Result<Vec<u8>, CryptoError> {
        self.sign_policy(policy, hash)
    }
}

fn accept(signature: &[u8]) -> Result<(), CryptoError> {
    if signature == GOOD_SIGNATURE {
        Ok(())
    } else {
        Err(CryptoError::BadSignature)
    }
}

/// The JWKS document (one RSA key, `kid` [`KID`]) the JWT and edge targets trust.
pub fn jwks_json() -> String {
    let public = rsa::PrivateKey::from_pkcs8_pem(IDP_KEY)
        .expect("test key parses")
        .to_public_key();
    serde_json::json!({"keys": [{
        "kid": KID, "kty": "RSA", "alg": "RS256",
        "n": B64.encode(public.n_bytes()), "e": B64.encode(public.e_bytes()),
    }]})
    .to_string()
}

/// The edge config the edge target runs with (the shape of the tests' one).
pub fn edge_config_json() -> String {
    serde_json::json!({
        "issuer": ISSUER,
        "jwks_url": "https://idp.example/jwks.json",
        "jwks": serde_json::from_str::<serde_json::Value>(&jwks_json()).expect("JSON"),
        "client_ids": [CLIENT],
        "signing": {"key_pair_id": "K2FUZZ", "private_key_pem": SIGNING_KEY},
        "resource_base": "https://d111111abcdef8.cloudfront.net",
        "table": {"name": "reelgate", "replica_regions": ["us-east-1", "eu-west-1"]},
    })
    .to_string()
}

/// Splits an input at its first NUL: two independent fields from one byte string.
pub fn split2(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}
