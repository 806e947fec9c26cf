//! `POST /api/webhooks/stripe` (ARCHITECTURE §12): a Stripe delivery,
//! verified with the endpoint's signing secret, read by
//! `shared::webhook::stripe` and applied through the same exactly-once
//! transaction as the generic webhook. Bad signature or body: 400 and
//! nothing written; an event reelgate does not act on: 200 `ignored`, so
//! Stripe stops retrying it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use reelgate_shared::store::EntitlementStore;
use reelgate_shared::webhook::stripe::StripeEvent;
use serde::Serialize;

use crate::auth::now;
use crate::problem::Problem;
use crate::routes::{App, json_body};
use crate::webhook;

#[derive(Serialize)]
struct Reply {
    status: &'static str,
    event_id: String,
}

pub(crate) async fn stripe_webhook<S: EntitlementStore>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let secret = app.stripe_webhook_secret.as_deref().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stripe_unconfigured",
            "no Stripe webhook secret is configured (REELGATE_STRIPE_WEBHOOK_SECRET[_ARN])",
        )
    })?;
    let body = json_body(&headers, body).await?;
    let signature = headers
        .get(webhook::STRIPE_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let now = now();
    webhook::verify(signature, &body, secret, now)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.reason(), e.to_string()))?;
    let event = StripeEvent::parse(&body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid_event", e.to_string()))?;
    let event_id = event.event_id().clone();
    let status = match event {
        StripeEvent::Payment(payment) => {
            let outcome = app.store.apply_payment(&payment, now).await?;
            tracing::info!(event_id = %event_id, kind = payment.kind.type_name(), outcome = outcome.as_str(), "stripe event");
            outcome.as_str()
        }
        StripeEvent::Refund {
            event_id,
            payment_intent,
        } => match app.store.payment(&payment_intent).await? {
            Some(record) => {
                let refund = StripeEvent::refund_of(event_id.clone(), record.user, record.video);
                let outcome = app.store.apply_payment(&refund, now).await?;
                tracing::info!(event_id = %event_id, kind = refund.kind.type_name(), outcome = outcome.as_str(), "stripe event");
                outcome.as_str()
            }
            None => {
                tracing::info!(event_id = %event_id, why = "refund of a payment reelgate did not grant", "stripe event ignored");
                "ignored"
            }
        },
        StripeEvent::Ignored { event_id, why } => {
            tracing::info!(event_id = %event_id, why, "stripe event ignored");
            "ignored"
        }
    };
    Ok(axum::Json(Reply {
        status,
        event_id: event_id.to_string(),
    })
    .into_response())
}
