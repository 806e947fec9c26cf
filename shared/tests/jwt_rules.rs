//! Every rule of ARCHITECTURE §5, one test each, against RS256 tokens signed
//! here with a real RSA key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reelgate_shared::EpochSeconds;
use reelgate_shared::crypto::native::NativeCrypto;
use reelgate_shared::jwt::{Jwks, TokenError, TokenUse, Verifier, VerifierConfig};
use reelgate_shared::test_support::{self, jwk};
use serde_json::{Value, json};

const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
const NOW: u64 = 1_800_000_000;

fn verifier() -> Verifier {
    Verifier::new(
        VerifierConfig::new(ISS, vec!["client1".into()]),
        Jwks {
            keys: vec![jwk("k1")],
        },
    )
}

fn claims() -> Value {
    json!({
        "sub": "1b2c3d4e-0000-4000-8000-000000000001", "iss": ISS, "token_use": "access",
        "client_id": "client1", "username": "bob", "iat": NOW - 10, "exp": NOW + 3600,
        "cognito:groups": ["viewers"], "reelgate:ent": "v=1;g=demo;c=1",
    })
}

fn encode(header: &Value, payload: &Value) -> String {
    test_support::sign(header, payload)
}

fn sign(payload: &Value) -> String {
    encode(&json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}), payload)
}

fn verify(token: &str) -> Result<reelgate_shared::jwt::Claims, TokenError> {
    verifier().verify(token, EpochSeconds::new(NOW), &NativeCrypto::verify_only())
}

fn with(field: &str, value: Value) -> Value {
    let mut payload = claims();
    payload[field] = value;
    payload
}

fn reason(token: &str) -> &'static str {
    verify(token).unwrap_err().reason()
}

#[test]
fn a_well_formed_cognito_access_token_is_accepted() {
    let claims = verify(&sign(&claims())).unwrap();
    assert_eq!(claims.sub.as_str(), "1b2c3d4e-0000-4000-8000-000000000001");
    assert_eq!(claims.username.as_deref(), Some("bob"));
    assert_eq!(claims.groups, vec!["viewers"]);
    assert_eq!(claims.entitlements.as_deref(), Some("v=1;g=demo;c=1"));
}

#[test]
fn alg_none_is_rejected() {
    let header = B64.encode(json!({"alg": "none", "kid": "k1"}).to_string());
    let token = format!("{header}.{}.", B64.encode(claims().to_string()));
    assert_eq!(reason(&token), "alg_not_allowed");
}

#[test]
fn hs256_signed_with_the_public_key_as_secret_is_rejected() {
    use hmac::{KeyInit, Mac};
    let header = B64.encode(json!({"alg": "HS256", "kid": "k1"}).to_string());
    let input = format!("{header}.{}", B64.encode(claims().to_string()));
    let secret = serde_json::to_vec(&jwk("k1")).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
    mac.update(input.as_bytes());
    let token = format!("{input}.{}", B64.encode(mac.finalize().into_bytes()));
    assert_eq!(reason(&token), "alg_not_allowed");
}

#[test]
fn es256_is_refused_unless_configured() {
    let token = encode(&json!({"alg": "ES256", "kid": "k1"}), &claims());
    assert_eq!(reason(&token), "alg_not_allowed");
}

#[test]
fn an_unknown_kid_is_reported_for_a_refetch() {
    let token = encode(&json!({"alg": "RS256", "kid": "rotated"}), &claims());
    assert_eq!(
        verify(&token).unwrap_err(),
        TokenError::UnknownKid("rotated".into())
    );
    assert_eq!(
        reelgate_shared::jwt::peek_kid(&token).as_deref(),
        Some("rotated")
    );
}

#[test]
fn a_missing_kid_is_rejected() {
    assert_eq!(
        reason(&encode(&json!({"alg": "RS256"}), &claims())),
        "missing_kid"
    );
}

#[test]
fn key_choosing_headers_are_rejected() {
    for header in ["jku", "x5u", "jwk", "x5c"] {
        let mut h = json!({"alg": "RS256", "kid": "k1"});
        h[header] = json!("https://attacker.example/keys");
        assert_eq!(
            reason(&encode(&h, &claims())),
            "forbidden_header",
            "{header}"
        );
    }
}

#[test]
fn a_tampered_payload_fails_the_signature() {
    let token = sign(&claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = B64.encode(with("sub", json!("someone-else")).to_string());
    parts[1] = &forged;
    assert_eq!(reason(&parts.join(".")), "bad_signature");
}

#[test]
fn wrong_issuer_token_use_and_client_are_rejected() {
    assert_eq!(
        reason(&sign(&with("iss", json!("https://evil.example")))),
        "wrong_issuer"
    );
    assert_eq!(
        reason(&sign(&with("token_use", json!("id")))),
        "wrong_token_use"
    );
    assert_eq!(
        reason(&sign(&with("client_id", json!("other-app")))),
        "wrong_client"
    );
}

#[test]
fn an_id_token_is_checked_against_aud_when_configured() {
    let mut config = VerifierConfig::new(ISS, vec!["client1".into()]);
    config.token_use = TokenUse::Id;
    let verifier = Verifier::new(
        config,
        Jwks {
            keys: vec![jwk("k1")],
        },
    );
    let mut payload = with("token_use", json!("id"));
    payload["aud"] = json!("client1");
    let crypto = NativeCrypto::verify_only();
    assert!(
        verifier
            .verify(&sign(&payload), EpochSeconds::new(NOW), &crypto)
            .is_ok()
    );
    payload["aud"] = json!("other");
    assert_eq!(
        verifier
            .verify(&sign(&payload), EpochSeconds::new(NOW), &crypto)
            .unwrap_err()
            .reason(),
        "wrong_client"
    );
}

#[test]
fn expiry_honours_the_leeway_to_the_second() {
    // Default leeway 60 s: refused from exp + 60 on.
    assert!(verify(&sign(&with("exp", json!(NOW - 59)))).is_ok());
    assert_eq!(
        reason(&sign(&with("exp", json!(NOW - 60)))),
        "token_expired"
    );
}

#[test]
fn not_before_and_issued_at_honour_the_leeway() {
    assert!(verify(&sign(&with("nbf", json!(NOW + 60)))).is_ok());
    assert_eq!(
        reason(&sign(&with("nbf", json!(NOW + 61)))),
        "token_not_yet_valid"
    );
    assert!(verify(&sign(&with("iat", json!(NOW + 60)))).is_ok());
    assert_eq!(
        reason(&sign(&with("iat", json!(NOW + 61)))),
        "token_issued_in_future"
    );
}

#[test]
fn oversized_tokens_are_rejected_before_any_work() {
    let token = sign(&with("padding", json!("x".repeat(9000))));
    assert_eq!(reason(&token), "token_too_large");
}

#[test]
fn malformed_tokens_get_a_specific_reason() {
    for token in ["abc", "a.b", "a.b.c.d", "!!.e30.", "e30.e30.!!"] {
        assert_eq!(reason(token), "token_malformed", "{token}");
    }
    let not_json = format!(
        "{}.{}.",
        B64.encode("{\"alg\":\"RS256\",\"kid\":\"k1\"}"),
        B64.encode("[1]")
    );
    assert!(matches!(
        verify(&not_json).unwrap_err().reason(),
        "token_malformed" | "bad_signature"
    ));
    assert_eq!(reason(""), "token_missing");
}

#[test]
fn claims_of_the_wrong_type_are_rejected() {
    assert_eq!(reason(&sign(&with("exp", json!("tomorrow")))), "bad_claim");
    assert_eq!(
        reason(&sign(&with("cognito:groups", json!("premium")))),
        "bad_claim"
    );
    assert_eq!(reason(&sign(&with("sub", json!("a#b")))), "bad_claim");
}

#[test]
fn keys_with_public_private_halves_are_refused_unless_allowed() {
    let mut config = VerifierConfig::new(ISS, vec!["client1".into()]);
    let jwks = Jwks {
        keys: vec![jwk("dummy")],
    };
    let token = encode(&json!({"alg": "RS256", "kid": "dummy"}), &claims());
    let crypto = NativeCrypto::verify_only();
    let refused =
        Verifier::new(config.clone(), jwks.clone()).verify(&token, EpochSeconds::new(NOW), &crypto);
    assert_eq!(refused.unwrap_err().reason(), "test_key_refused");
    config.allow_public_test_keys = true;
    assert!(
        Verifier::new(config, jwks)
            .verify(&token, EpochSeconds::new(NOW), &crypto)
            .is_ok()
    );
}
