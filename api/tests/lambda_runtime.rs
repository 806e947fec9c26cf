//! The API and pre-token functions as Lambda runs them: the real binaries,
//! started with the environment variables the SAM template gives them,
//! polling a Lambda Runtime API that this test serves on loopback, and
//! answering real API Gateway HTTP API (v2) events that carry the JWT
//! authorizer's context and real pre-token-generation V2 events. Secrets
//! come from moto's Secrets Manager by ARN, data from DynamoDB Local, the
//! JWKS over HTTP: what a deploy runs, before any account sees it.

mod support;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use reelgate_api::dynamo::DynamoStore;
use reelgate_tests::tokens::{self, CLIENT, ISSUER};
use reelgate_tests::{
    create_secret, dynamodb_client, dynamodb_local, moto_server, repo_root, runtime_invocation,
};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

const API_PREFIX: &str = "/2018-06-01/runtime";
const KEY_PAIR_ID: &str = "K2LAMBDATEST";
const WEBHOOK_SECRET: &str = "whsec_lambda_runtime_test";

/// One invocation waiting for the function's answer.
struct Pending {
    id: String,
    event: String,
    answer: oneshot::Sender<Result<Value, Value>>,
}

#[derive(Default)]
struct RuntimeState {
    queue: tokio::sync::Mutex<Option<mpsc::Receiver<Pending>>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Result<Value, Value>>>>,
    init_error: Mutex<Option<Value>>,
    jwks: String,
}

/// The Lambda Runtime API (the endpoints `lambda_runtime` calls), plus the
/// user pool's JWKS, on one loopback port.
struct LambdaRuntime {
    address: String,
    invocations: mpsc::Sender<Pending>,
    state: Arc<RuntimeState>,
    next_id: std::sync::atomic::AtomicU64,
}

impl LambdaRuntime {
    async fn start() -> Self {
        let (invocations, queue) = mpsc::channel(8);
        let state = Arc::new(RuntimeState {
            queue: tokio::sync::Mutex::new(Some(queue)),
            jwks: serde_json::to_string(&tokens::jwks()).unwrap(),
            ..RuntimeState::default()
        });
        let app = Router::new()
            .route(&format!("{API_PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{API_PREFIX}/invocation/{{id}}/response"),
                post(respond),
            )
            .route(&format!("{API_PREFIX}/invocation/{{id}}/error"), post(fail))
            .route(&format!("{API_PREFIX}/init/error"), post(init_error))
            .route("/jwks.json", get(jwks))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            address,
            invocations,
            state,
            next_id: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// Invokes the function polling this runtime: its response, or its
    /// error document.
    async fn invoke(&self, event: Value) -> Result<Value, Value> {
        let id = format!(
            "req-{}",
            self.next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let (answer, answered) = oneshot::channel();
        self.invocations
            .send(Pending {
                id,
                event: event.to_string(),
                answer,
            })
            .await
            .unwrap();
        match tokio::time::timeout(Duration::from_secs(20), answered).await {
            Ok(Ok(answer)) => answer,
            _ => panic!(
                "the function did not answer within 20 s (init error: {:?})",
                self.state.init_error.lock().unwrap()
            ),
        }
    }
}

async fn next(State(state): State<Arc<RuntimeState>>) -> Response {
    let mut queue = state.queue.lock().await;
    let Some(pending) = queue.as_mut().unwrap().recv().await else {
        return StatusCode::GONE.into_response();
    };
    state
        .in_flight
        .lock()
        .unwrap()
        .insert(pending.id.clone(), pending.answer);
    runtime_invocation(&pending.id, "reelgate", pending.event)
}

fn settle(state: &RuntimeState, id: &str, answer: Result<Value, Value>) -> StatusCode {
    match state.in_flight.lock().unwrap().remove(id) {
        Some(waiting) => {
            let _ = waiting.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn respond(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    settle(&state, &id, Ok(serde_json::from_slice(&body).unwrap()))
}

async fn fail(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    settle(
        &state,
        &id,
        Err(serde_json::from_slice(&body).unwrap_or(Value::Null)),
    )
}

async fn init_error(
    State(state): State<Arc<RuntimeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let kind = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    *state.init_error.lock().unwrap() = Some(json!({
        "type": kind, "body": String::from_utf8_lossy(&body),
    }));
    StatusCode::ACCEPTED
}

async fn jwks(State(state): State<Arc<RuntimeState>>) -> String {
    state.jwks.clone()
}

/// A function process: killed when dropped; its output goes to a file.
struct Function {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("the function's output: {}", self.log.display());
        }
    }
}

/// Starts `binary` as Lambda does: the runtime's address and the function's
/// identity in the environment, plus `env`.
fn start_function(binary: &str, runtime: &LambdaRuntime, env: &[(&str, String)]) -> Function {
    let name = std::path::Path::new(binary)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let log = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}.log", runtime.address.replace(':', "-")));
    let output = std::fs::File::create(&log).unwrap();
    let child = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &runtime.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/30/[$LATEST]test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    Function { child, log }
}

/// An API Gateway HTTP API (payload 2.0) event as the JWT authorizer
/// passes it on: the verified claims in `requestContext.authorizer.jwt`.
fn http_event(
    method: &str,
    raw_path: &str,
    query: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Value {
    let mut headers = json!({
        "accept": "application/json",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "reelgate-test",
        "x-forwarded-for": "198.51.100.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    });
    let mut authorizer = Value::Null;
    if let Some(token) = token {
        headers["authorization"] = json!(format!("Bearer {token}"));
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        let claims: serde_json::Map<String, Value> = claims
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Value::String(v.to_string().trim_matches('"').to_owned()),
                )
            })
            .collect();
        authorizer = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("{method} /api/{{proxy+}}"),
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "reelgate-test"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": format!("{method} /api/{{proxy+}}"),
            "stage": "$default",
            "time": "30/Nov/2026:18:00:00 +0000",
            "timeEpoch": 1_796_061_600_000u64,
        },
        "pathParameters": {"proxy": raw_path.trim_start_matches("/api/")},
        "isBase64Encoded": false,
    });
    if !authorizer.is_null() {
        event["requestContext"]["authorizer"] = authorizer;
    }
    if !query.is_empty() {
        let parameters: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        event["queryStringParameters"] = Value::Object(parameters);
    }
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

/// A function's HTTP answer: status and JSON body.
fn http_answer(answer: Result<Value, Value>) -> (u16, Value) {
    let answer = answer.unwrap_or_else(|e| panic!("the function failed: {e}"));
    let status = u16::try_from(answer["statusCode"].as_u64().unwrap()).unwrap();
    let body = answer["body"]
        .as_str()
        .map(|b| serde_json::from_str(b).unwrap_or(Value::String(b.to_owned())))
        .unwrap_or(Value::Null);
    (status, body)
}

fn now() -> u64 {
    reelgate_api::auth::now().get()
}

/// The API function's environment, as infra/template.yaml sets it (names
/// and meaning), pointed at the loopback servers.
async fn api_environment(
    runtime: &LambdaRuntime,
    dynamodb: &str,
    moto: &str,
) -> Vec<(&'static str, String)> {
    let signing_key =
        std::fs::read_to_string(repo_root().join("shared/tests/keys/p256.pkcs8.pem")).unwrap();
    vec![
        ("REELGATE_TABLE", "reelgate".to_owned()),
        ("REELGATE_ISSUER", ISSUER.to_owned()),
        ("REELGATE_CLIENT_IDS", CLIENT.to_owned()),
        ("REELGATE_KEY_PAIR_ID", KEY_PAIR_ID.to_owned()),
        (
            "REELGATE_RESOURCE_BASE",
            "https://d111111abcdef8.cloudfront.net".to_owned(),
        ),
        (
            "REELGATE_WEBHOOK_SECRET_ARN",
            create_secret(moto, "reelgate/webhook", WEBHOOK_SECRET).await,
        ),
        (
            "REELGATE_SIGNING_KEY_SECRET_ARN",
            create_secret(moto, "reelgate/signing-key-a", &signing_key).await,
        ),
        // The template's issuer serves its JWKS; here the runtime's server does.
        (
            "REELGATE_JWKS_URL",
            format!("http://{}/jwks.json", runtime.address),
        ),
        ("REELGATE_ALLOW_PUBLIC_TEST_KEYS", "true".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.to_owned()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.to_owned()),
    ]
}

#[tokio::test]
#[ignore = "needs DynamoDB Local and moto_server from scripts/setup; scripts/test runs it"]
async fn the_api_function_answers_api_gateway_v2_events_under_the_runtime_api() {
    let (dynamodb, moto) = (dynamodb_local(), moto_server());
    DynamoStore::new(dynamodb_client(&dynamodb.endpoint()).await, "reelgate")
        .create_table_if_missing()
        .await
        .unwrap();
    let runtime = LambdaRuntime::start().await;
    let env = api_environment(&runtime, &dynamodb.endpoint(), &moto.endpoint()).await;
    let _function = start_function(env!("CARGO_BIN_EXE_reelgate-api"), &runtime, &env);

    let sub = "c0ffee00-0000-4000-8000-000000000001";
    let token = tokens::access_token(sub, now(), json!({}));

    // No token: 401 problem+json, as through API Gateway.
    let (status, body) = http_answer(
        runtime
            .invoke(http_event("GET", "/api/me/entitlements", "", None, None))
            .await,
    );
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("token_missing"))
    );

    // A signed purchase, then the caller's entitlements show it.
    let purchase = json!({"event_id": format!("evt_runtime_{}", now()), "type": "purchase.succeeded", "user_sub": sub, "video_id": "demo"}).to_string();
    let signature =
        reelgate_api::webhook::sign(WEBHOOK_SECRET.as_bytes(), now(), purchase.as_bytes());
    let mut event = http_event("POST", "/api/webhooks/payments", "", None, Some(&purchase));
    event["headers"]["reelgate-signature"] = json!(signature);
    let (status, body) = http_answer(runtime.invoke(event).await);
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("applied")),
        "{body}"
    );

    let (status, body) = http_answer(
        runtime
            .invoke(http_event(
                "GET",
                "/api/me/entitlements",
                "",
                Some(&token),
                None,
            ))
            .await,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["grants"][0]["video_id"], "demo");

    // The seed's signed URL, signed with the key read from Secrets Manager.
    let (status, body) = http_answer(
        runtime
            .invoke(http_event(
                "GET",
                "/api/videos/demo/signed-url",
                "path=master.m3u8",
                Some(&token),
                None,
            ))
            .await,
    );
    assert_eq!(status, 200, "{body}");
    let url = body["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://d111111abcdef8.cloudfront.net/videos/demo/master.m3u8?"),
        "{url}"
    );
    assert!(
        url.ends_with(&format!("Key-Pair-Id={KEY_PAIR_ID}")),
        "{url}"
    );

    // Bad path input through API Gateway's encoding: a problem document.
    let (status, body) = http_answer(
        runtime
            .invoke(http_event(
                "GET",
                "/api/videos/%FF/signed-url",
                "",
                Some(&token),
                None,
            ))
            .await,
    );
    assert_eq!(
        (status, body["reason"].as_str()),
        (400, Some("invalid_path")),
        "{body}"
    );
}

#[tokio::test]
#[ignore = "needs DynamoDB Local and moto_server from scripts/setup; scripts/test runs it"]
async fn the_api_function_refuses_to_start_without_its_secret_and_names_it() {
    let (dynamodb, moto) = (dynamodb_local(), moto_server());
    let runtime = LambdaRuntime::start().await;
    let mut env = api_environment(&runtime, &dynamodb.endpoint(), &moto.endpoint()).await;
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:reelgate/absent-AbCdEf";
    for (name, value) in &mut env {
        if *name == "REELGATE_WEBHOOK_SECRET_ARN" {
            *value = missing.to_owned();
        }
    }
    let mut function = start_function(env!("CARGO_BIN_EXE_reelgate-api"), &runtime, &env);
    let status = tokio::task::spawn_blocking(move || {
        let status = function.child.wait();
        (
            status,
            std::fs::read_to_string(&function.log).unwrap_or_default(),
        )
    });
    let (status, output) = tokio::time::timeout(Duration::from_secs(30), status)
        .await
        .expect("the function exits instead of serving")
        .unwrap();
    assert!(!status.unwrap().success());
    assert!(output.contains("reelgate/absent"), "{output}");
    assert!(output.contains("REELGATE_WEBHOOK_SECRET_ARN"), "{output}");
}

#[tokio::test]
#[ignore = "needs DynamoDB Local from scripts/setup; scripts/test runs it"]
async fn the_pre_token_function_adds_claims_to_a_documented_v2_event() {
    let dynamodb = dynamodb_local();
    let store = DynamoStore::new(dynamodb_client(&dynamodb.endpoint()).await, "reelgate");
    store.create_table_if_missing().await.unwrap();
    let sub = "c0ffee00-0000-4000-8000-000000000002";
    let purchase = format!(
        r#"{{"event_id":"evt_pre_{sub}","type":"purchase.succeeded","user_sub":"{sub}","video_id":"demo"}}"#
    );
    reelgate_shared::store::EntitlementStore::apply_payment(
        &store,
        &reelgate_shared::entitlement::PaymentEvent::parse(purchase.as_bytes()).unwrap(),
        reelgate_api::auth::now(),
    )
    .await
    .unwrap();
    let runtime = LambdaRuntime::start().await;
    let _function = start_function(
        env!("CARGO_BIN_EXE_reelgate-pre-token"),
        &runtime,
        &[
            ("REELGATE_TABLE", "reelgate".to_owned()),
            ("REELGATE_CLAIMS_MAX_GRANTS", "50".to_owned()),
            ("REELGATE_TRIGGER_TIMEOUT_MS", "1500".to_owned()),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.endpoint()),
        ],
    );
    let event = support::documented_pre_token_event(sub);
    let answer = runtime.invoke(event).await.unwrap();
    let added = &answer["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"];
    let claim = added[reelgate_shared::entitlement::CLAIM]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    let decoded = reelgate_shared::entitlement::TokenEntitlements::decode(claim).unwrap();
    assert_eq!(decoded.grants.len(), 1, "{claim}");
    assert_eq!(decoded.grants[0].0.as_str(), "demo");
}
