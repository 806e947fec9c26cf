//! The same handler core the WebAssembly bundle runs, natively with
//! `shared`'s native crypto: the protocol steps, the I/O requests it makes,
//! and cookies checked by the shared CloudFront validator.

use reelgate_edge::event::{HeaderValue, Request, Response};
use reelgate_edge::{Edge, Fetch, Fetched, Outcome};
use reelgate_shared::cloudfront::validator::{self, Denial};
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::native::{NativeCrypto, PublicKeySet, SigningKey};
use reelgate_shared::entitlement::{Grant, GrantSource};
use reelgate_shared::store::{Snapshot, SnapshotKeys};
use reelgate_shared::test_support;
use reelgate_shared::{EpochSeconds, KeyPairId, VideoId};
use serde_json::json;

const NOW: u64 = 1_800_000_000;
const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
const SIGNING_KEY: &str = include_str!("../../shared/tests/keys/p256.pkcs8.pem");

fn edge() -> Edge<NativeCrypto> {
    edge_with(json!({}))
}

/// An edge whose config is the test config with `overrides`' top-level fields.
fn edge_with(overrides: serde_json::Value) -> Edge<NativeCrypto> {
    let config = json!({
        "issuer": ISSUER,
        "jwks_url": "https://idp.example/jwks.json",
        "jwks": {"keys": [test_support::jwk("k1")]},
        "client_ids": ["c1"],
        "signing": {"key_pair_id": "K2NATIVE", "private_key_pem": SIGNING_KEY},
        "resource_base": "https://d111111abcdef8.cloudfront.net",
        "table": {"name": "reelgate", "replica_regions": ["us-east-1", "eu-west-1"]},
    });
    let mut config = config;
    config
        .as_object_mut()
        .unwrap()
        .extend(overrides.as_object().unwrap().clone());
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
    test_support::sign(&json!({"alg": "RS256", "kid": kid}), &payload)
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
            keys: SnapshotKeys::new(
                reelgate_shared::UserSub::parse("u1").unwrap(),
                VideoId::parse("demo").unwrap()
            ),
        }
    );
    let fetched = store_grant(GrantSource::Rental {
        expires_at: at(NOW + 100),
    });
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

/// Answers `request` at `start`, then checks the replay window the core
/// declared: at every second inside it, the core's own fresh answer is the
/// first one byte for byte (so a host may replay it). Returns the window's
/// end and the core's answer there (`None`: it needs I/O).
fn replay_window(
    edge: &mut Edge<NativeCrypto>,
    request: &Request,
    start: u64,
    first: &Fetched,
) -> Option<(u64, Option<Response>)> {
    let (replayed, decision) = match edge.handle(request, at(start), first) {
        Outcome::Respond(response, decision) => (*response, decision),
        Outcome::Fetch(fetch) => panic!("expected a response, got a fetch {fetch:?}"),
    };
    assert_eq!(replayed.status, "200");
    let until = decision.reusable_until?.get();
    assert!(until > start);
    for t in start..until {
        let fresh = respond(edge.handle(request, at(t), &Fetched::default()));
        assert_eq!(fresh, replayed, "the core answers differently at {t}");
    }
    let after = match edge.handle(request, at(until), &Fetched::default()) {
        Outcome::Respond(response, _) => Some(*response),
        Outcome::Fetch(_) => None,
    };
    Some((until, after))
}

/// What the store read returns for u1 holding `demo` by `source`.
fn store_grant(source: GrantSource) -> Fetched {
    Fetched {
        entitlement: Some(Ok(Snapshot {
            plan: None,
            grant: Some(Grant {
                video: VideoId::parse("demo").unwrap(),
                source,
                granted_at: at(NOW - 10),
                purchase_id: None,
                revoked_at: None,
            }),
        })),
        jwks: None,
    }
}

#[test]
fn a_grant_is_reusable_exactly_while_the_core_would_grant_it_unchanged() {
    // ttl 300 s in buckets of 30 s: a request at NOW+7 gets cookies until
    // NOW+330, as does every request until NOW+30; at NOW+31 the next bucket.
    let claims = request(
        "/session/videos/demo",
        &token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1"),
    );
    let (until, after) = replay_window(&mut edge(), &claims, NOW + 7, &Fetched::default()).unwrap();
    assert_eq!(until, NOW + 31);
    let body = |response: &Response| -> serde_json::Value {
        serde_json::from_str(response.body.as_deref().unwrap()).unwrap()
    };
    assert_eq!(body(&after.unwrap())["expires_at"], NOW + 360);
    let response = respond(edge().handle(&claims, at(NOW + 7), &Fetched::default()));
    assert_eq!(body(&response)["expires_at"], NOW + 330);
    assert_eq!(
        body(&response)["refresh_after"],
        NOW + 270,
        "a fifth of the ttl before expiry"
    );
    assert!(
        response
            .header_values("set-cookie")
            .iter()
            .all(|c| c.contains("Max-Age=329"))
    );

    // A token that expires first ends the window at its `exp`: past it the
    // core verifies the token again (with the clock-skew leeway) rather
    // than trusting its cache, and refuses it once the leeway is over too.
    let short = token(
        json!({"reelgate:ent": "v=1;g=demo;c=1", "exp": NOW + 20}),
        "k1",
    );
    let short = request("/session/videos/demo", &short);
    let mut edge_short = edge();
    let (until, _) = replay_window(&mut edge_short, &short, NOW + 7, &Fetched::default()).unwrap();
    assert_eq!(until, NOW + 20);
    assert_eq!(
        respond(edge_short.handle(&short, at(NOW + 80), &Fetched::default())).status,
        "401"
    );

    // A store answer is reusable while it is cached, then the store is asked again.
    let stored = request("/session/videos/demo", &token(json!({}), "k1"));
    let mut cached = edge_with(json!({"cache": {"positive_seconds": 10}}));
    assert!(matches!(
        cached.handle(&stored, at(NOW + 7), &Fetched::default()),
        Outcome::Fetch(_)
    ));
    let (until, after) = replay_window(
        &mut cached,
        &stored,
        NOW + 7,
        &store_grant(GrantSource::Purchase),
    )
    .unwrap();
    assert_eq!(until, NOW + 17);
    assert_eq!(after, None, "the store is asked again");
}

#[test]
fn a_grant_cut_short_by_a_rental_is_exact_and_never_reused() {
    let rental = store_grant(GrantSource::Rental {
        expires_at: at(NOW + 100),
    });
    let request = request("/session/videos/demo", &token(json!({}), "k1"));
    let mut edge = edge();
    assert!(matches!(
        edge.handle(&request, at(NOW), &Fetched::default()),
        Outcome::Fetch(_)
    ));
    assert_eq!(replay_window(&mut edge, &request, NOW, &rental), None);
    let response = respond(edge.handle(&request, at(NOW + 50), &Fetched::default()));
    assert!(
        response
            .header_values("set-cookie")
            .iter()
            .all(|c| c.contains("Max-Age=50"))
    );
}

#[test]
fn denials_are_never_reusable() {
    let mut edge = edge();
    let request = request(
        "/session/videos/other",
        &token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1"),
    );
    match edge.handle(&request, at(NOW), &Fetched::default()) {
        Outcome::Respond(response, decision) => {
            assert_eq!(response.status, "403");
            assert_eq!(decision.reusable_until, None);
        }
        Outcome::Fetch(fetch) => panic!("expected a 403, got a fetch {fetch:?}"),
    }
}

#[test]
fn a_staged_key_takes_over_at_its_second_and_ends_replays_there() {
    let next_pem = include_str!("../../shared/tests/keys/rsa2048.pkcs8.pem"); // any second key
    let mut edge = {
        let mut config: serde_json::Value = serde_json::json!({});
        config["signing"] = json!({
            "key_pair_id": "K2NATIVE",
            "private_key_pem": SIGNING_KEY,
            "next": {"key_pair_id": "K2NEXT", "private_key_pem": next_pem, "activate_at": NOW + 20},
        });
        let base = edge_with(config);
        let crypto = NativeCrypto::with_signing_key(SigningKey::from_pem(SIGNING_KEY).unwrap())
            .with_next_signing_key(SigningKey::from_pem(next_pem).unwrap());
        Edge::new(base.config().clone(), crypto, "eu-central-1")
    };
    let request = request(
        "/session/videos/demo",
        &token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1"),
    );
    let keys = PublicKeySet::new()
        .with(
            KeyPairId::parse("K2NATIVE").unwrap(),
            SigningKey::from_pem(SIGNING_KEY).unwrap().public_key(),
        )
        .with(
            KeyPairId::parse("K2NEXT").unwrap(),
            SigningKey::from_pem(next_pem).unwrap().public_key(),
        );
    let signed_by = |response: &Response, t: u64| {
        let cookie: Vec<&str> = response
            .header_values("set-cookie")
            .iter()
            .map(|c| c.split(';').next().unwrap())
            .collect();
        let request = validator::Request {
            url: "https://d111111abcdef8.cloudfront.net/videos/demo/seg-1.ts",
            cookie_header: Some(&cookie.join("; ")),
            client_ip: None,
            now: at(t),
        };
        validator::validate(&request, &keys).map(|access| access.key_pair_id.as_str().to_owned())
    };
    let (before, decision) = match edge.handle(&request, at(NOW + 7), &Fetched::default()) {
        Outcome::Respond(response, decision) => (*response, decision),
        Outcome::Fetch(fetch) => panic!("expected a response, got a fetch {fetch:?}"),
    };
    assert_eq!(signed_by(&before, NOW + 7), Ok("K2NATIVE".to_owned()));
    assert_eq!(
        decision.reusable_until,
        Some(at(NOW + 20)),
        "no replay may outlive the switch"
    );
    let after = respond(edge.handle(&request, at(NOW + 20), &Fetched::default()));
    assert_eq!(signed_by(&after, NOW + 20), Ok("K2NEXT".to_owned()));
}
