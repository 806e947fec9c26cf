//! Payment providers' webhooks, as pure functions of the delivery: the
//! signature scheme both the generic webhook and Stripe use (`signature`),
//! and Stripe's event bodies read into reelgate's payment events (`stripe`).
//! The host passes `now`; nothing here reads a clock or does I/O.

pub mod signature;
pub mod stripe;
