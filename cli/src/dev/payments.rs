//! The simulated payment provider behind the demo page's Buy button. After a
//! "successful charge" it does what Stripe-like providers do: builds an
//! event, signs it with the shared webhook secret and POSTs it to
//! `/api/webhooks/payments`, so a local purchase travels the production path
//! (signature check, idempotent transaction).

use reelgate_shared::{UserSub, VideoId};
use serde::Deserialize;
use serde_json::json;

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
