//! The API's authentication against real Cognito-shaped tokens from
//! moto_server: a pool, an app client, users and an `admin` group created
//! through moto's Cognito API, `USER_PASSWORD_AUTH` sign-in, and the JWKS
//! fetched over HTTP from moto. moto signs with a published key, so a
//! production configuration must refuse it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use reelgate_api::auth::{Authenticator, JwksSource};
use reelgate_api::{App, router};
use reelgate_shared::config::ApiConfig;
use reelgate_shared::crypto::native::SigningKey;
use reelgate_shared::jwt::{Jwks, VerifierConfig};
use reelgate_shared::store::MemoryStore;
use reelgate_tests::{moto_server, python, repo_root, run_with_stdin};
use serde_json::Value;
use tower::ServiceExt;

const SIGNING_KEY: &str = include_str!("../../shared/tests/keys/p256.pkcs8.pem");

fn pool(endpoint: &str) -> Value {
    let script = repo_root().join("tests/py/moto_cognito.py");
    let out = run_with_stdin(
        &python(),
        &[script.to_str().unwrap(), endpoint],
        &repo_root(),
        "",
    );
    serde_json::from_str(&out).unwrap()
}

fn app(pool: &Value, allow_test_keys: bool) -> axum::Router {
    let mut verifier = VerifierConfig::new(
        pool["issuer"].as_str().unwrap(),
        vec![pool["client_id"].as_str().unwrap().to_owned()],
    );
    verifier.allow_public_test_keys = allow_test_keys;
    let source = JwksSource::Http {
        url: pool["jwks_url"].as_str().unwrap().to_owned(),
        client: reqwest_client(),
    };
    let env = |name: &str| match name {
        "REELGATE_ISSUER" => pool["issuer"].as_str().map(str::to_owned),
        "REELGATE_CLIENT_IDS" => pool["client_id"].as_str().map(str::to_owned),
        "REELGATE_KEY_PAIR_ID" => Some("K2MOTO".into()),
        "REELGATE_RESOURCE_BASE" => Some("https://d111111abcdef8.cloudfront.net".into()),
        "REELGATE_TABLE" => Some("reelgate".into()),
        "REELGATE_WEBHOOK_SECRET" => Some("whsec".into()),
        "REELGATE_SIGNING_KEY_PEM" => Some(SIGNING_KEY.into()),
        _ => None,
    };
    let config = ApiConfig::from_env(&env).unwrap();
    let app = App {
        store: MemoryStore::new(),
        // An empty JWKS: the first request must fetch it from moto.
        auth: Authenticator::new(verifier, Jwks::default(), source),
        config,
        webhook_secret: b"whsec".to_vec(),
        stripe_webhook_secret: None,
        signing_key: SigningKey::from_pem(SIGNING_KEY).unwrap(),
    };
    router(Arc::new(app))
}

fn reqwest_client() -> reelgate_api::auth::HttpClient {
    reelgate_api::auth::HttpClient::new()
}

async fn call(router: &axum::Router, path: &str, token: &str) -> (StatusCode, Value) {
    let request = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/setup; scripts/test runs it"]
async fn moto_issued_access_tokens_authenticate_and_carry_groups() {
    let server = moto_server();
    let pool = pool(&server.endpoint());
    let router = app(&pool, true);
    let bob = pool["tokens"]["bob"]["access"].as_str().unwrap();
    let carol = pool["tokens"]["carol"]["access"].as_str().unwrap();
    let (status, me) = call(&router, "/api/me/entitlements", carol).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["premium"], false);
    let (status, _) = call(&router, "/api/admin/users/someone", bob).await;
    assert_eq!(status, StatusCode::OK, "bob is in moto's admin group");
    let (status, body) = call(&router, "/api/admin/users/someone", carol).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let id_token = pool["tokens"]["carol"]["id"].as_str().unwrap();
    let (status, body) = call(&router, "/api/me/entitlements", id_token).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong_token_use"))
    );
}

#[tokio::test]
#[ignore = "needs moto_server from scripts/setup; scripts/test runs it"]
async fn a_production_configuration_refuses_moto_s_published_key() {
    let server = moto_server();
    let pool = pool(&server.endpoint());
    let router = app(&pool, false);
    let carol = pool["tokens"]["carol"]["access"].as_str().unwrap();
    let (status, body) = call(&router, "/api/me/entitlements", carol).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("test_key_refused"))
    );
}
