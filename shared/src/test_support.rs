//! Test tokens, for every crate's tests (feature `test-support`, never in a
//! shipped binary): RS256 tokens shaped like Cognito access tokens, signed
//! with the repository's throwaway test key. One copy, so a change to what
//! a Cognito token looks like is made once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

use crate::jwt::{Jwk, Jwks};

pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
pub const CLIENT: &str = "testclient";
/// The `kid` of [`jwks`] and of [`access_token`]'s header.
pub const KID: &str = "test-1";
const KEY: &str = include_str!("../tests/keys/rsa2048.pkcs8.pem");

fn key() -> rsa::PrivateKey {
    rsa::PrivateKey::from_pkcs8_pem(KEY).expect("the test key parses")
}

/// The test key's public half as an RS256 JWK named `kid`.
pub fn jwk(kid: &str) -> Jwk {
    let public = key().to_public_key();
    serde_json::from_value(json!({
        "kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
        "n": B64.encode(public.n_bytes()), "e": B64.encode(public.e_bytes()),
    }))
    .expect("JWK shape")
}

/// A key set holding [`jwk`]`(KID)`.
pub fn jwks() -> Jwks {
    Jwks {
        keys: vec![jwk(KID)],
    }
}

/// `header.payload.signature` with an RS256 signature by the test key,
/// whatever the header says (so tests can claim other algorithms).
pub fn sign(header: &Value, payload: &Value) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(payload.to_string())
    );
    let signature = key()
        .pkcs1v15_sign::<rsa::sha2::Sha256>(input.as_bytes())
        .expect("signing");
    format!("{input}.{}", B64.encode(signature))
}

/// The claims of an access token for `sub` issued at `now` for an hour,
/// with `extra` added or overriding.
pub fn access_claims(sub: &str, now: u64, extra: Value) -> Value {
    let mut claims = json!({
        "sub": sub, "iss": ISSUER, "token_use": "access", "client_id": CLIENT,
        "iat": now, "exp": now + 3600, "username": sub,
    });
    if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
        claims.extend(extra.clone());
    }
    claims
}

/// A signed access token for `sub` valid from `now` for an hour.
pub fn access_token(sub: &str, now: u64, extra: Value) -> String {
    sign(
        &json!({"alg": "RS256", "kid": KID}),
        &access_claims(sub, now, extra),
    )
}
