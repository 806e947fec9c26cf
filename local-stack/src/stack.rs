//! The wiring: builds every part from embedded defaults and serves them on
//! one loopback port, routed by path like the real distribution.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use reelgate_api::auth::{Authenticator, JwksSource};
use reelgate_api::dynamo::DynamoStore;
use reelgate_edge::native::NativeHost;
use reelgate_edge::{Edge, HashKey};
use reelgate_shared::config::{ApiConfig, EdgeConfig, KeySource};
use reelgate_shared::crypto::PolicyHash;
use reelgate_shared::crypto::native::{NativeCrypto, PublicKey, PublicKeySet, SigningKey};
use reelgate_shared::entitlement::Title;
use reelgate_shared::store::MemoryStore;
use reelgate_shared::{EpochSeconds, VideoId};
use serde_json::{Value, json};

use crate::edge_host::EdgeHost;
use crate::error::StackError;
use crate::hosted_ui::HostedUi;
use crate::idp::DevIdp;
use crate::store::DevStore;
use crate::{catalogue, cloudfront, host_check, hosted_ui, idp, payments, stripe, users, web};

/// The dev stack's keys are public (they are in the repository), and every
/// production configuration refuses them.
const EDGE_CONFIG: &str = include_str!("../../edge-auth/config.dev.json");
const IDP_KEY: &str = include_str!("keys/idp-dev.pem");
const CLOUDFRONT_PUBLIC_KEY: &str = include_str!("keys/cloudfront-dev.pub.pem");
/// The credentials every part of the stack uses with a local DynamoDB
/// endpoint (DynamoDB Local keeps one database per access key).
pub(crate) const LOCAL_ACCESS_KEY: &str = "local";
pub(crate) const WEBHOOK_SECRET: &str = "whsec_reelgate_local_dev";
/// The Stripe endpoint secret the simulator signs with unless
/// `--stripe-webhook-secret` names another (public: it is in the repository).
const STRIPE_WEBHOOK_SECRET: &str = "whsec_reelgate_local_stripe_dev";

#[derive(clap::Args)]
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
    /// Lifetime of the signed cookies the edge sets (`cookie.ttl_seconds`); short values exercise refresh.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..=86_400))]
    cookie_ttl: u64,
    /// Lifetime of the dev identity provider's access and id tokens.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    token_ttl: u64,
    /// A page origin (e.g. http://localhost:9000) allowed to use this stack cross-origin: the edge's
    /// `cors_origins`, CORS on /videos/* and /idp/, and `SameSite=None` cookies. Repeatable.
    #[arg(long = "cors-origin", value_name = "URL")]
    cors_origins: Vec<String>,
    /// The Stripe webhook endpoint secret the API verifies and the Stripe simulator signs with
    /// (e.g. the `whsec_…` that `stripe listen` prints, to forward real test-mode events).
    #[arg(long, default_value = STRIPE_WEBHOOK_SECRET, value_name = "SECRET")]
    stripe_webhook_secret: String,
}

pub(crate) struct Stack {
    pub(crate) store: Arc<DevStore>,
    pub(crate) edge: EdgeHost,
    pub(crate) idp: DevIdp,
    pub(crate) hosted_ui: HostedUi,
    pub(crate) auth: Authenticator,
    pub(crate) cloudfront_keys: PublicKeySet,
    pub(crate) resource_base: String,
    pub(crate) media: PathBuf,
    pub(crate) titles: Vec<Value>,
    pub(crate) api_base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) jwks: String,
    pub(crate) stripe_webhook_secret: String,
}

pub(crate) fn now() -> EpochSeconds {
    reelgate_api::auth::now()
}

fn other(context: &str) -> impl Fn(String) -> StackError + '_ {
    move |e| StackError::Other(format!("{context}: {e}"))
}

pub fn run(args: DevArgs) -> Result<std::process::ExitCode, StackError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| StackError::Other(format!("cannot start the async runtime: {e}")))?;
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

/// The media folders as catalogue titles (`crate::catalogue`), and as the
/// demo page lists them: the title's catalogue fields and its playlist.
fn titles(media: &Path) -> Result<(Vec<Title>, Vec<Value>), StackError> {
    let entries = std::fs::read_dir(media).map_err(|source| StackError::Read {
        path: media.to_owned(),
        source,
    })?;
    let mut titles: Vec<Title> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("master.m3u8").exists())
        .filter_map(|e| {
            let id = VideoId::parse(e.file_name().to_str()?).ok()?;
            let name = std::fs::read_to_string(e.path().join("title.txt"))
                .map(|t| t.trim().to_owned())
                .unwrap_or_else(|_| id.to_string());
            Some(catalogue::demo_title(&id, &name))
        })
        .collect();
    titles.sort_by(|a, b| a.id.cmp(&b.id));
    if titles.is_empty() {
        return Err(StackError::Other(format!(
            "{} holds no titles (folders with master.m3u8)",
            media.display()
        )));
    }
    let listed = titles
        .iter()
        .map(|title| {
            let mut listed = json!(title);
            listed["playlist"] = json!(format!("/videos/{}/master.m3u8", title.id));
            listed
        })
        .collect();
    Ok((titles, listed))
}

/// The embedded dev edge config with the stack's flags applied (its table,
/// cross-origin players, the cookie lifetime): the native host and the
/// bundle host read the same document. The bundle's config validator keeps
/// its 30 s floor on cookie lifetimes, so a shorter `--cookie-ttl` reaches
/// the native host only (set after validation, in `serve`).
fn edge_config_json(args: &DevArgs) -> Result<String, StackError> {
    let mut config: Value = serde_json::from_str(EDGE_CONFIG)
        .map_err(|e| StackError::Other(format!("dev edge config: {e}")))?;
    config["table"]["name"] = Value::String(args.table.clone());
    // The demo keeps a catalogue: free, tier-only and paid titles. The
    // bundle reads titles from DynamoDB only, so a bundle beside the
    // in-memory store (which it cannot see) decides without one.
    let store_visible = args.edge_bundle.is_none() || args.dynamodb_endpoint.is_some() || args.aws;
    config["catalogue"] = json!(store_visible);
    config["cookie"]["ttl_seconds"] = json!(args.cookie_ttl.max(30));
    if !args.cors_origins.is_empty() {
        config["cors_origins"] = json!(args.cors_origins);
        config["cookie"]["same_site"] = json!("None");
    }
    Ok(config.to_string())
}

async fn build_store(args: &DevArgs) -> Result<DevStore, StackError> {
    if args.dynamodb_endpoint.is_none() && !args.aws {
        return Ok(DevStore::Memory(MemoryStore::new()));
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = &args.dynamodb_endpoint {
        loader = loader
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                LOCAL_ACCESS_KEY,
                LOCAL_ACCESS_KEY,
                None,
                None,
                "reelgate-dev",
            ));
    }
    let store = DynamoStore::new(
        reelgate_api::sdk::dynamodb_client(&loader.load().await),
        args.table.clone(),
    );
    store
        .create_table_if_missing()
        .await
        .map_err(|e| StackError::Other(format!("DynamoDB table {}: {e}", args.table)))?;
    Ok(DevStore::Dynamo(store))
}

async fn serve(args: DevArgs) -> Result<std::process::ExitCode, StackError> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws=warn,hyper=warn".into()),
        )
        .try_init();
    let edge_config_json = edge_config_json(&args)?;
    let mut edge_config = EdgeConfig::from_json(&edge_config_json)
        .map_err(|e| StackError::Other(format!("dev edge config: {e}")))?;
    // Set after validation: the config's 30 s floor guards deployments, while
    // the local stack's browser tests need cookies that expire in seconds.
    edge_config.cookie.ttl_seconds = args.cookie_ttl;
    let KeySource::Inline(signing_pem) = edge_config.signing.key.clone() else {
        return Err(StackError::Other(
            "the dev edge config must inline its signing key".into(),
        ));
    };
    let signing_key = SigningKey::from_pem(&signing_pem)
        .map_err(|e| StackError::Other(format!("dev signing key: {e}")))?;
    let idp_key = SigningKey::from_pem(IDP_KEY)
        .map_err(|e| StackError::Other(format!("dev IdP key: {e}")))?;
    let cloudfront_key =
        PublicKey::from_pem(CLOUDFRONT_PUBLIC_KEY).map_err(|e| StackError::Other(e.to_string()))?;
    let media = media_dir(&args);
    let (catalogue, titles) = titles(&media)?;
    let users = users::demo_users();

    let store = Arc::new(build_store(&args).await?);
    store
        .seed(&users, &catalogue, now())
        .await
        .map_err(|e| StackError::Other(format!("seeding the store: {e}")))?;

    let jwks_json =
        serde_json::to_string(&edge_config.jwks).map_err(|e| StackError::Other(e.to_string()))?;
    let edge = match &args.edge_bundle {
        None => EdgeHost::native(NativeHost::new(
            Edge::new(
                edge_config.clone(),
                NativeCrypto::with_signing_key(signing_key.clone()),
                "us-east-1",
                HashKey::from_os(),
            ),
            jwks_json.clone(),
        )),
        Some(dir) => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|e| StackError::Other(e.to_string()))?;
            EdgeHost::bundle(
                dir,
                &edge_config_json,
                port,
                args.dynamodb_endpoint.as_deref(),
            )
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
            "REELGATE_RESOURCE_BASE" => edge_config.resource_base.as_ref()?.to_string(),
            "REELGATE_TABLE" => args.table.clone(),
            "REELGATE_WEBHOOK_SECRET" => WEBHOOK_SECRET.into(),
            "REELGATE_STRIPE_WEBHOOK_SECRET" => args.stripe_webhook_secret.clone(),
            "REELGATE_SIGNING_KEY_PEM" => signing_pem.clone(),
            "REELGATE_ALLOW_PUBLIC_TEST_KEYS" => "true".into(),
            "REELGATE_CATALOGUE" => "true".into(),
            _ => return None,
        })
    };
    let api_config =
        ApiConfig::from_env(&env).map_err(|e| StackError::Other(format!("dev API config: {e}")))?;
    let api = reelgate_api::router(Arc::new(reelgate_api::App {
        store: store.clone(),
        auth: Authenticator::new(
            api_config.verifier.clone(),
            edge_config.jwks.clone(),
            JwksSource::Fixed,
        ),
        webhook_secret: WEBHOOK_SECRET.as_bytes().to_vec(),
        stripe_webhook_secret: Some(args.stripe_webhook_secret.as_bytes().to_vec()),
        signing_key: signing_key.clone(),
        config: api_config.clone(),
    }));
    let mut idp = DevIdp::new(
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
    idp.token_ttl_seconds = args.token_ttl;

    let listener =
        tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), args.port))
            .await
            .map_err(|e| {
                StackError::Other(format!("cannot listen on 127.0.0.1:{}: {e}", args.port))
            })?;
    let port = listener
        .local_addr()
        .map_err(|e| StackError::Other(e.to_string()))?
        .port();
    // The app client's callback URLs: the demo page, and `/` of each
    // cross-origin player page.
    let callbacks = [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ]
    .into_iter()
    .chain(
        args.cors_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_owned()),
    )
    .map(|origin| format!("{origin}/"))
    .collect();
    let hosted_ui = HostedUi::new(idp.client_id.clone(), callbacks);
    let stack = Arc::new(Stack {
        store,
        hosted_ui,
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
            .as_ref()
            .map(ToString::to_string)
            .ok_or_else(|| {
                StackError::Other("the dev edge config names its resource_base".into())
            })?,
        media: media.clone(),
        titles,
        api_base: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
        jwks: jwks_json,
        stripe_webhook_secret: args.stripe_webhook_secret.clone(),
    });
    banner(&stack, &args, &users, port, &media);

    let app = Router::new()
        .route("/", get(web::index))
        .route("/app.js", get(web::app_js))
        .route("/app.css", get(web::app_css))
        .route("/config.json", get(web::page_config))
        .route(
            "/reelgate-session.js",
            get(web::session_module).layer(web::cors(&args.cors_origins, &[Method::GET])),
        )
        .route("/reelgate-session.d.ts", get(web::session_types))
        .route("/vendor/hls.min.js", get(web::hls))
        .route(
            "/idp/",
            post(idp::dispatch).layer(web::cors(&args.cors_origins, &[Method::POST])),
        )
        .route("/idp/.well-known/jwks.json", get(idp::jwks))
        .route("/idp/oauth2/authorize", get(hosted_ui::authorize))
        .route("/idp/login", post(hosted_ui::login))
        .route(
            "/idp/oauth2/token",
            post(hosted_ui::token).layer(web::cors(&args.cors_origins, &[Method::POST])),
        )
        .route(
            "/idp/oauth2/revoke",
            post(hosted_ui::revoke).layer(web::cors(&args.cors_origins, &[Method::POST])),
        )
        .route("/dev/config", get(web::dev_config))
        .route("/dev/pay", post(payments::pay))
        .route(
            "/dev/stripe/checkout/sessions",
            post(stripe::create_checkout_session),
        )
        .route("/dev/stripe/refunds", post(stripe::create_refund))
        .route("/session/{*rest}", any(cloudfront::session))
        .route(
            "/videos/{*rest}",
            get(cloudfront::videos).layer(web::cors(&args.cors_origins, &[Method::GET])),
        )
        .with_state(stack)
        // Merged, not mounted under a catch-all: the API's own path
        // parameters must be the only ones its extractors see.
        .merge(api)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(from_fn_with_state(port, host_check::require_loopback_host));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("\nreelgate dev: stopping");
    })
    .await
    .map_err(|e| StackError::Other(format!("server error: {e}")))?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// The embedded edge config with, for cross-origin players, the allowed
/// origins and `SameSite=None` cookies.
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
        "  lifetimes:  cookies {} s, tokens {} s",
        args.cookie_ttl, args.token_ttl
    );
    if !args.cors_origins.is_empty() {
        println!("  cors:       {}", args.cors_origins.join(", "));
    }
    println!(
        "  routes:     / demo · /session/* edge · /videos/* CloudFront (signed cookies) · /api/* API · /idp/ Cognito"
    );
    println!();
}
