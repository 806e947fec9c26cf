//! The local Stripe simulator: what the demo's Buy uses instead of Stripe.
//! `POST /dev/stripe/checkout/sessions` plays both sides of a Checkout: the
//! shop's backend creating a session for the signed-in viewer (their `sub`
//! as `client_reference_id`, the title in `metadata`) and Stripe after the
//! viewer paid: it builds a `checkout.session.completed` event shaped as
//! Stripe's API reference documents it, signs it with the endpoint secret
//! (`Stripe-Signature`) and POSTs it to `/api/webhooks/stripe` over HTTP, so
//! a local purchase travels the production path. `POST /dev/stripe/refunds`
//! refunds a payment the same way (`charge.refunded`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use reelgate_shared::VideoId;
use reelgate_shared::ids::PaymentIntentId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::stack::{Stack, now};

/// The Stripe API version the simulated events are shaped after.
const API_VERSION: &str = "2025-03-31.basil";

/// What the demo page asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutRequest {
    video_id: VideoId,
    /// `purchase` or `rental`.
    kind: String,
    #[serde(default)]
    rental_hours: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundRequest {
    payment_intent: PaymentIntentId,
}

/// A refusal: status, stable reason, detail.
struct Failure(StatusCode, &'static str, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (
            self.0,
            axum::Json(json!({"error": self.1, "detail": self.2})),
        )
            .into_response()
    }
}

fn error(status: StatusCode, reason: &'static str, detail: impl Into<String>) -> Response {
    Failure(status, reason, detail.into()).into_response()
}

/// A Stripe-style id: `prefix` and 24 random alphanumerics.
fn stripe_id(prefix: &str) -> Result<String, Failure> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| {
        Failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "randomness",
            e.to_string(),
        )
    })?;
    let tail: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    Ok(format!("{prefix}_{tail}"))
}

/// An event envelope as Stripe sends it.
fn event(kind: &str, object: Value) -> Result<Value, Failure> {
    Ok(json!({
        "id": stripe_id("evt")?,
        "object": "event",
        "api_version": API_VERSION,
        "created": now().get(),
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind,
        "data": {"object": object},
    }))
}

/// Signs `event` with the stack's Stripe endpoint secret and delivers it to
/// the API as Stripe would; returns the API's status and JSON reply.
async fn deliver(stack: &Stack, event: &Value) -> Result<(u16, Value), Failure> {
    let body = event.to_string();
    let signature = reelgate_api::webhook::sign(
        stack.stripe_webhook_secret.as_bytes(),
        now().get(),
        body.as_bytes(),
    );
    let reply = stack
        .http
        .post(format!("{}/api/webhooks/stripe", stack.api_base))
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", signature)
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .body(body)
        .send()
        .await
        .map_err(|e| {
            Failure(
                StatusCode::BAD_GATEWAY,
                "webhook_failed",
                format!("webhook delivery failed: {e}"),
            )
        })?;
    let status = reply.status().as_u16();
    let body = reply.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// The response: the Stripe object, with what the webhook answered; a
/// webhook the API refused makes the whole call fail (502), as a real
/// integration would show in Stripe's dashboard.
fn answer(mut object: Value, (status, reply): (u16, Value)) -> Response {
    object["webhook"] = json!({"status": status, "reply": reply});
    let code = if (200..300).contains(&status) {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    (code, axum::Json(object)).into_response()
}

pub(crate) async fn create_checkout_session(
    State(stack): State<Arc<Stack>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let claims = match stack.auth.authenticate(&headers).await {
        Ok(claims) => claims,
        Err(problem) => return problem.into_response(),
    };
    let request = match serde_json::from_slice::<CheckoutRequest>(&body) {
        Ok(request) => request,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()),
    };
    let mut metadata = json!({"video_id": request.video_id, "kind": request.kind});
    match (request.kind.as_str(), request.rental_hours) {
        ("purchase", None) => {}
        ("rental", hours) => metadata["rental_hours"] = json!(hours.unwrap_or(48).to_string()),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "kind must be purchase, or rental with optional rental_hours",
            );
        }
    }
    let result = async {
        let session = json!({
            "id": stripe_id("cs_test")?,
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": 499,
            "currency": "usd",
            "client_reference_id": claims.sub,
            "customer": null,
            "payment_intent": stripe_id("pi")?,
            "metadata": metadata,
            "livemode": false,
        });
        let delivered = deliver(
            &stack,
            &event("checkout.session.completed", session.clone())?,
        )
        .await?;
        Ok::<_, Failure>(answer(session, delivered))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn create_refund(
    State(stack): State<Arc<Stack>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(problem) = stack.auth.authenticate(&headers).await {
        return problem.into_response();
    }
    let request = match serde_json::from_slice::<RefundRequest>(&body) {
        Ok(request) => request,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()),
    };
    let result = async {
        let charge = json!({
            "id": stripe_id("ch")?,
            "object": "charge",
            "amount": 499,
            "amount_refunded": 499,
            "currency": "usd",
            "paid": true,
            "refunded": true,
            "status": "succeeded",
            "payment_intent": request.payment_intent,
            "livemode": false,
        });
        let delivered = deliver(&stack, &event("charge.refunded", charge.clone())?).await?;
        Ok::<_, Failure>(answer(charge, delivered))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}
