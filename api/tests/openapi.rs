//! api/openapi.yaml and the router agree: every route the router declares
//! (as written in src/routes.rs) is documented, and every documented
//! method and path is answered by the real router with something other than
//! its "no such route" or "method not allowed" problem.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use reelgate_api::auth::{Authenticator, JwksSource};
use reelgate_api::{App, router};
use reelgate_shared::config::ApiConfig;
use reelgate_shared::crypto::native::SigningKey;
use reelgate_shared::jwt::Jwks;
use reelgate_shared::store::MemoryStore;
use serde_json::Value;
use tower::ServiceExt;

const DOCUMENT: &str = include_str!("../openapi.yaml");
const ROUTES: &str = include_str!("../src/routes.rs");
const SIGNING_KEY: &str = include_str!("../../shared/tests/keys/p256.pkcs8.pem");
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// `(METHOD, path)` pairs under `paths:` (two-space path keys, four-space method keys).
fn documented() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut in_paths = false;
    let mut path = None;
    for line in DOCUMENT.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = Some(format!("/{}", p.trim_end_matches(':')));
        } else if let (Some(p), Some(m)) = (&path, line.strip_prefix("    ")) {
            let m = m.trim_end_matches(':');
            if METHODS.contains(&m) {
                out.insert((m.to_uppercase(), p.clone()));
            }
        }
    }
    out
}

/// `(METHOD, path)` pairs of `.route("/api/…", get(…).delete(…))` in routes.rs.
fn declared() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for call in ROUTES.split(".route(").skip(1) {
        let Some(rest) = call.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((path, handlers)) = rest.split_once('"') else {
            continue;
        };
        let handlers = handlers.split(".with_state").next().unwrap_or(handlers);
        for method in METHODS {
            let called = handlers
                .match_indices(&format!("{method}("))
                .any(|(at, _)| {
                    !handlers[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
            if called {
                out.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    out
}

fn app() -> axum::Router {
    let env = |name: &str| -> Option<String> {
        Some(
            match name {
                "REELGATE_ISSUER" => "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test",
                "REELGATE_CLIENT_IDS" => "testclient",
                "REELGATE_KEY_PAIR_ID" => "K2APITEST",
                "REELGATE_RESOURCE_BASE" => "https://d111111abcdef8.cloudfront.net",
                "REELGATE_TABLE" => "reelgate",
                "REELGATE_WEBHOOK_SECRET" => "whsec_test",
                "REELGATE_SIGNING_KEY_PEM" => SIGNING_KEY,
                _ => return None,
            }
            .to_owned(),
        )
    };
    let config = ApiConfig::from_env(&env).expect("test config");
    router(Arc::new(App {
        store: MemoryStore::new(),
        auth: Authenticator::new(
            config.verifier.clone(),
            Jwks::parse(r#"{"keys":[]}"#).expect("empty JWKS"),
            JwksSource::Fixed,
        ),
        webhook_secret: b"whsec_test".to_vec(),
        stripe_webhook_secret: None,
        signing_key: SigningKey::from_pem(SIGNING_KEY).expect("test key"),
        config,
    }))
}

#[test]
fn every_route_of_the_router_is_documented() {
    let declared = declared();
    assert!(declared.len() >= 7, "routes.rs parsed: {declared:?}");
    let documented = documented();
    let missing: Vec<_> = declared.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from api/openapi.yaml: {missing:?}"
    );
}

#[tokio::test]
async fn every_documented_route_exists_in_the_router() {
    let router = app();
    let documented = documented();
    assert!(!documented.is_empty());
    for (method, path) in documented {
        let concrete = path.replace("{id}", "demo").replace("{sub}", "user-1");
        let request = Request::builder()
            .method(method.as_str())
            .uri(&concrete)
            .body(Body::empty())
            .expect("request");
        let response = router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let reason = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["reason"].as_str().map(str::to_owned));
        assert!(
            !matches!(reason.as_deref(), Some("not_found" | "method_not_allowed")),
            "{method} {path} is documented but the router answers {reason:?}"
        );
    }
}
