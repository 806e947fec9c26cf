//! `reelgate dev`: the whole system on one machine (ARCHITECTURE §9).
//!
//! One process on 127.0.0.1 routes by path like the real distribution:
//! `/session/*` → the edge authorizer; `/videos/*` → CloudFront's
//! signed-cookie check (the shared validator) then the local origin;
//! `/api/*` → the API router; `/idp/` → a Cognito-compatible identity
//! provider; `/dev/*` → the demo's config and simulated payment provider;
//! `/` → the demo player.

mod edge_host;
mod idp;
mod origin;
mod payments;
mod store;
mod users;
mod web;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use clap::Args;
use reelgate_api::auth::{Authenticator, JwksSource};
use reelgate_api::dynamo::DynamoStore;
use reelgate_edge::Edge;
use reelgate_edge::event::{
    HeaderValue as EdgeHeader, Headers, Request as EdgeRequest, Response as EdgeResponse,
};
use reelgate_shared::cloudfront::validator;
use reelgate_shared::config::{ApiConfig, EdgeConfig, KeySource};
use reelgate_shared::crypto::PolicyHash;
use reelgate_shared::crypto::native::{NativeCrypto, PublicKey, PublicKeySet, SigningKey};
use reelgate_shared::store::{EntitlementStore, MemoryStore};
use reelgate_shared::{EpochSeconds, VideoId};
use serde_json::{Value, json};

use crate::error::CliError;
use edge_host::EdgeHost;
use idp::{DevIdp, InitiateAuthRequest};
use store::DevStore;

/// The dev stack's keys are public (they are in the repository), and every
/// production configuration refuses them.
const EDGE_CONFIG: &str = include_str!("../../../edge-auth/config.dev.json");
const IDP_KEY: &str = include_str!("keys/idp-dev.pem");
const CLOUDFRONT_PUBLIC_KEY: &str = include_str!("keys/cloudfront-dev.pub.pem");
const WEBHOOK_SECRET: &str = "whsec_reelgate_local_dev";
/// How many titles the dev identity provider puts in a token, like the trigger.
const CLAIMS_MAX_GRANTS: usize = 50;

#[derive(Args)]
pub struct DevArgs {
    /// Port on 127.0.0.1 to serve everything on.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Folder of titles: one sub-folder per title id holding master.m3u8 (default: the repository's media/).
    #[arg(long)]
    media: Option<PathBuf>,
    /// Use this DynamoDB endpoint (e.g. DynamoDB Local) instead of the in-memory store.
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// Use DynamoDB in your AWS account (credentials and region from the environment).
    #[arg(long, conflicts_with = "dynamodb_endpoint")]
    aws: bool,
    /// DynamoDB table name (created and seeded with the demo users if absent).
    #[arg(long, default_value = "reelgate-dev")]
    table: String,
    /// Run the real Lambda@Edge bundle (dist/edge-auth from scripts/build-edge) in Node instead of the native host.
    #[arg(long)]
    edge_bundle: Option<PathBuf>,
}

struct Stack {
    store: Arc<DevStore>,
    edge: EdgeHost,
    idp: DevIdp,
    auth: Authenticator,
    cloudfront_keys: PublicKeySet,
    resource_base: String,
    media: PathBuf,
    titles: Vec<Value>,
    api_base: String,
    http: reqwest::Client,
    jwks: String,
}

fn now() -> EpochSeconds {
    reelgate_api::auth::now()
}

fn other(context: &str) -> impl Fn(String) -> CliError + '_ {
    move |e| CliError::Other(format!("{context}: {e}"))
}

pub fn run(args: DevArgs) -> Result<std::process::ExitCode, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(args))
}

fn media_dir(args: &DevArgs) -> PathBuf {
    args.media.clone().unwrap_or_else(|| {
        let local = PathBuf::from("media");
        if local.join("demo").exists() {
            local
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../media")
        }
    })
}

fn titles(media: &Path) -> Result<Vec<Value>, CliError> {
    let entries = std::fs::read_dir(media).map_err(|source| CliError::Read {
        path: media.to_owned(),
        source,
    })?;
    let mut titles: Vec<Value> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("master.m3u8").exists())
        .filter_map(|e| {
            let id = VideoId::parse(e.file_name().to_str()?).ok()?;
            let name = std::fs::read_to_string(e.path().join("title.txt"))
                .map(|t| t.trim().to_owned())
                .unwrap_or_else(|_| id.to_string());
            Some(json!({"id": id, "name": name, "playlist": format!("/videos/{id}/master.m3u8")}))
        })
        .collect();
    titles.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    if titles.is_empty() {
        return Err(CliError::Other(format!(
            "{} holds no titles (folders with master.m3u8)",
            media.display()
        )));
    }
    Ok(titles)
}

async fn build_store(args: &DevArgs) -> Result<DevStore, CliError> {
    if args.dynamodb_endpoint.is_none() && !args.aws {
        return Ok(DevStore::Memory(MemoryStore::new()));
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = &args.dynamodb_endpoint {
        loader = loader
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "reelgate-dev",
            ));
    }
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&loader.load().await),
        args.table.clone(),
    );
    store
        .create_table_if_missing()
        .await
        .map_err(|e| CliError::Other(format!("DynamoDB table {}: {e}", args.table)))?;
    Ok(DevStore::Dynamo(store))
}

async fn serve(args: DevArgs) -> Result<std::process::ExitCode, CliError> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws=warn,hyper=warn".into()),
        )
        .try_init();
    let edge_config = EdgeConfig::from_json(EDGE_CONFIG)
        .map_err(|e| CliError::Other(format!("dev edge config: {e}")))?;
    let KeySource::Pem(signing_pem) = edge_config.signing.key.clone() else {
        return Err(CliError::Other(
            "the dev edge config must inline its signing key".into(),
        ));
    };
    let signing_key = SigningKey::from_pem(&signing_pem)
        .map_err(|e| CliError::Other(format!("dev signing key: {e}")))?;
    let idp_key =
        SigningKey::from_pem(IDP_KEY).map_err(|e| CliError::Other(format!("dev IdP key: {e}")))?;
    let cloudfront_key =
        PublicKey::from_pem(CLOUDFRONT_PUBLIC_KEY).map_err(|e| CliError::Other(e.to_string()))?;
    let media = media_dir(&args);
    let titles = titles(&media)?;
    let users = users::demo_users();

    let store = Arc::new(build_store(&args).await?);
    store
        .seed(&users, now())
        .await
        .map_err(|e| CliError::Other(format!("seeding the store: {e}")))?;

    let jwks_json =
        serde_json::to_string(&edge_config.jwks).map_err(|e| CliError::Other(e.to_string()))?;
    let edge = match &args.edge_bundle {
        None => EdgeHost::native(
            Edge::new(
                edge_config.clone(),
                NativeCrypto::with_signing_key(signing_key.clone()),
                "us-east-1",
            ),
            jwks_json.clone(),
        ),
        Some(dir) => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|e| CliError::Other(e.to_string()))?;
            EdgeHost::bundle(dir, port, args.dynamodb_endpoint.as_deref())
                .await
                .map_err(other("edge bundle"))?
        }
    };

    let client_id = edge_config.verifier.client_ids[0].clone();
    let env = |name: &str| -> Option<String> {
        Some(match name {
            "REELGATE_ISSUER" => edge_config.verifier.issuer.clone(),
            "REELGATE_CLIENT_IDS" => client_id.clone(),
            "REELGATE_KEY_PAIR_ID" => edge_config.signing.key_pair_id.to_string(),
            "REELGATE_RESOURCE_BASE" => edge_config.resource_base.clone()?,
            "REELGATE_TABLE" => args.table.clone(),
            "REELGATE_WEBHOOK_SECRET" => WEBHOOK_SECRET.into(),
            "REELGATE_SIGNING_KEY_PEM" => signing_pem.clone(),
            "REELGATE_ALLOW_PUBLIC_TEST_KEYS" => "true".into(),
            _ => return None,
        })
    };
    let api_config =
        ApiConfig::from_env(&env).map_err(|e| CliError::Other(format!("dev API config: {e}")))?;
    let api = reelgate_api::router(Arc::new(reelgate_api::App {
        store: store.clone(),
        auth: Authenticator::new(
            api_config.verifier.clone(),
            edge_config.jwks.clone(),
            JwksSource::Fixed,
        ),
        webhook_secret: WEBHOOK_SECRET.as_bytes().to_vec(),
        signing_key: signing_key.clone(),
        config: api_config.clone(),
    }));
    let idp = DevIdp::new(
        edge_config.verifier.issuer.clone(),
        client_id,
        "reelgate-dev-1".into(),
        users.clone(),
        Box::new(move |input: &[u8]| {
            idp_key
                .sign(input, PolicyHash::Sha256)
                .map_err(|e| e.to_string())
        }),
    );

    let listener =
        tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), args.port))
            .await
            .map_err(|e| {
                CliError::Other(format!("cannot listen on 127.0.0.1:{}: {e}", args.port))
            })?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError::Other(e.to_string()))?
        .port();
    let stack = Arc::new(Stack {
        store,
        auth: Authenticator::new(
            api_config.verifier.clone(),
            edge_config.jwks.clone(),
            JwksSource::Fixed,
        ),
        edge,
        idp,
        cloudfront_keys: PublicKeySet::new()
            .with(edge_config.signing.key_pair_id.clone(), cloudfront_key),
        resource_base: edge_config
            .resource_base
            .clone()
            .ok_or_else(|| CliError::Other("the dev edge config names its resource_base".into()))?,
        media: media.clone(),
        titles,
        api_base: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
        jwks: jwks_json,
    });
    banner(&stack, &args, &users, port, &media);

    let app = Router::new()
        .route("/", get(web::index))
        .route("/app.js", get(web::app_js))
        .route("/app.css", get(web::app_css))
        .route("/vendor/hls.min.js", get(web::hls))
        .route("/idp/", post(initiate_auth))
        .route("/idp/.well-known/jwks.json", get(jwks))
        .route("/dev/config", get(dev_config))
        .route("/dev/pay", post(pay))
        .route("/session/{*rest}", any(session))
        .route("/videos/{*rest}", get(videos))
        .route_service("/api/{*rest}", api)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .with_state(stack);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("\nreelgate dev: stopping");
    })
    .await
    .map_err(|e| CliError::Other(format!("server error: {e}")))?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn banner(stack: &Stack, args: &DevArgs, users: &[users::DemoUser], port: u16, media: &Path) {
    let data = match (&args.dynamodb_endpoint, args.aws) {
        (Some(endpoint), _) => format!("DynamoDB table {} at {endpoint}", args.table),
        (None, true) => format!("DynamoDB table {} in your AWS account", args.table),
        (None, false) => "in memory (gone when you stop)".to_owned(),
    };
    println!("reelgate dev is running on http://127.0.0.1:{port}/   (Ctrl-C stops it)");
    println!();
    println!("  demo users (password {}):", users::PASSWORD);
    for user in users {
        println!("    {:<6} {}", user.username, users::describe(user));
    }
    println!();
    println!(
        "  titles:     {}",
        stack
            .titles
            .iter()
            .filter_map(|t| t["id"].as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  media:      {}", media.display());
    println!("  data:       {data}");
    println!("  edge:       {}", stack.edge.describe());
    println!(
        "  routes:     / demo · /session/* edge · /videos/* CloudFront (signed cookies) · /api/* API · /idp/ Cognito"
    );
    println!();
}

// --- the identity provider ------------------------------------------------

fn amz_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

async fn initiate_auth(
    State(stack): State<Arc<Stack>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    if target != Some("AWSCognitoIdentityProviderService.InitiateAuth") {
        return amz_json(
            StatusCode::BAD_REQUEST,
            idp::IdpError::UnknownOperation.body(),
        );
    }
    let Ok(request) = serde_json::from_slice::<InitiateAuthRequest>(&body) else {
        return amz_json(
            StatusCode::BAD_REQUEST,
            idp::IdpError::InvalidParameter("malformed InitiateAuth request").body(),
        );
    };
    let (user, with_refresh) = match stack.idp.authenticate(&request) {
        Ok(found) => found,
        Err(e) => return amz_json(StatusCode::BAD_REQUEST, e.body()),
    };
    // What the pre-token-generation trigger adds in AWS.
    let mut claims = serde_json::Map::new();
    match stack.store.entitlements(&user.sub).await {
        Ok(all) => {
            let ent = reelgate_api::trigger::token_entitlements(&all, CLAIMS_MAX_GRANTS, now());
            claims.insert(
                reelgate_shared::entitlement::CLAIM.into(),
                Value::String(ent.encode()),
            );
        }
        Err(e) => tracing::warn!(error = %e, "token issued without entitlement claims"),
    }
    match stack.idp.issue(&user, with_refresh, claims, now()) {
        Ok(tokens) => amz_json(StatusCode::OK, tokens.to_response()),
        Err(e) => amz_json(StatusCode::INTERNAL_SERVER_ERROR, e.body()),
    }
}

async fn jwks(State(stack): State<Arc<Stack>>) -> Response {
    let mut response = stack.jwks.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

// --- the demo's helpers -----------------------------------------------------

async fn dev_config(State(stack): State<Arc<Stack>>) -> Response {
    axum::Json(json!({
        "client_id": stack.idp.client_id,
        "webhook_secret": WEBHOOK_SECRET,
        "titles": stack.titles,
        "users": users::demo_users().iter().map(|u| json!({"username": u.username, "access": users::describe(u)})).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// The simulated payment provider: charges nobody, then does what a real
/// provider does: signs a webhook and POSTs it to the API over HTTP.
async fn pay(State(stack): State<Arc<Stack>>, headers: HeaderMap, body: Bytes) -> Response {
    let claims = match stack.auth.authenticate(&headers).await {
        Ok(claims) => claims,
        Err(problem) => return problem.into_response(),
    };
    let Ok(checkout) = serde_json::from_slice::<payments::Checkout>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "expected {video_id, type}"})),
        )
            .into_response();
    };
    let webhook = match payments::webhook_body(&checkout, &claims.sub) {
        Ok(body) => body,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": e.to_string()})),
            )
                .into_response();
        }
    };
    let signature =
        reelgate_api::webhook::sign(WEBHOOK_SECRET.as_bytes(), now().get(), webhook.as_bytes());
    let delivered = stack
        .http
        .post(format!("{}/api/webhooks/payments", stack.api_base))
        .header("content-type", "application/json")
        .header("reelgate-signature", signature)
        .body(webhook)
        .send()
        .await;
    match delivered {
        Ok(reply) => {
            let status =
                StatusCode::from_u16(reply.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = reply.text().await.unwrap_or_default();
            let mut response = (status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({"error": format!("webhook delivery failed: {e}")})),
        )
            .into_response(),
    }
}

// --- the CloudFront emulator --------------------------------------------------

fn edge_headers(headers: &HeaderMap) -> Headers {
    let mut out = Headers::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            out.entry(name.as_str().to_owned())
                .or_default()
                .push(EdgeHeader {
                    key: Some(name.as_str().to_owned()),
                    value: value.to_owned(),
                });
        }
    }
    out
}

fn from_edge(response: EdgeResponse) -> Response {
    let status = StatusCode::from_u16(response.status_code()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = (status, response.body.unwrap_or_default()).into_response();
    for (name, values) in response.headers {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        out.headers_mut().remove(&name);
        for value in values {
            if let Ok(value) = HeaderValue::from_str(&value.value) {
                out.headers_mut().append(name.clone(), value);
            }
        }
    }
    out
}

/// `/session/*`: a viewer-request trigger that always answers itself.
async fn session(
    State(stack): State<Arc<Stack>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let request = EdgeRequest {
        client_ip: peer.ip().to_string(),
        headers: edge_headers(&headers),
        method: method.to_string(),
        querystring: uri.query().unwrap_or_default().to_owned(),
        uri: uri.path().to_owned(),
    };
    from_edge(stack.edge.handle(request, &stack.store, now()).await)
}

/// `/videos/*`: CloudFront's trusted-key-group check, then the origin.
async fn videos(
    State(stack): State<Arc<Stack>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    // CloudFront compares the policy with the URL as the distribution sees
    // it, whatever port this emulator listens on.
    let url = match uri.query() {
        Some(query) => format!("{}{}?{query}", stack.resource_base, uri.path()),
        None => format!("{}{}", stack.resource_base, uri.path()),
    };
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("; ");
    let request = validator::Request {
        url: &url,
        cookie_header: (!cookies.is_empty()).then_some(cookies.as_str()),
        client_ip: Some(peer.ip()),
        now: now(),
    };
    if let Err(denial) = validator::validate(&request, &stack.cloudfront_keys) {
        tracing::info!(target: "cloudfront", path = uri.path(), reason = denial.reason(), "403");
        let mut response = (StatusCode::FORBIDDEN, denial.xml_body()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        response.headers_mut().insert(
            "x-reelgate-denial",
            HeaderValue::from_static(denial.reason()),
        );
        return response;
    }
    let rest = uri.path().trim_start_matches("/videos/");
    match origin::resolve(&stack.media, rest) {
        Some((_, path)) => {
            origin::serve(&path, rest.rsplit('/').next().unwrap_or_default(), &headers).await
        }
        None => (StatusCode::NOT_FOUND, Body::empty()).into_response(),
    }
}
