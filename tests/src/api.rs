//! The API's router over the DynamoDB store, on a DynamoDB Local the test
//! starts and stops: the fixture the DynamoDB tests share, and how they
//! send it a request.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use reelgate_api::auth::{Authenticator, JwksSource};
use reelgate_api::dynamo::DynamoStore;
use reelgate_api::{App, router};
use reelgate_shared::config::{ApiConfig, SecretSource};
use reelgate_shared::crypto::native::SigningKey;
use serde_json::Value;
use tower::ServiceExt;

use crate::{Server, dynamodb_client, dynamodb_local, tokens};

/// The P-256 test key the fixture's API signs URLs with.
pub const SIGNING_KEY: &str = include_str!("../../shared/tests/keys/p256.pkcs8.pem");
/// The generic payments webhook's secret, unless a test gives another.
pub const WEBHOOK_SECRET: &str = "whsec_test_secret";

/// The API on its own DynamoDB Local (table `reelgate`, created), which
/// stops when this is dropped.
pub struct ApiOnDynamoDb {
    pub router: axum::Router,
    pub store: DynamoStore,
    _server: Server,
}

/// Starts DynamoDB Local and builds the API as `reelgate-api` would from
/// its environment: the test issuer and client, a CloudFront resource base,
/// table `reelgate`, [`SIGNING_KEY`] and [`WEBHOOK_SECRET`], with
/// `variables` added or overriding them. Secrets are inline, as the local
/// stack gives them; the API holds exactly what its config says.
pub async fn api_on_dynamodb(variables: &[(&str, &str)]) -> ApiOnDynamoDb {
    let server = dynamodb_local();
    let store = DynamoStore::new(dynamodb_client(&server.endpoint()).await, "reelgate");
    assert!(store.create_table_if_missing().await.unwrap());
    let mut env: HashMap<&str, &str> = HashMap::from([
        ("REELGATE_ISSUER", tokens::ISSUER),
        ("REELGATE_CLIENT_IDS", tokens::CLIENT),
        ("REELGATE_KEY_PAIR_ID", "K2APITEST"),
        (
            "REELGATE_RESOURCE_BASE",
            "https://d111111abcdef8.cloudfront.net",
        ),
        ("REELGATE_TABLE", "reelgate"),
        ("REELGATE_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("REELGATE_SIGNING_KEY_PEM", SIGNING_KEY),
    ]);
    env.extend(variables.iter().copied());
    let config =
        ApiConfig::from_env(&|name| env.get(name).map(|v| (*v).to_owned())).expect("test config");
    let app = App {
        store: store.clone(),
        auth: Authenticator::new(config.verifier.clone(), tokens::jwks(), JwksSource::Fixed),
        webhook_secret: inline(&config.webhook_secret).into_bytes(),
        stripe_webhook_secret: config
            .stripe_webhook_secret
            .as_ref()
            .map(|secret| inline(secret).into_bytes()),
        signing_key: SigningKey::from_pem(&inline(&config.signing_key)).unwrap(),
        config,
    };
    ApiOnDynamoDb {
        router: router(Arc::new(app)),
        store,
        _server: server,
    }
}

fn inline(source: &SecretSource) -> String {
    match source {
        SecretSource::Inline(value) => value.clone(),
        SecretSource::Arn(_) => panic!("the fixture gives its secrets inline"),
    }
}

/// One request through the router: its status, its body as JSON (`Null`
/// when it is not JSON) and its headers.
pub async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, Value, HeaderMap) {
    let response = router.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}
