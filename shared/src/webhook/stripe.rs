//! Stripe's webhook events (as its API reference documents them) read into
//! reelgate's payment events. Reading is lenient where Stripe adds fields
//! (any unknown field is ignored) and strict where reelgate acts: a field
//! it relies on that is present but invalid is an error naming the field,
//! never a guess.
//!
//! - `checkout.session.completed` with `payment_status: "paid"`, and
//!   `checkout.session.async_payment_succeeded`: a purchase or rental by
//!   `client_reference_id` of `metadata.video_id` (`metadata.kind`,
//!   `metadata.rental_hours`), remembering `payment_intent`. A session
//!   without `metadata.video_id` (another product, or a subscription's
//!   checkout) is not reelgate's and is ignored.
//! - `charge.refunded`, `refund.created`, `refund.updated` (and the older
//!   `charge.refund.updated`) with a succeeded refund: revoke what the
//!   `payment_intent` bought; the store's refund index says what that was.
//! - `customer.subscription.created|updated|deleted`: the plan of
//!   `metadata.user_sub` at `metadata.tier` until the current period ends
//!   (on the subscription before API version 2025-03-31.basil, on its items
//!   since), cancelled when the status says access ended. A subscription
//!   without `metadata.user_sub` is not reelgate's and is ignored.
//!
//! Every other event type is ignored: Stripe retries anything but a 2xx.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::entitlement::{PaymentError, PaymentEvent, PaymentKind, rental_hours};
use crate::ids::{EventId, PaymentIntentId, Tier, UserSub, VideoId};
use crate::time::EpochSeconds;

/// What a Stripe delivery asks of reelgate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeEvent {
    /// A grant or plan change, applied like any payment event.
    Payment(PaymentEvent),
    /// A refund of `payment_intent`: the host looks up what it bought
    /// (`EntitlementStore::payment`) and applies [`StripeEvent::refund_of`].
    Refund {
        event_id: EventId,
        payment_intent: PaymentIntentId,
    },
    /// Nothing for reelgate to do; `why` is for the log.
    Ignored {
        event_id: EventId,
        why: &'static str,
    },
}

impl StripeEvent {
    pub fn event_id(&self) -> &EventId {
        match self {
            Self::Payment(event) => &event.event_id,
            Self::Refund { event_id, .. } | Self::Ignored { event_id, .. } => event_id,
        }
    }

    /// The payment event revoking the title `user` bought with the refunded
    /// payment (found in the store's refund index).
    pub fn refund_of(event_id: EventId, user: UserSub, video: VideoId) -> PaymentEvent {
        PaymentEvent {
            event_id,
            user,
            kind: PaymentKind::Refund { video },
            payment_intent: None,
        }
    }

    /// Reads one delivery's raw body (after its signature was verified).
    pub fn parse(body: &[u8]) -> Result<Self, PaymentError> {
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|e| PaymentError::new("body", e.to_string()))?;
        let event_id =
            EventId::parse(&envelope.id).map_err(|e| PaymentError::new("id", e.to_string()))?;
        let object = Object(&envelope.data.object);
        let ignored = |why| {
            Ok(Self::Ignored {
                event_id: event_id.clone(),
                why,
            })
        };
        match envelope.kind.as_str() {
            "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
                checkout(event_id.clone(), &envelope.kind, object).map(|event| {
                    event.map_or(
                        Self::Ignored {
                            event_id,
                            why: "not a paid reelgate title",
                        },
                        Self::Payment,
                    )
                })
            }
            "charge.refunded" => match object.payment_intent()? {
                Some(payment_intent) => Ok(Self::Refund {
                    event_id,
                    payment_intent,
                }),
                None => ignored("charge without a payment intent"),
            },
            "refund.created" | "refund.updated" | "charge.refund.updated" => {
                match (object.str("status")?, object.payment_intent()?) {
                    (Some("succeeded"), Some(payment_intent)) => Ok(Self::Refund {
                        event_id,
                        payment_intent,
                    }),
                    (Some("succeeded"), None) => ignored("refund without a payment intent"),
                    _ => ignored("refund not succeeded"),
                }
            }
            "customer.subscription.created"
            | "customer.subscription.updated"
            | "customer.subscription.deleted" => {
                subscription(event_id.clone(), &envelope.kind, object).map(|event| {
                    event.map_or(
                        Self::Ignored {
                            event_id,
                            why: "subscription without metadata.user_sub",
                        },
                        Self::Payment,
                    )
                })
            }
            _ => ignored("event type reelgate does not handle"),
        }
    }
}

/// The fields of Stripe's event envelope reelgate reads.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: Map<String, Value>,
}

/// A Stripe object (`data.object`), read field by field with the field's
/// path in every error.
#[derive(Clone, Copy)]
struct Object<'a>(&'a Map<String, Value>);

impl<'a> Object<'a> {
    /// A string field; `null` and absent are both `None`.
    fn str(self, field: &'static str) -> Result<Option<&'a str>, PaymentError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(PaymentError::new(field, "must be a string")),
        }
    }

    /// `metadata.<key>`: Stripe metadata values are strings.
    fn metadata(
        self,
        key: &'static str,
        field: &'static str,
    ) -> Result<Option<&'a str>, PaymentError> {
        match self.0.get("metadata") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(metadata)) => Object(metadata)
                .str(key)
                .map_err(|e| PaymentError::new(field, e.problem)),
            Some(_) => Err(PaymentError::new("metadata", "must be an object")),
        }
    }

    /// `payment_intent`: an id, or the expanded object carrying one.
    fn payment_intent(self) -> Result<Option<PaymentIntentId>, PaymentError> {
        let id = match self.0.get("payment_intent") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(id)) => id.as_str(),
            Some(Value::Object(expanded)) => match expanded.get("id") {
                Some(Value::String(id)) => id.as_str(),
                _ => {
                    return Err(PaymentError::new(
                        "payment_intent",
                        "expanded without an id",
                    ));
                }
            },
            Some(_) => return Err(PaymentError::new("payment_intent", "must be a string")),
        };
        PaymentIntentId::parse(id)
            .map(Some)
            .map_err(|e| PaymentError::new("payment_intent", e.to_string()))
    }

    fn epoch(value: &Value, field: &'static str) -> Result<EpochSeconds, PaymentError> {
        value
            .as_u64()
            .map(EpochSeconds::new)
            .ok_or_else(|| PaymentError::new(field, "must be epoch seconds"))
    }

    /// The end of the current billing period: `items.data[].current_period_end`
    /// (the latest, API versions since 2025-03-31.basil), else the
    /// subscription's own `current_period_end` (earlier versions).
    fn period_end(self) -> Result<Option<EpochSeconds>, PaymentError> {
        const ITEM_FIELD: &str = "items.data.current_period_end";
        let mut end = None;
        if let Some(items) = self.0.get("items").and_then(|i| i.get("data")) {
            let items = items
                .as_array()
                .ok_or_else(|| PaymentError::new("items.data", "must be a list"))?;
            for item in items {
                if let Some(value) = item.get("current_period_end").filter(|v| !v.is_null()) {
                    end = end.max(Some(Self::epoch(value, ITEM_FIELD)?));
                }
            }
        }
        match self.0.get("current_period_end") {
            Some(value) if end.is_none() && !value.is_null() => {
                Ok(Some(Self::epoch(value, "current_period_end")?))
            }
            _ => Ok(end),
        }
    }
}

fn checkout(
    event_id: EventId,
    kind: &str,
    session: Object<'_>,
) -> Result<Option<PaymentEvent>, PaymentError> {
    let Some(video) = session.metadata("video_id", "metadata.video_id")? else {
        return Ok(None);
    };
    let video =
        VideoId::parse(video).map_err(|e| PaymentError::new("metadata.video_id", e.to_string()))?;
    // `completed` also arrives for delayed methods (bank debits) before the
    // money has moved; those grant on `async_payment_succeeded` instead.
    if kind == "checkout.session.completed" && session.str("payment_status")? != Some("paid") {
        return Ok(None);
    }
    let user = session
        .str("client_reference_id")?
        .ok_or_else(|| PaymentError::new("client_reference_id", "required: the buyer's sub"))?;
    let user = UserSub::parse(user)
        .map_err(|e| PaymentError::new("client_reference_id", e.to_string()))?;
    let kind = match session.metadata("kind", "metadata.kind")? {
        Some("purchase") => PaymentKind::Purchase { video },
        Some("rental") => {
            let hours = session
                .metadata("rental_hours", "metadata.rental_hours")?
                .ok_or_else(|| {
                    PaymentError::new("metadata.rental_hours", "required for rentals")
                })?;
            let hours = hours
                .parse::<u64>()
                .ok()
                .filter(|_| hours.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| PaymentError::new("metadata.rental_hours", "must be whole hours"))?;
            PaymentKind::Rental {
                video,
                hours: rental_hours(hours)
                    .map_err(|e| PaymentError::new("metadata.rental_hours", e.problem))?,
            }
        }
        Some(_) => {
            return Err(PaymentError::new(
                "metadata.kind",
                "must be purchase or rental",
            ));
        }
        None => {
            return Err(PaymentError::new(
                "metadata.kind",
                "required: purchase or rental",
            ));
        }
    };
    Ok(Some(PaymentEvent {
        event_id,
        user,
        kind,
        payment_intent: session.payment_intent()?,
    }))
}

/// Statuses under which a subscriber keeps access until the period ends:
/// `past_due` while Stripe retries the card, as Stripe's own portal does.
const ACTIVE_STATUSES: &[&str] = &["active", "trialing", "past_due"];
/// Statuses under which access has ended.
const ENDED_STATUSES: &[&str] = &["canceled", "unpaid", "incomplete_expired", "paused"];

fn subscription(
    event_id: EventId,
    kind: &str,
    subscription: Object<'_>,
) -> Result<Option<PaymentEvent>, PaymentError> {
    let Some(user) = subscription.metadata("user_sub", "metadata.user_sub")? else {
        return Ok(None);
    };
    let user =
        UserSub::parse(user).map_err(|e| PaymentError::new("metadata.user_sub", e.to_string()))?;
    let tier = subscription
        .metadata("tier", "metadata.tier")?
        .ok_or_else(|| PaymentError::new("metadata.tier", "required: the plan's tier"))?;
    let tier = Tier::parse(tier).map_err(|e| PaymentError::new("metadata.tier", e.to_string()))?;
    let status = subscription
        .str("status")?
        .ok_or_else(|| PaymentError::new("status", "required"))?;
    let kind = if kind == "customer.subscription.deleted" || ENDED_STATUSES.contains(&status) {
        PaymentKind::PlanCanceled
    } else if ACTIVE_STATUSES.contains(&status) {
        let premium_until = subscription.period_end()?.ok_or_else(|| {
            PaymentError::new(
                "items.data.current_period_end",
                "required for an active subscription",
            )
        })?;
        PaymentKind::PlanActivated {
            tier,
            premium_until,
        }
    } else {
        // `incomplete`: the first payment has not succeeded yet; an
        // `updated` event follows when it does.
        return Ok(None);
    };
    Ok(Some(PaymentEvent {
        event_id,
        user,
        kind,
        payment_intent: None,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(event: Value) -> Result<StripeEvent, PaymentError> {
        StripeEvent::parse(event.to_string().as_bytes())
    }

    fn envelope(kind: &str, object: Value) -> Value {
        json!({
            "id": "evt_1NG8Du2eZvKYlo2C", "object": "event", "api_version": "2025-03-31.basil",
            "created": 1_800_000_000, "livemode": false, "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
            "type": kind, "data": {"object": object},
        })
    }

    fn session(metadata: Value) -> Value {
        json!({
            "id": "cs_test_a1", "object": "checkout.session", "mode": "payment",
            "status": "complete", "payment_status": "paid", "amount_total": 499,
            "currency": "usd", "client_reference_id": "alice-sub",
            "customer": null, "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            "metadata": metadata,
        })
    }

    fn payment(event: StripeEvent) -> PaymentEvent {
        match event {
            StripeEvent::Payment(event) => event,
            other => panic!("expected a payment, got {other:?}"),
        }
    }

    #[test]
    fn a_paid_checkout_is_a_purchase_remembering_its_payment_intent() {
        let event = payment(
            parse(envelope(
                "checkout.session.completed",
                session(json!({"video_id": "demo", "kind": "purchase"})),
            ))
            .unwrap(),
        );
        assert_eq!(event.event_id.as_str(), "evt_1NG8Du2eZvKYlo2C");
        assert_eq!(event.user.as_str(), "alice-sub");
        assert_eq!(
            event.kind,
            PaymentKind::Purchase {
                video: VideoId::parse("demo").unwrap()
            }
        );
        assert_eq!(
            event.payment_intent.unwrap().as_str(),
            "pi_3MtwBwLkdIwHu7ix28a3tqPa"
        );
    }

    #[test]
    fn a_rental_takes_its_hours_from_metadata_strings() {
        let event = payment(
            parse(envelope(
                "checkout.session.async_payment_succeeded",
                session(json!({"video_id": "demo", "kind": "rental", "rental_hours": "48"})),
            ))
            .unwrap(),
        );
        assert!(matches!(event.kind, PaymentKind::Rental { hours: 48, .. }));
    }

    #[test]
    fn an_unpaid_or_foreign_checkout_is_ignored() {
        let mut unpaid = session(json!({"video_id": "demo", "kind": "purchase"}));
        unpaid["payment_status"] = json!("unpaid");
        for object in [unpaid, session(json!({})), session(Value::Null)] {
            assert!(matches!(
                parse(envelope("checkout.session.completed", object)).unwrap(),
                StripeEvent::Ignored { .. }
            ));
        }
    }

    #[test]
    fn an_expanded_payment_intent_is_read_by_its_id() {
        let mut object = session(json!({"video_id": "demo", "kind": "purchase"}));
        object["payment_intent"] = json!({"id": "pi_9", "object": "payment_intent"});
        let event = payment(parse(envelope("checkout.session.completed", object)).unwrap());
        assert_eq!(event.payment_intent.unwrap().as_str(), "pi_9");
    }

    #[test]
    fn refunds_name_their_payment_intent() {
        let charge = json!({"id": "ch_1", "object": "charge", "payment_intent": "pi_1",
            "refunded": true, "amount_refunded": 499});
        let refund = |status| {
            json!({"id": "re_1", "object": "refund", "payment_intent": "pi_1",
            "charge": "ch_1", "status": status, "amount": 499})
        };
        for (kind, object) in [
            ("charge.refunded", charge),
            ("refund.created", refund("succeeded")),
            ("refund.updated", refund("succeeded")),
        ] {
            assert_eq!(
                parse(envelope(kind, object)).unwrap(),
                StripeEvent::Refund {
                    event_id: EventId::parse("evt_1NG8Du2eZvKYlo2C").unwrap(),
                    payment_intent: PaymentIntentId::parse("pi_1").unwrap(),
                },
                "{kind}"
            );
        }
        for status in ["pending", "failed", "canceled"] {
            assert!(matches!(
                parse(envelope("refund.updated", refund(status))).unwrap(),
                StripeEvent::Ignored { .. }
            ));
        }
    }

    fn subscription_object(status: &str, items_end: Option<u64>, own_end: Option<u64>) -> Value {
        let mut object = json!({
            "id": "sub_1", "object": "subscription", "status": status, "customer": "cus_1",
            "metadata": {"user_sub": "bob-sub", "tier": "premium"},
            "items": {"object": "list", "data": [
                {"id": "si_1", "object": "subscription_item", "current_period_start": 1}
            ]},
        });
        if let Some(end) = items_end {
            object["items"]["data"][0]["current_period_end"] = json!(end);
        }
        if let Some(end) = own_end {
            object["current_period_end"] = json!(end);
        }
        object
    }

    #[test]
    fn a_subscription_sets_the_plan_until_its_period_ends_in_either_api_version() {
        for (items_end, own_end) in [(Some(2_000), None), (None, Some(2_000))] {
            let event = payment(
                parse(envelope(
                    "customer.subscription.updated",
                    subscription_object("active", items_end, own_end),
                ))
                .unwrap(),
            );
            assert_eq!(event.user.as_str(), "bob-sub");
            assert_eq!(
                event.kind,
                PaymentKind::PlanActivated {
                    tier: Tier::parse("premium").unwrap(),
                    premium_until: EpochSeconds::new(2_000),
                }
            );
        }
    }

    #[test]
    fn a_subscription_cancels_when_deleted_or_its_status_ends_access() {
        for (kind, status) in [
            ("customer.subscription.deleted", "canceled"),
            ("customer.subscription.updated", "canceled"),
            ("customer.subscription.updated", "unpaid"),
        ] {
            let event = payment(
                parse(envelope(
                    kind,
                    subscription_object(status, Some(2_000), None),
                ))
                .unwrap(),
            );
            assert_eq!(event.kind, PaymentKind::PlanCanceled, "{kind} {status}");
        }
        assert!(matches!(
            parse(envelope(
                "customer.subscription.created",
                subscription_object("incomplete", Some(2_000), None)
            ))
            .unwrap(),
            StripeEvent::Ignored { .. }
        ));
    }

    #[test]
    fn unknown_types_are_ignored() {
        assert!(matches!(
            parse(envelope("invoice.paid", json!({"id": "in_1"}))).unwrap(),
            StripeEvent::Ignored { .. }
        ));
    }

    #[test]
    fn bad_bodies_name_the_field() {
        let sub = |metadata: Value| {
            let mut object = subscription_object("active", Some(2_000), None);
            object["metadata"] = metadata;
            envelope("customer.subscription.updated", object)
        };
        let mut no_buyer = session(json!({"video_id": "demo", "kind": "purchase"}));
        no_buyer["client_reference_id"] = Value::Null;
        let mut bad_pi = session(json!({"video_id": "demo", "kind": "purchase"}));
        bad_pi["payment_intent"] = json!("pi/1");
        let mut bad_id = envelope("invoice.paid", json!({}));
        bad_id["id"] = json!("evt#1");
        let checkout = |metadata| envelope("checkout.session.completed", session(metadata));
        let cases = [
            (json!([]), "body"),
            (json!({"id": "evt_1", "type": "x"}), "body"),
            (bad_id, "id"),
            (
                checkout(json!({"video_id": "a/b", "kind": "purchase"})),
                "metadata.video_id",
            ),
            (checkout(json!({"video_id": "demo"})), "metadata.kind"),
            (
                checkout(json!({"video_id": "demo", "kind": "gift"})),
                "metadata.kind",
            ),
            (
                checkout(json!({"video_id": "demo", "kind": "rental"})),
                "metadata.rental_hours",
            ),
            (
                checkout(json!({"video_id": "demo", "kind": "rental", "rental_hours": "0"})),
                "metadata.rental_hours",
            ),
            (
                checkout(json!({"video_id": "demo", "kind": "rental", "rental_hours": "+4"})),
                "metadata.rental_hours",
            ),
            (
                checkout(json!({"video_id": "demo", "kind": "rental", "rental_hours": 4})),
                "metadata.rental_hours",
            ),
            (
                envelope("checkout.session.completed", no_buyer),
                "client_reference_id",
            ),
            (
                envelope("checkout.session.completed", bad_pi),
                "payment_intent",
            ),
            (sub(json!({"user_sub": "bob-sub"})), "metadata.tier"),
            (
                sub(json!({"user_sub": "bob-sub", "tier": "a b"})),
                "metadata.tier",
            ),
            (
                sub(json!({"user_sub": "#", "tier": "premium"})),
                "metadata.user_sub",
            ),
            (
                envelope(
                    "customer.subscription.updated",
                    subscription_object("active", None, None),
                ),
                "items.data.current_period_end",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(parse(body.clone()).unwrap_err().field, field, "{body}");
        }
    }
}
