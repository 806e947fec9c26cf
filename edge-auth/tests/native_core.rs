//! The same handler core the WebAssembly bundle runs, natively with
//! `shared`'s native crypto: the protocol steps, the I/O requests it makes,
//! and cookies checked by the shared CloudFront validator.

use reelgate_edge::driver::Performer;
use reelgate_edge::event::{HeaderValue, Request, Response};
use reelgate_edge::{Answer, Edge, Fetch, FetchResult, Fetched, HashKey, Step, drive};
use reelgate_shared::cloudfront::validator::{self, Denial};
use reelgate_shared::config::EdgeConfig;
use reelgate_shared::crypto::native::{NativeCrypto, PublicKeySet, SigningKey};
use reelgate_shared::entitlement::{Grant, GrantSource, Title};
use reelgate_shared::ids::Tier;
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
    Edge::new(config, crypto, "eu-central-1", HashKey::from_os())
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

/// The same request with `?redirect=1`: a 302 without a body, whose
/// replay window is the cookies' own.
fn redirected(mut request: Request) -> Request {
    request.querystring = "redirect=1".into();
    request
}

fn respond(outcome: Step<Answer>) -> Response {
    match outcome {
        Step::Ready(answer) => answer.response,
        Step::Fetch(fetch) => panic!("expected a response, got a fetch {fetch:?}"),
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

/// The token cache finds a token by the end of its signature: a token that
/// ends the same way but says something else is verified afresh (and
/// refused), never answered with the cached token's claims.
#[test]
fn a_token_sharing_a_cached_tokens_signature_is_verified_not_served_from_the_cache() {
    let mut edge = edge();
    let (first, second) = ("/session/videos/demo", "/session/videos/other");
    let genuine = token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1");
    let answer = |edge: &mut Edge<NativeCrypto>, uri: &str, token: &str| match edge.handle(
        &request(uri, token),
        at(NOW),
        &Fetched::default(),
    ) {
        Step::Ready(answer) => answer,
        Step::Fetch(fetch) => panic!("expected an answer, got a fetch {fetch:?}"),
    };
    let fresh = answer(&mut edge, first, &genuine);
    assert_eq!(fresh.response.status, "200");
    assert!(!fresh.decision.token_cache_hit);

    // The genuine signature after another payload (one granting every
    // title), as a viewer holding the genuine token could send it.
    let signature = genuine.rsplit('.').next().unwrap();
    let other = token(json!({"cognito:groups": ["premium"]}), "k1");
    let signed_part = &other[..other.rfind('.').unwrap()];
    let forged = format!("{signed_part}.{signature}");
    let refused = answer(&mut edge, second, &forged);
    assert_eq!(refused.response.status, "401");
    assert_eq!(refused.decision.reason, "bad_signature");
    assert!(!refused.decision.token_cache_hit);

    let again = answer(&mut edge, first, &genuine);
    assert_eq!(again.response.status, "200");
    assert!(again.decision.token_cache_hit);
}

#[test]
fn without_claims_the_core_asks_for_the_nearest_replica_then_decides_and_caches() {
    let mut edge = edge();
    let token = token(json!({}), "k1");
    let request = request("/session/videos/demo", &token);
    let fetch = match edge.handle(&request, at(NOW), &Fetched::default()) {
        Step::Fetch(fetch) => fetch,
        Step::Ready(answer) => panic!("expected a fetch, got {}", answer.response.status),
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
        ..Default::default()
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
        Step::Fetch(Fetch::Jwks { .. })
    ));
    let failed = Fetched {
        entitlement: None,
        jwks: Some(Err("timeout".into())),
        ..Default::default()
    };
    assert_eq!(
        respond(edge.handle(&request, at(NOW), &failed)).status,
        "401"
    );
    let again = respond(edge.handle(&request, at(NOW + 9), &Fetched::default()));
    assert_eq!(again.body.as_deref(), Some(r#"{"error":"unknown_kid"}"#));
    assert!(matches!(
        edge.handle(&request, at(NOW + 10), &Fetched::default()),
        Step::Fetch(Fetch::Jwks { .. })
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
        Step::Ready(answer) => (answer.response, answer.decision),
        Step::Fetch(fetch) => panic!("expected a response, got a fetch {fetch:?}"),
    };
    assert!(matches!(replayed.status.as_str(), "200" | "302"));
    let until = decision.reusable_until?.get();
    assert!(until > start);
    for t in start..until {
        let fresh = respond(edge.handle(request, at(t), &Fetched::default()));
        assert_eq!(fresh, replayed, "the core answers differently at {t}");
    }
    let after = match edge.handle(request, at(until), &Fetched::default()) {
        Step::Ready(answer) => Some(answer.response),
        Step::Fetch(_) => None,
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
            title: None,
        })),
        jwks: None,
        ..Default::default()
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
    let (until, _) = replay_window(
        &mut edge(),
        &redirected(claims.clone()),
        NOW + 7,
        &Fetched::default(),
    )
    .unwrap();
    assert_eq!(until, NOW + 31);
    let body = |response: &Response| -> serde_json::Value {
        serde_json::from_str(response.body.as_deref().unwrap()).unwrap()
    };
    let next = respond(edge().handle(&claims, at(NOW + 31), &Fetched::default()));
    assert_eq!(body(&next)["expires_at"], NOW + 360);
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
    let short = redirected(request("/session/videos/demo", &short));
    let mut edge_short = edge();
    let (until, _) = replay_window(&mut edge_short, &short, NOW + 7, &Fetched::default()).unwrap();
    assert_eq!(until, NOW + 20);
    assert_eq!(
        respond(edge_short.handle(&short, at(NOW + 80), &Fetched::default())).status,
        "401"
    );

    // A store answer is reusable while it is cached, then the store is asked again.
    let stored = redirected(request("/session/videos/demo", &token(json!({}), "k1")));
    let mut cached = edge_with(json!({"cache": {"positive_seconds": 10}}));
    assert!(matches!(
        cached.handle(&stored, at(NOW + 7), &Fetched::default()),
        Step::Fetch(_)
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
        Step::Fetch(_)
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
        Step::Ready(answer) => {
            assert_eq!(answer.response.status, "403");
            assert_eq!(answer.decision.reusable_until, None);
        }
        Step::Fetch(fetch) => panic!("expected a 403, got a fetch {fetch:?}"),
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
        Edge::new(
            base.config().clone(),
            crypto,
            "eu-central-1",
            HashKey::from_os(),
        )
    };
    let request = redirected(request(
        "/session/videos/demo",
        &token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1"),
    ));
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
        Step::Ready(answer) => (answer.response, answer.decision),
        Step::Fetch(fetch) => panic!("expected a response, got a fetch {fetch:?}"),
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

#[test]
fn the_session_body_counts_seconds_from_the_response_and_is_reusable_only_within_its_second() {
    let request = request(
        "/session/videos/demo",
        &token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1"),
    );
    let mut edge = edge();
    let (until, after) = replay_window(&mut edge, &request, NOW + 7, &Fetched::default()).unwrap();
    assert_eq!(
        until,
        NOW + 8,
        "the relative times change with the next second"
    );
    let body = |response: &Response| -> serde_json::Value {
        serde_json::from_str(response.body.as_deref().unwrap()).unwrap()
    };
    let later = body(&after.unwrap());
    // Still the bucket of NOW+7: the same absolute times, one second closer.
    assert_eq!(later["expires_at"], NOW + 330);
    assert_eq!(later["refresh_after"], NOW + 270);
    assert_eq!(later["expires_in"], 330 - 8);
    assert_eq!(later["refresh_in"], 270 - 8);
}

#[test]
fn a_rental_cut_short_counts_its_relative_times_from_the_response() {
    let mut edge = edge();
    let request = request("/session/videos/demo", &token(json!({}), "k1"));
    assert!(matches!(
        edge.handle(&request, at(NOW), &Fetched::default()),
        Step::Fetch(_)
    ));
    let rental = store_grant(GrantSource::Rental {
        expires_at: at(NOW + 100),
    });
    let response = respond(edge.handle(&request, at(NOW + 20), &rental));
    let body: serde_json::Value = serde_json::from_str(response.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["expires_at"], NOW + 100);
    assert_eq!(body["expires_in"], 80);
    assert_eq!(body["refresh_in"], 64, "four fifths of what is left");
}

/// Without `resource_base`, the policy is named after the viewer's Host.
fn edge_named_after_host() -> Edge<NativeCrypto> {
    let base = edge();
    let mut config = base.config().clone();
    config.resource_base = None;
    let crypto = NativeCrypto::with_signing_key(SigningKey::from_pem(SIGNING_KEY).unwrap());
    Edge::new(config, crypto, "eu-central-1", HashKey::from_os())
}

#[test]
fn host_spellings_of_one_distribution_sign_the_one_resource_cloudfront_compares() {
    let mut edge = edge_named_after_host();
    let token = token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1");
    let keys = PublicKeySet::new().with(
        KeyPairId::parse("K2NATIVE").unwrap(),
        SigningKey::from_pem(SIGNING_KEY).unwrap().public_key(),
    );
    for (i, host) in [
        "d111111abcdef8.cloudfront.net",
        "D111111ABCDEF8.CLOUDFRONT.NET",
        "d111111abcdef8.cloudfront.net:443",
        "d111111abcdef8.cloudfront.net.",
    ]
    .into_iter()
    .enumerate()
    {
        let mut request = request("/session/videos/demo", &token);
        request.headers.insert(
            "host".into(),
            vec![HeaderValue {
                key: None,
                value: host.into(),
            }],
        );
        let answer = match edge.handle(&request, at(NOW), &Fetched::default()) {
            Step::Ready(answer) => answer,
            Step::Fetch(fetch) => panic!("expected a response, got a fetch {fetch:?}"),
        };
        let cookie: Vec<&str> = answer
            .response
            .header_values("set-cookie")
            .iter()
            .map(|c| c.split(';').next().unwrap())
            .collect();
        let verdict = validator::validate(
            &validator::Request {
                url: "https://d111111abcdef8.cloudfront.net/videos/demo/seg-1.ts",
                cookie_header: Some(&cookie.join("; ")),
                client_ip: None,
                now: at(NOW + 1),
            },
            &keys,
        );
        assert!(verdict.is_ok(), "{host}: {verdict:?}");
        assert_eq!(
            answer.decision.cookie_cache_hit,
            i > 0,
            "{host}: one signature"
        );
    }
}

#[test]
fn a_fetched_jwks_that_does_not_parse_leaves_the_keys_as_they_were() {
    let mut edge = edge();
    let rotated = request("/session/videos/demo", &token(json!({}), "rotated"));
    assert!(matches!(
        edge.handle(&rotated, at(NOW), &Fetched::default()),
        Step::Fetch(Fetch::Jwks { .. })
    ));
    for body in ["{}", r#"{"keys":"x"}"#] {
        let fetched = Fetched {
            entitlement: None,
            jwks: Some(Ok(body.into())),
            ..Default::default()
        };
        let refused = respond(edge.handle(&rotated, at(NOW), &fetched));
        assert_eq!(refused.body.as_deref(), Some(r#"{"error":"unknown_kid"}"#));
    }
    let known = request(
        "/session/videos/demo",
        &token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1"),
    );
    assert_eq!(
        respond(edge.handle(&known, at(NOW), &Fetched::default())).status,
        "200"
    );
}

/// A host whose every fetch gets the same result.
struct Always(FetchResult);

impl Performer for Always {
    async fn perform(&self, _: &Fetch) -> FetchResult {
        self.0.clone()
    }
}

#[tokio::test]
async fn the_driver_maps_a_failed_store_read_into_the_core_which_fails_closed() {
    let edge = std::sync::Mutex::new(edge());
    let store_down = Always(FetchResult::Entitlement(Err("timeout".into())));
    let request = request("/session/videos/demo", &token(json!({}), "k1"));
    let answer = drive(&edge, &store_down, request, || at(NOW)).await;
    assert_eq!(answer.response.status, "503");
    assert_eq!(answer.decision.reason, "entitlement_unavailable");
}

#[tokio::test]
async fn the_driver_fails_closed_when_the_core_keeps_asking() {
    // A host that answers a store read with a JWKS never settles the
    // request: the core asks again, and the driver stops after MAX_FETCHES.
    let edge = std::sync::Mutex::new(edge());
    let confused = Always(FetchResult::Jwks(Ok("{}".into())));
    let request = request("/session/videos/demo", &token(json!({}), "k1"));
    let answer = drive(&edge, &confused, request, || at(NOW)).await;
    assert_eq!(answer.response.status, "503");
    assert_eq!(
        answer.response.body.as_deref(),
        Some(r#"{"error":"io_loop"}"#)
    );
}

#[tokio::test]
async fn the_driver_performs_the_store_read_and_answers_with_the_core_decision() {
    let edge = std::sync::Mutex::new(edge());
    let grant = store_grant(GrantSource::Purchase).entitlement.unwrap();
    let store = Always(FetchResult::Entitlement(grant.map(Box::new)));
    let request = request("/session/videos/demo", &token(json!({}), "k1"));
    let answer = drive(&edge, &store, request, || at(NOW)).await;
    assert_eq!(answer.response.status, "200");
    assert_eq!(answer.decision.reason, "purchase");
}

/// A catalogue title `id`: paid, in the premium tier, or as `edit` says.
fn listed(id: &str, edit: impl FnOnce(&mut Title)) -> Title {
    let mut title = Title {
        id: VideoId::parse(id).unwrap(),
        name: "A title".into(),
        free: false,
        tiers: vec![Tier::parse("premium").unwrap()],
        price: Some(499),
        rental_price: None,
        currency: Some("usd".into()),
        available_from: None,
        available_until: None,
    };
    edit(&mut title);
    title.check().unwrap()
}

fn with_title(title: Option<Title>) -> Fetched {
    Fetched {
        entitlement: Some(Ok(Snapshot {
            title,
            ..Snapshot::default()
        })),
        ..Default::default()
    }
}

/// The status and body of the edge's answer to `token` for `video`, given
/// the store holds `title` (and nothing else for the viewer); for a 200,
/// the body gains the decision's `basis` (the log line's field).
fn catalogue_answer(
    edge: &mut Edge<NativeCrypto>,
    token: &str,
    video: &str,
    title: Option<Title>,
    now: u64,
) -> (String, serde_json::Value) {
    let request = request(&format!("/session/videos/{video}"), token);
    let answer = match edge.handle(&request, at(now), &Fetched::default()) {
        Step::Ready(answer) => answer,
        Step::Fetch(Fetch::Entitlement { keys, .. }) => {
            let keys = serde_json::to_value(&keys).unwrap();
            assert_eq!(
                keys[2],
                json!({"PK": {"S": "CATALOGUE"}, "SK": {"S": format!("TITLE#{video}")}}),
                "the title is read with the snapshot"
            );
            match edge.handle(&request, at(now), &with_title(title)) {
                Step::Ready(answer) => answer,
                Step::Fetch(fetch) => panic!("a second fetch {fetch:?}"),
            }
        }
        Step::Fetch(other) => panic!("{other:?}"),
    };
    let response = answer.response;
    let mut body: serde_json::Value =
        serde_json::from_str(response.body.as_deref().unwrap_or("null")).unwrap();
    if let Some(basis) = answer.decision.basis {
        body["basis"] = json!(basis.as_str());
    }
    (response.status, body)
}

#[test]
fn with_a_catalogue_a_free_title_is_open_to_any_signed_in_viewer_and_cached() {
    let mut edge = edge_with(json!({"catalogue": true}));
    let nobody = token(json!({"reelgate:ent": "v=1;g=;c=1"}), "k1");
    let free = listed("trailer", |t| {
        t.free = true;
        t.tiers.clear();
        t.price = None;
        t.currency = None;
    });
    let (status, body) = catalogue_answer(&mut edge, &nobody, "trailer", Some(free), NOW);
    assert_eq!((status.as_str(), &body["basis"]), ("200", &json!("free")));
    // The title is cached: the next request reads nothing.
    let again = edge.handle(
        &request("/session/videos/trailer", &nobody),
        at(NOW + 1),
        &Fetched::default(),
    );
    assert_eq!(respond(again).status, "200");
    // Without a token there are no cookies, free or not.
    let mut anonymous = request("/session/videos/trailer", "x");
    anonymous.headers.remove("authorization");
    assert_eq!(
        respond(edge.handle(&anonymous, at(NOW + 1), &Fetched::default())).status,
        "401"
    );
}

#[test]
fn with_a_catalogue_an_unlisted_title_is_not_found_and_a_closed_window_refuses_owners() {
    let mut edge = edge_with(json!({"catalogue": true}));
    let owner = token(json!({"reelgate:ent": "v=1;g=demo,gone;c=1"}), "k1");
    let (status, body) = catalogue_answer(&mut edge, &owner, "gone", None, NOW);
    assert_eq!(
        (status.as_str(), body),
        ("404", json!({"error": "title_not_found"}))
    );
    let closed = listed("demo", |t| t.available_until = Some(at(NOW)));
    let (status, body) = catalogue_answer(&mut edge, &owner, "demo", Some(closed), NOW);
    assert_eq!(
        (status.as_str(), body),
        ("403", json!({"error": "not_available"}))
    );
    let soon = listed("demo", |t| t.available_until = Some(at(NOW + 120)));
    let mut edge = edge_with(json!({"catalogue": true}));
    let (status, body) = catalogue_answer(&mut edge, &owner, "demo", Some(soon), NOW);
    assert_eq!(status, "200");
    assert!(
        body["expires_at"].as_u64().unwrap() <= NOW + 120,
        "no cookie outlives the licence: {body}"
    );
}

#[test]
fn with_a_catalogue_a_plan_watches_only_its_tier_s_titles() {
    let mut edge = edge_with(json!({"catalogue": true}));
    let basic = token(
        json!({"reelgate:ent": format!("v=1;p={};t=basic;g=;c=1", NOW + 3600)}),
        "k1",
    );
    let (status, body) = catalogue_answer(
        &mut edge,
        &basic,
        "members",
        Some(listed("members", |_| {})),
        NOW,
    );
    assert_eq!(
        (status.as_str(), body),
        ("403", json!({"error": "not_in_tier"}))
    );
    let premium = token(
        json!({"reelgate:ent": format!("v=1;p={};t=premium;g=;c=1", NOW + 3600)}),
        "k1",
    );
    let (status, body) = catalogue_answer(&mut edge, &premium, "members", None, NOW);
    assert_eq!(
        (status.as_str(), &body["basis"]),
        ("200", &json!("premium_plan")),
        "the title was cached by the first request"
    );
}

#[test]
fn with_a_catalogue_a_failed_title_read_fails_closed_even_for_owners() {
    let mut edge = edge_with(json!({"catalogue": true}));
    let owner = token(json!({"reelgate:ent": "v=1;g=demo;c=1"}), "k1");
    let fetched = Fetched {
        entitlement: Some(Err("ProvisionedThroughputExceededException".into())),
        ..Default::default()
    };
    let response =
        respond(edge.handle(&request("/session/videos/demo", &owner), at(NOW), &fetched));
    assert_eq!(
        (response.status.as_str(), response.body.as_deref()),
        ("503", Some(r#"{"error":"entitlement_unavailable"}"#))
    );
}

#[test]
fn without_a_catalogue_no_title_is_read_and_claims_decide_alone() {
    let mut edge = edge();
    let owner = token(json!({"reelgate:ent": "v=1;g=anything;c=1"}), "k1");
    let response = respond(edge.handle(
        &request("/session/videos/anything", &owner),
        at(NOW),
        &Fetched::default(),
    ));
    assert_eq!(response.status, "200");
}
