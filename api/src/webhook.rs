//! The webhooks' signature headers. The scheme itself
//! (`t=<epoch>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`) is one rule
//! in `shared::webhook::signature`, used by both routes.

pub use reelgate_shared::webhook::signature::{SignatureError, TOLERANCE_SECS, sign, verify};

/// The generic payment webhook's header (`POST /api/webhooks/payments`).
pub const SIGNATURE_HEADER: &str = "reelgate-signature";
/// Stripe's header (`POST /api/webhooks/stripe`).
pub const STRIPE_SIGNATURE_HEADER: &str = "stripe-signature";
