//! The demo player and the client module, embedded in the binary so
//! `reelgate dev` needs no build step and no files beside it. hls.js is a
//! pinned copy from npm (`web/vendor`, with its license).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::stack::{Stack, WEBHOOK_SECRET};
use crate::users;

fn asset(body: &'static [u8], content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub async fn index() -> Response {
    asset(
        include_bytes!("../../web/index.html"),
        "text/html; charset=utf-8",
    )
}

pub async fn app_js() -> Response {
    asset(
        include_bytes!("../../web/app.js"),
        "text/javascript; charset=utf-8",
    )
}

pub async fn app_css() -> Response {
    asset(
        include_bytes!("../../web/app.css"),
        "text/css; charset=utf-8",
    )
}

/// The client module integrators import (`web/reelgate-session.js`).
pub async fn session_module() -> Response {
    asset(
        include_bytes!("../../web/reelgate-session.js"),
        "text/javascript; charset=utf-8",
    )
}

pub async fn session_types() -> Response {
    asset(
        include_bytes!("../../web/reelgate-session.d.ts"),
        "application/typescript; charset=utf-8",
    )
}

pub async fn hls() -> Response {
    asset(
        include_bytes!("../../web/vendor/hls.min.js"),
        "text/javascript; charset=utf-8",
    )
}

/// The demo page's settings: the app client, the simulated providers'
/// webhook secrets (generic and Stripe), the titles and the demo users.
pub async fn dev_config(State(stack): State<Arc<Stack>>) -> Response {
    axum::Json(json!({
        "client_id": stack.idp.client_id,
        "webhook_secret": WEBHOOK_SECRET,
        "stripe_webhook_secret": stack.stripe_webhook_secret,
        "titles": stack.titles,
        "users": users::demo_users().iter().map(|u| json!({"username": u.username, "access": users::describe(u)})).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// The page's settings (`config.json` beside `index.html`), in the shape a
/// deployment writes; `dev` names what exists only in the local stack.
pub async fn page_config(State(stack): State<Arc<Stack>>) -> Response {
    let mut response = axum::Json(json!({
        "cognito": {
            "endpoint": "/idp/",
            "client_id": stack.idp.client_id,
            "hosted_ui": {"domain": "/idp", "redirect_uri": "/", "scopes": ["openid"]},
        },
        "edge": "",
        "api": "",
        "titles": stack.titles,
        "player": {"loop": true, "hls": {"backBufferLength": 0}},
        "dev": {
            "payments": "/dev/pay",
            "stripe_checkout": "/dev/stripe/checkout/sessions",
            "password": users::PASSWORD,
            "users": users::demo_users().iter().map(|u| json!({"username": u.username, "access": users::describe(u)})).collect::<Vec<_>>(),
        },
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// CORS with credentials for the page origins given to `reelgate dev
/// --cors-origin`, as CloudFront's response-headers policy and Cognito's
/// endpoint answer a cross-origin player. No origins: no CORS headers.
pub fn cors(origins: &[String], methods: &[Method]) -> CorsLayer {
    let origins = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect::<Vec<_>>();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods(methods.to_vec())
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("x-amz-target"),
            HeaderName::from_static("x-amz-user-agent"),
            header::RANGE,
        ])
}
