//! The API router with an arbitrary path and query (and method), as an
//! authenticated admin on the in-memory store: every answer is a client or
//! success status, never a 500, never a panic.
//! Input: a method byte, then `path?query`.
#![no_main]

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use libfuzzer_sys::fuzz_target;
use reelgate_api::auth::{Authenticator, JwksSource};
use reelgate_api::{App, router};
use reelgate_fuzz::{CLIENT, IDP_KEY, ISSUER, KID, SIGNING_KEY, jwks_json};
use reelgate_shared::config::ApiConfig;
use reelgate_shared::crypto::native::SigningKey;
use reelgate_shared::jwt::Jwks;
use reelgate_shared::store::MemoryStore;
use rsa::pkcs8::DecodePrivateKey;
use tower::ServiceExt;

/// The API authenticates with the wall clock, so the token is minted from it.
static ADMIN_TOKEN: LazyLock<String> = LazyLock::new(|| {
    let now = reelgate_api::auth::now().get();
    let claims = serde_json::json!({
        "sub": "fuzz-admin", "iss": ISSUER, "token_use": "access", "client_id": CLIENT,
        "iat": now, "exp": now + 86_400, "username": "fuzz-admin", "cognito:groups": ["admin"],
    });
    let input = format!(
        "{}.{}",
        B64.encode(serde_json::json!({"alg": "RS256", "kid": KID}).to_string()),
        B64.encode(claims.to_string())
    );
    let key = rsa::PrivateKey::from_pkcs8_pem(IDP_KEY).expect("test key parses");
    let signature = key
        .pkcs1v15_sign::<rsa::sha2::Sha256>(input.as_bytes())
        .expect("signing");
    format!("{input}.{}", B64.encode(signature))
});

static ROUTER: LazyLock<Router> = LazyLock::new(|| {
    let env = |name: &str| match name {
        "REELGATE_ISSUER" => Some(ISSUER.to_owned()),
        "REELGATE_CLIENT_IDS" => Some(CLIENT.to_owned()),
        "REELGATE_KEY_PAIR_ID" => Some("K2FUZZ".to_owned()),
        "REELGATE_TABLE" => Some("reelgate".to_owned()),
        "REELGATE_WEBHOOK_SECRET" => Some("whsec".to_owned()),
        "REELGATE_SIGNING_KEY_PEM" => Some(SIGNING_KEY.to_owned()),
        _ => None,
    };
    let config = ApiConfig::from_env(&env).expect("fixture config");
    let jwks = Jwks::parse(&jwks_json()).expect("fixture JWKS");
    router(Arc::new(App {
        store: MemoryStore::new(),
        auth: Authenticator::new(config.verifier.clone(), jwks, JwksSource::Fixed),
        config,
        webhook_secret: b"whsec".to_vec(),
        stripe_webhook_secret: None,
        signing_key: SigningKey::from_pem(SIGNING_KEY).expect("fixture key"),
    }))
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
});

/// Bodies the admin PUTs accept (a grant, a plan), so they reach the store.
const GRANT: &str = r#"{"expires_at":4102444800}"#;
const PLAN: &str = r#"{"premium_until":4102444800}"#;

const METHODS: [Method; 4] = [Method::GET, Method::PUT, Method::DELETE, Method::POST];

fuzz_target!(|data: &[u8]| {
    let Some((&method, rest)) = data.split_first() else {
        return;
    };
    let Ok(path_and_query) = std::str::from_utf8(rest) else {
        return;
    };
    let body = if path_and_query.contains("/videos/") {
        GRANT
    } else {
        PLAN
    };
    // What hyper would refuse before the router ever saw it is out of scope.
    let Ok(request) = Request::builder()
        .method(METHODS[usize::from(method) % METHODS.len()].clone())
        .uri(format!("/api/{path_and_query}"))
        .header("authorization", format!("Bearer {}", *ADMIN_TOKEN))
        .header("content-type", "application/json")
        .body(Body::from(body))
    else {
        return;
    };
    let response = RUNTIME
        .block_on(ROUTER.clone().oneshot(request))
        .expect("infallible");
    assert_ne!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
});
