//! Benchmark (not a test): the API function's cold start beside the floor a
//! user would pick, a bare `lambda_http` hello-world (`lambda_http_floor`),
//! and beside the same hello-world doing the AWS work at init that any
//! function with the API's job does by hand (`lambda_http_sdk_floor`: AWS
//! config, its two secrets, a DynamoDB client), all release builds for this
//! machine, started the way Lambda starts a
//! `provided.al2023` function: a fresh process with the runtime's address
//! in `AWS_LAMBDA_RUNTIME_API`, polling a Lambda Runtime API that this
//! program serves on loopback (as `api/tests/lambda_runtime.rs` does).
//!
//! Per sample, a fresh process and a fresh runtime server; the clock starts
//! just before the spawn and reads:
//! - **init**: the first `GET /runtime/invocation/next`, where Lambda's
//!   reported Init Duration ends (the function is ready for its event);
//! - **first response**: the answer to one API Gateway HTTP API (v2) event,
//!   `GET /api/me/entitlements` without a token (401 from the API, 200
//!   from the floor; neither touches the network), the cold request's total.
//!
//! The API gets the environment infra/template.yaml gives it (defaults:
//! Stripe off) with its two secrets in `moto_server` on loopback, so its
//! init includes loading the AWS config and the two `GetSecretValue` round
//! trips, as deployed. Samples rotate which variant runs first; medians and
//! minimums.
//!
//! `scripts/bench-lambda-init` (builds both, then runs this with their paths).

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use reelgate_tests::tokens::{CLIENT, ISSUER};
use reelgate_tests::{create_secret, moto_server, repo_root, runtime_invocation};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const ROUNDS: usize = 31;
const API_PREFIX: &str = "/2018-06-01/runtime";

/// One sample's runtime: serves the event once, notes when it was asked
/// for, and hands over the answer.
#[derive(Default)]
struct Sample {
    first_next: Mutex<Option<Instant>>,
    answered: Mutex<Option<oneshot::Sender<(Instant, Value)>>>,
}

async fn next(State(sample): State<Arc<Sample>>) -> Response {
    let first = {
        let mut first_next = sample.first_next.lock().unwrap();
        let first = first_next.is_none();
        first_next.get_or_insert_with(Instant::now);
        first
    };
    if !first {
        // The function asks for its next event after answering: keep it
        // waiting until it is killed, as an idle Lambda sandbox does.
        std::future::pending::<()>().await;
    }
    runtime_invocation("bench-1", "reelgate-api", event().to_string())
}

async fn respond(State(sample): State<Arc<Sample>>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let answer = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(answered) = sample.answered.lock().unwrap().take() {
        let _ = answered.send((at, answer));
    }
    StatusCode::ACCEPTED
}

async fn failed(State(sample): State<Arc<Sample>>, body: Bytes) -> StatusCode {
    let answer = json!({"error": String::from_utf8_lossy(&body)});
    if let Some(answered) = sample.answered.lock().unwrap().take() {
        let _ = answered.send((Instant::now(), answer));
    }
    StatusCode::ACCEPTED
}

/// An API Gateway HTTP API (payload 2.0) event with no token.
fn event() -> Value {
    json!({
        "version": "2.0",
        "routeKey": "GET /api/{proxy+}",
        "rawPath": "/api/me/entitlements",
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": "GET", "path": "/api/me/entitlements", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "bench"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "GET /api/{proxy+}",
            "stage": "$default",
            "time": "01/Dec/2026:04:00:00 +0000",
            "timeEpoch": 1_796_097_600_000u64,
        },
        "pathParameters": {"proxy": "me/entitlements"},
        "isBase64Encoded": false,
    })
}

/// Spawns `binary` under a fresh runtime server; returns (init, first
/// response) and the response's status code.
async fn sample(binary: &str, env: &[(&str, String)]) -> (Duration, Duration, u64) {
    let state = Arc::new(Sample::default());
    let (answered, answer) = oneshot::channel();
    *state.answered.lock().unwrap() = Some(answered);
    let app = Router::new()
        .route(&format!("{API_PREFIX}/invocation/next"), get(next))
        .route(
            &format!("{API_PREFIX}/invocation/{{id}}/response"),
            post(respond),
        )
        .route(
            &format!("{API_PREFIX}/invocation/{{id}}/error"),
            post(failed),
        )
        .route(&format!("{API_PREFIX}/init/error"), post(failed))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "reelgate-api")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/reelgate-api")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/01/[$LATEST]bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let (responded, body) = tokio::time::timeout(Duration::from_secs(30), answer)
        .await
        .unwrap_or_else(|_| panic!("{binary} did not answer within 30 s"))
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    server.abort();
    let init = state.first_next.lock().unwrap().unwrap() - started;
    let status = body["statusCode"].as_u64().unwrap_or_else(|| {
        panic!("{binary} answered without a status: {body}");
    });
    (init, responded - started, status)
}

/// One function to start: its label, binary and environment, and the
/// status its answer must have.
struct Variant<'a> {
    name: &'static str,
    binary: &'a str,
    env: &'a [(&'static str, String)],
    status: u64,
}

/// Median and minimum in milliseconds: on a shared machine the minimum is
/// the sample least disturbed by other work.
fn median(mut xs: Vec<Duration>) -> (f64, f64) {
    xs.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(xs[xs.len() / 2]), ms(xs[0]))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [api, floor, sdk_floor] = <[String; 3]>::try_from(args).expect(
        "usage: bench_lambda_init API_BINARY FLOOR_BINARY SDK_FLOOR_BINARY (scripts/bench-lambda-init)",
    );
    let moto = moto_server();
    let signing_key =
        std::fs::read_to_string(repo_root().join("shared/tests/keys/p256.pkcs8.pem")).unwrap();
    // infra/template.yaml's ApiFunction variables (StripeWebhooks disabled, its default).
    let api_env = vec![
        ("REELGATE_TABLE", "reelgate".to_owned()),
        ("REELGATE_ISSUER", ISSUER.to_owned()),
        ("REELGATE_CLIENT_IDS", CLIENT.to_owned()),
        ("REELGATE_KEY_PAIR_ID", "K2BENCHINIT".to_owned()),
        (
            "REELGATE_RESOURCE_BASE",
            "https://d111111abcdef8.cloudfront.net".to_owned(),
        ),
        (
            "REELGATE_WEBHOOK_SECRET_ARN",
            create_secret(&moto.endpoint(), "reelgate/webhook", "whsec_bench").await,
        ),
        ("REELGATE_STRIPE_WEBHOOK_SECRET_ARN", String::new()),
        (
            "REELGATE_SIGNING_KEY_SECRET_ARN",
            create_secret(&moto.endpoint(), "reelgate/signing-key-a", &signing_key).await,
        ),
        // The test issuer's keys are public test keys; nothing here verifies a token.
        ("REELGATE_ALLOW_PUBLIC_TEST_KEYS", "true".to_owned()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto.endpoint()),
    ];

    // The same binary with its secrets inline (the local form of the same
    // variables): the difference to `api_env` is the secret fetch.
    let mut inline_env: Vec<(&str, String)> = api_env
        .iter()
        .filter(|(name, _)| !name.ends_with("_SECRET_ARN"))
        .cloned()
        .collect();
    inline_env.push(("REELGATE_WEBHOOK_SECRET", "whsec_bench".to_owned()));
    inline_env.push(("REELGATE_SIGNING_KEY_PEM", signing_key.clone()));
    // The TLS clients (the AWS SDK's and the JWKS client's) load the system's
    // CA roots at init: here a bundle plus a directory of ~300 per-CA files
    // (Debian's /etc/ssl/certs); Lambda's provided.al2023 has one bundle file.
    // SSL_CERT_FILE alone makes rustls-native-certs read just the bundle.
    let mut one_bundle_env = api_env.clone();
    one_bundle_env.push((
        "SSL_CERT_FILE",
        "/etc/ssl/certs/ca-certificates.crt".to_owned(),
    ));
    let mut inline_one_bundle_env = inline_env.clone();
    inline_one_bundle_env.push(one_bundle_env.last().unwrap().clone());
    let variants = [
        Variant {
            name: "reelgate-api (secrets from Secrets Manager, as deployed)",
            binary: &api,
            env: &api_env,
            status: 401,
        },
        Variant {
            name: "reelgate-api (as deployed, CA roots from one bundle file as on AL2023)",
            binary: &api,
            env: &one_bundle_env,
            status: 401,
        },
        Variant {
            name: "reelgate-api (secrets inline)",
            binary: &api,
            env: &inline_env,
            status: 401,
        },
        Variant {
            name: "reelgate-api (secrets inline, one CA bundle)",
            binary: &api,
            env: &inline_one_bundle_env,
            status: 401,
        },
        Variant {
            name: "lambda_http floor",
            binary: &floor,
            env: &[],
            status: 200,
        },
        Variant {
            name: "lambda_http + AWS config, the two secrets, a DynamoDB client (by hand)",
            binary: &sdk_floor,
            env: &api_env,
            status: 200,
        },
    ];

    // One unmeasured run each, checking the answer: the page cache then
    // holds both binaries, as it holds a function's code on a Lambda host.
    for variant in &variants {
        let (_, _, status) = sample(variant.binary, variant.env).await;
        assert_eq!(status, variant.status, "{}", variant.name);
    }
    let mut init = vec![vec![]; variants.len()];
    let mut first = vec![vec![]; variants.len()];
    for round in 0..ROUNDS {
        for k in 0..variants.len() {
            let which = (round + k) % variants.len();
            let (i, f, _) = sample(variants[which].binary, variants[which].env).await;
            init[which].push(i);
            first[which].push(f);
        }
    }
    let size = |path: &str| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{ROUNDS} cold starts each, interleaved; medians\n\
         | function | binary | init (to first /next) | first response |\n|---|---|---|---|"
    );
    let medians: Vec<((f64, f64), (f64, f64))> = init
        .into_iter()
        .zip(first)
        .map(|(i, f)| (median(i), median(f)))
        .collect();
    for (variant, (i, f)) in variants.iter().zip(&medians) {
        println!(
            "| {} | {} B | {:.1} ms (min {:.1}) | {:.1} ms (min {:.1}) |",
            variant.name,
            size(variant.binary),
            i.0,
            i.1,
            f.0,
            f.1
        );
    }
    let (floor, sdk_floor) = (medians[4], medians[5]);
    println!(
        "reelgate-api (as deployed) ÷ the same AWS work by hand, medians: init {:.2}×, first response {:.2}×",
        medians[0].0.0 / sdk_floor.0.0,
        medians[0].1.0 / sdk_floor.1.0
    );
    for (k, label) in [
        (0, "as deployed"),
        (1, "as deployed, one CA bundle"),
        (2, "secrets inline"),
        (3, "secrets inline, one CA bundle"),
    ] {
        println!(
            "reelgate-api ({label}) ÷ floor, medians: init {:.2}×, first response {:.2}× (budget ≤ 1.5×)",
            medians[k].0.0 / floor.0.0,
            medians[k].1.0 / floor.1.0
        );
    }
}
