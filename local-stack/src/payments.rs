//! The simulated payment provider behind the demo page's Buy button. After a
//! "successful charge" it does what Stripe-like providers do: builds an
//! event, signs it with the shared webhook secret and POSTs it to
//! `/api/webhooks/payments`, so a local purchase travels the production path
//! (signature check, idempotent transaction).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reelgate_shared::{UserSub, VideoId};
use serde::Deserialize;
use serde_json::json;

use crate::stack::{Stack, WEBHOOK_SECRET, now};

/// What the demo page asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkout {
    pub video_id: VideoId,
    /// `purchase.succeeded` or `rental.succeeded`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub rental_hours: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("type must be purchase.succeeded or rental.succeeded")]
    UnsupportedType,
    #[error("could not generate an event id: {0}")]
    Randomness(String),
}

/// The webhook body for a checkout, with a fresh event id.
pub fn webhook_body(checkout: &Checkout, buyer: &UserSub) -> Result<String, CheckoutError> {
    let mut id = [0u8; 12];
    getrandom::fill(&mut id).map_err(|e| CheckoutError::Randomness(e.to_string()))?;
    let event_id = format!(
        "evt_dev_{}",
        id.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let body = match checkout.kind.as_str() {
        "purchase.succeeded" => json!({
            "event_id": event_id, "type": "purchase.succeeded",
            "user_sub": buyer.as_str(), "video_id": checkout.video_id.as_str(),
        }),
        "rental.succeeded" => json!({
            "event_id": event_id, "type": "rental.succeeded",
            "user_sub": buyer.as_str(), "video_id": checkout.video_id.as_str(),
            "rental_hours": checkout.rental_hours.unwrap_or(48),
        }),
        _ => return Err(CheckoutError::UnsupportedType),
    };
    Ok(body.to_string())
}

/// The simulated payment provider: charges nobody, then does what a real
/// provider does: signs a webhook and POSTs it to the API over HTTP.
pub(crate) async fn pay(
    State(stack): State<Arc<Stack>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let claims = match stack.auth.authenticate(&headers).await {
        Ok(claims) => claims,
        Err(problem) => return problem.into_response(),
    };
    let Ok(checkout) = serde_json::from_slice::<Checkout>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "expected {video_id, type}"})),
        )
            .into_response();
    };
    let webhook = match webhook_body(&checkout, &claims.sub) {
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
