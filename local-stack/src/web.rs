//! The demo player, embedded in the binary so `reelgate dev` needs no build
//! step and no files beside it. hls.js is a pinned copy from npm
//! (`web/vendor`, with its license).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

pub async fn hls() -> Response {
    asset(
        include_bytes!("../../web/vendor/hls.min.js"),
        "text/javascript; charset=utf-8",
    )
}

/// The demo page's settings: the app client, the simulated provider's
/// webhook secret, the titles and the demo users.
pub async fn dev_config(State(stack): State<Arc<Stack>>) -> Response {
    axum::Json(json!({
        "client_id": stack.idp.client_id,
        "webhook_secret": WEBHOOK_SECRET,
        "titles": stack.titles,
        "users": users::demo_users().iter().map(|u| json!({"username": u.username, "access": users::describe(u)})).collect::<Vec<_>>(),
    }))
    .into_response()
}
