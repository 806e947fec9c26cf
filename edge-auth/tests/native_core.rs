//! The same handler core the WebAssembly bundle runs, natively with
//! `shared`'s native crypto: the protocol steps, the I/O requests it makes,
//! and cookies checked by the shared CloudFront validator.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reelgate_edge::event::{HeaderValue, Request};
use reelgate_edge::{Edge, Fetch, Fetched, Outcome};
use reelgate_shared::cloudfront::validator::{self, Denial};
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::native::{NativeCrypto, PublicKeySet, SigningKey};
use reelgate_shared::entitlement::{Grant, GrantSource};
use reelgate_shared::store::Snapshot;
use reelgate_shared::{EpochSeconds, KeyPairId, VideoId};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::json;

const NOW: u64 = 1_800_000_000;
const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
const IDP_KEY: &str = include_str!("../../shared/tests/keys/rsa2048.pkcs8.pem");
const SIGNING_KEY: &str = include_str!("../../shared/tests/keys/p256.pkcs8.pem");

fn edge() -> Edge<NativeCrypto> {
    let idp = rsa::PrivateKey::from_pkcs8_pem(IDP_KEY)
        .unwrap()
        .to_public_key();
    let config = json!({
        "issuer": ISSUER,
        "jwks_url": "https://idp.example/jwks.json",
        "jwks": {"keys": [{"kid": "k1", "kty": "RSA", "n": B64.encode(idp.n_bytes()), "e": B64.encode(idp.e_bytes())}]},
        "client_ids": ["c1"],
        "signing": {"key_pair_id": "K2NATIVE", "private_key_pem": SIGNING_KEY},
        "resource_base": "https://d111111abcdef8.cloudfront.net",
        "table": {"name": "reelgate", "replica_regions": ["us-east-1", "eu-west-1"]},
    });
    let config = EdgeConfig::from_json(&config.to_string()).unwrap();
    let crypto = NativeCrypto::with_signing_key(SigningKey::from_pem(SIGNING_KEY).unwrap());
    Edge::new(config, crypto, "eu-central-1")
}

fn token(claims: serde_json::Value, kid: &str) -> String {
    let mut payload = json!({"sub": "u1", "iss": ISSUER, "token_use": "access", "client_id": "c1", "iat": NOW - 5, "exp": NOW + 3600});
    payload
        .as_object_mut()
        .unwrap()
        .extend(claims.as_object().unwrap().clone());
    let input = format!(
        "{}.{}",
        B64.encode(json!({"alg": "RS256", "kid": kid}).to_string()),
        B64.encode(payload.to_string())
    );
    let key = rsa::PrivateKey::from_pkcs8_pem(IDP_KEY).unwrap();
    let signature = key
        .pkcs1v15_sign::<rsa::sha2::Sha256>(input.as_bytes())
        .unwrap();
    format!("{input}.{}", B64.encode(signature))
}

fn request(uri: &str, token: &str) -> Request {
    let mut request = Request {
        client_ip: "203.0.113.1".into(),
        headers: Default::default(),
        method: "GET".into(),
        querystring: String::new(),
        uri: uri.into(),
    };
    request.headers.insert(
        "authorization".into(),
        vec![HeaderValue {
            key: None,
            value: format!("Bearer {token}"),
        }],
    );
    request
}

fn respond(outcome: Outcome) -> reelgate_edge::event::Response {
    match outcome {
        Outcome::Respond(response, _) => *response,
        Outcome::Fetch(fetch) => panic!("expected a response, got a fetch {fetch:?}"),
    }
}

fn at(t: u64) -> EpochSeconds {
    EpochSeconds::new(t)
}

#[test]
fn claims_grant_cookies_that_the_shared_validator_accepts_for_the_title() {
    let mut edge = edge();
    let token = token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1");
    let response = respond(edge.handle(
        &request("/session/videos/demo", &token),
        at(NOW),
        &Fetched::default(),
    ));
    assert_eq!(response.status, "200");
    let cookie: Vec<String> = response
        .header_values("set-cookie")
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect();
    let keys = PublicKeySet::new().with(
        KeyPairId::parse("K2NATIVE").unwrap(),
        SigningKey::from_pem(SIGNING_KEY).unwrap().public_key(),
    );
    let decide = |url: &str| {
        validator::validate(
            &validator::Request {
                url,
                cookie_header: Some(&cookie.join("; ")),
                client_ip: None,
                now: at(NOW + 10),
            },
            &keys,
        )
        .map(|_| ())
    };
    assert_eq!(
        decide("https://d111111abcdef8.cloudfront.net/videos/demo/seg-1.ts"),
        Ok(())
    );
    assert_eq!(
        decide("https://d111111abcdef8.cloudfront.net/videos/demo2/seg-1.ts"),
        Err(Denial::ResourceMismatch)
    );
}

#[test]
fn without_claims_the_core_asks_for_the_nearest_replica_then_decides_and_caches() {
    let mut edge = edge();
    let token = token(json!({}), "k1");
    let request = request("/session/videos/demo", &token);
    let fetch = match edge.handle(&request, at(NOW), &Fetched::default()) {
        Outcome::Fetch(fetch) => fetch,
        Outcome::Respond(response, _) => panic!("expected a fetch, got {}", response.status),
    };
    assert_eq!(
        fetch,
        Fetch::Entitlement {
            table: "reelgate".into(),
            region: Some("eu-west-1".into()),
            user: reelgate_shared::UserSub::parse("u1").unwrap(),
            video: VideoId::parse("demo").unwrap(),
        }
    );
    let snapshot = Snapshot {
        plan: None,
        grant: Some(Grant {
            video: VideoId::parse("demo").unwrap(),
            source: GrantSource::Rental {
                expires_at: at(NOW + 100),
            },
            granted_at: at(NOW - 10),
            purchase_id: None,
            revoked_at: None,
        }),
    };
    let fetched = Fetched {
        entitlement: Some(Ok(snapshot)),
        jwks: None,
    };
    let response = respond(edge.handle(&request, at(NOW), &fetched));
    assert_eq!(response.status, "200");
    let body: serde_json::Value = serde_json::from_str(response.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body["expires_at"],
        NOW + 100,
        "a rental caps the cookie lifetime"
    );
    // Cached: no fetch the second time.
    assert_eq!(
        respond(edge.handle(&request, at(NOW + 1), &Fetched::default())).status,
        "200"
    );
}

#[test]
fn a_store_error_with_nothing_cached_fails_closed() {
    let mut edge = edge();
    let token = token(json!({}), "k1");
    let fetched = Fetched {
        entitlement: Some(Err("ProvisionedThroughputExceededException".into())),
        jwks: None,
    };
    let response =
        respond(edge.handle(&request("/session/videos/demo", &token), at(NOW), &fetched));
    assert_eq!(response.status, "503");
    assert_eq!(
        response.body.as_deref(),
        Some(r#"{"error":"entitlement_unavailable"}"#)
    );
}

#[test]
fn an_unknown_kid_asks_for_the_jwks_once_per_penalty_window() {
    let mut edge = edge();
    let request = request("/session/videos/demo", &token(json!({}), "rotated"));
    assert!(matches!(
        edge.handle(&request, at(NOW), &Fetched::default()),
        Outcome::Fetch(Fetch::Jwks { .. })
    ));
    let failed = Fetched {
        entitlement: None,
        jwks: Some(Err("timeout".into())),
    };
    assert_eq!(
        respond(edge.handle(&request, at(NOW), &failed)).status,
        "401"
    );
    let again = respond(edge.handle(&request, at(NOW + 9), &Fetched::default()));
    assert_eq!(again.body.as_deref(), Some(r#"{"error":"unknown_kid"}"#));
    assert!(matches!(
        edge.handle(&request, at(NOW + 10), &Fetched::default()),
        Outcome::Fetch(Fetch::Jwks { .. })
    ));
}
