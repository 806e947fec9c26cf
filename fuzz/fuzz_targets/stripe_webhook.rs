//! The Stripe webhook's `Stripe-Signature` check and event reader. Input:
//! `header \0 body`. Whatever the input: no panic; a header reelgate signs
//! for the body verifies; a body read as a refund or payment names a valid
//! event id; and reading is deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelgate_fuzz::{NOW, split2};
use reelgate_shared::EpochSeconds;
use reelgate_shared::webhook::signature::{sign, verify};
use reelgate_shared::webhook::stripe::StripeEvent;

const SECRET: &[u8] = b"whsec_fuzz_stripe";

fuzz_target!(|data: &[u8]| {
    let (header, body) = split2(data);
    let now = EpochSeconds::new(NOW);
    if let Ok(header) = std::str::from_utf8(header) {
        let _ = verify(Some(header), body, SECRET, now);
    }
    assert_eq!(
        verify(Some(&sign(SECRET, NOW, body)), body, SECRET, now),
        Ok(())
    );
    let first = StripeEvent::parse(body);
    assert_eq!(first, StripeEvent::parse(body));
    if let Ok(event) = first {
        assert!(!event.event_id().as_str().is_empty());
    }
});
