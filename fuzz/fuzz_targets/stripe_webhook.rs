//! The Stripe webhook as the API runs it (`api/src/stripe.rs`): the
//! `Stripe-Signature` check, the event reader, and the store writes a
//! payment event becomes. Input: `header \0 body`. Whatever the input:
//!
//! - no panic, and reading is deterministic;
//! - a header reelgate signs for the body verifies; a header that verifies
//!   (the seeds carry correctly signed ones) verifies again, and no longer
//!   does once the body gains a byte or the secret changes;
//! - an event that reads names ids that are valid and are exactly the
//!   fields of the raw JSON they come from (event `id`, the buyer,
//!   `metadata.video_id`, `payment_intent`, `metadata.user_sub` and
//!   `metadata.tier`), and only for the event types that carry them; an
//!   unknown type is ignored;
//! - its writes are keyed by those ids, and the grant or plan written reads
//!   back from its item as the event's own `next_grant`/`next_plan`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelgate_fuzz::{NOW, split2};
use reelgate_shared::entitlement::{PaymentEvent, PaymentKind, rental_hours};
use reelgate_shared::ids::{PaymentIntentId, Tier};
use reelgate_shared::store::{
    PaymentWrites, event_key, grant_from_item, payment_key, plan_from_item,
};
use reelgate_shared::webhook::signature::{SignatureError, sign, verify};
use reelgate_shared::webhook::stripe::StripeEvent;
use reelgate_shared::{EpochSeconds, EventId, UserSub, VideoId};
use serde_json::Value;

const SECRET: &[u8] = b"whsec_fuzz_stripe";

const CHECKOUT: &[&str] = &[
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
];
const REFUNDS: &[&str] = &[
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "charge.refund.updated",
];
const SUBSCRIPTIONS: &[&str] = &[
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
];

fuzz_target!(|data: &[u8]| {
    let (header, body) = split2(data);
    let now = EpochSeconds::new(NOW);
    if let Ok(header) = std::str::from_utf8(header) {
        let verdict = verify(Some(header), body, SECRET, now);
        assert_eq!(verdict, verify(Some(header), body, SECRET, now));
        if verdict.is_ok() {
            let mut longer = body.to_vec();
            longer.push(b' ');
            assert_eq!(
                verify(Some(header), &longer, SECRET, now),
                Err(SignatureError::Mismatch)
            );
            assert_eq!(
                verify(Some(header), body, b"whsec_other", now),
                Err(SignatureError::Mismatch)
            );
        }
    }
    assert_eq!(
        verify(Some(&sign(SECRET, NOW, body)), body, SECRET, now),
        Ok(())
    );

    let first = StripeEvent::parse(body);
    assert_eq!(first, StripeEvent::parse(body));
    let Ok(event) = first else { return };
    // The reader ignores fields it does not use without parsing their
    // numbers (`1e400` passes), where `Value` refuses them: such a body has
    // no raw form to compare with.
    let Ok(raw) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    check_against_raw(&event, &raw);
    match &event {
        StripeEvent::Payment(payment) => check_writes(payment, now),
        StripeEvent::Refund { event_id, .. } => {
            // What the API applies once the refund index names the buyer.
            let refund = StripeEvent::refund_of(
                event_id.clone(),
                UserSub::parse("buyer-sub").expect("valid"),
                VideoId::parse("demo").expect("valid"),
            );
            check_writes(&refund, now);
        }
        StripeEvent::Ignored { .. } => {}
    }
});

/// The event's ids are valid and are the raw body's own fields.
fn check_against_raw(event: &StripeEvent, raw: &Value) {
    let id = event.event_id();
    assert_eq!(EventId::parse(id.as_str()).as_ref(), Ok(id));
    assert_eq!(raw["id"].as_str(), Some(id.as_str()));
    let kind = raw["type"].as_str().expect("the reader took a type");
    let object = &raw["data"]["object"];
    let metadata = |key: &str| object["metadata"][key].as_str();
    match event {
        StripeEvent::Ignored { .. } => {}
        StripeEvent::Refund { payment_intent, .. } => {
            assert!(REFUNDS.contains(&kind), "a refund from {kind}");
            check_payment_intent(Some(payment_intent), object);
        }
        StripeEvent::Payment(payment) => {
            let user = &payment.user;
            assert_eq!(UserSub::parse(user.as_str()).as_ref(), Ok(user));
            match &payment.kind {
                PaymentKind::Purchase { video } | PaymentKind::Rental { video, .. } => {
                    assert!(CHECKOUT.contains(&kind), "a grant from {kind}");
                    assert_eq!(object["client_reference_id"].as_str(), Some(user.as_str()));
                    assert_eq!(VideoId::parse(video.as_str()).as_ref(), Ok(video));
                    assert_eq!(metadata("video_id"), Some(video.as_str()));
                    check_payment_intent(payment.payment_intent.as_ref(), object);
                    if let PaymentKind::Rental { hours, .. } = payment.kind {
                        assert_eq!(metadata("kind"), Some("rental"));
                        assert_eq!(rental_hours(hours), Ok(hours));
                        let written = metadata("rental_hours").and_then(|h| h.parse().ok());
                        assert_eq!(written, Some(hours));
                    } else {
                        assert_eq!(metadata("kind"), Some("purchase"));
                    }
                }
                PaymentKind::PlanActivated { tier, .. } => {
                    assert!(SUBSCRIPTIONS[..2].contains(&kind), "a plan from {kind}");
                    assert_eq!(Tier::parse(tier.as_str()).as_ref(), Ok(tier));
                    assert_eq!(metadata("tier"), Some(tier.as_str()));
                    assert_eq!(metadata("user_sub"), Some(user.as_str()));
                }
                PaymentKind::PlanCanceled => {
                    assert!(SUBSCRIPTIONS.contains(&kind), "a cancellation from {kind}");
                    assert_eq!(metadata("user_sub"), Some(user.as_str()));
                }
                PaymentKind::Refund { .. } => panic!("refunds are read as StripeEvent::Refund"),
            }
            assert!(payment.payment_intent.is_none() || CHECKOUT.contains(&kind));
        }
    }
    let handled = [CHECKOUT, REFUNDS, SUBSCRIPTIONS].concat();
    if !handled.contains(&kind) {
        assert!(
            matches!(event, StripeEvent::Ignored { .. }),
            "{kind} acted on"
        );
    }
}

/// `payment_intent` is the object's id string, or the expanded object's id.
fn check_payment_intent(read: Option<&PaymentIntentId>, object: &Value) {
    let field = &object["payment_intent"];
    let raw = field.as_str().or_else(|| field["id"].as_str());
    assert_eq!(read.map(PaymentIntentId::as_str), raw);
    if let Some(read) = read {
        assert_eq!(PaymentIntentId::parse(read.as_str()).as_ref(), Ok(read));
    }
}

/// The writes of an event on an empty table: keyed by the event's own ids,
/// and the grant or plan item reads back as what the event computes.
fn check_writes(payment: &PaymentEvent, now: EpochSeconds) {
    let writes = PaymentWrites::new(payment, None, now).expect("no current item, no schema error");
    assert_eq!(writes.event.key(), event_key(&payment.event_id));
    match payment.kind.video() {
        Some(_) => {
            let grant = payment.next_grant(None, now);
            let written = writes.change.as_ref().map(|put| {
                assert_eq!(put.key(), PaymentWrites::read_key(payment));
                grant_from_item(&put.item).expect("a written grant reads back")
            });
            assert_eq!(written, grant);
        }
        None => {
            let plan = payment.next_plan(None, now);
            let written = writes.change.as_ref().map(|put| {
                assert_eq!(put.key(), PaymentWrites::read_key(payment));
                plan_from_item(&put.item).expect("a written plan reads back")
            });
            assert_eq!(written, plan);
        }
    }
    match (&writes.payment, &payment.payment_intent, &payment.kind) {
        (Some(put), Some(intent), PaymentKind::Purchase { .. } | PaymentKind::Rental { .. }) => {
            assert_eq!(put.key(), payment_key(intent))
        }
        (None, None, _) | (None, Some(_), PaymentKind::Refund { .. }) => {}
        (None, Some(_), _) if writes.change.is_none() => {}
        other => panic!("refund index {other:?}"),
    }
}
