//! Payment provider events (ARCHITECTURE §8) and what each does to a grant
//! or plan. Parsing is strict: a webhook that names an invalid title or user
//! is refused with the field, never half-applied.

use serde::Deserialize;

use super::grant::{Grant, GrantSource, Plan};
use crate::ids::{EventId, PaymentIntentId, Tier, UserSub, VideoId};
use crate::time::EpochSeconds;

/// A rental longer than 30 days is a purchase in disguise (or a typo).
pub const MAX_RENTAL_HOURS: u64 = 720;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentKind {
    Purchase {
        video: VideoId,
    },
    Rental {
        video: VideoId,
        hours: u64,
    },
    Refund {
        video: VideoId,
    },
    PlanActivated {
        tier: Tier,
        premium_until: EpochSeconds,
    },
    PlanCanceled,
}

impl PaymentKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Purchase { .. } => "purchase.succeeded",
            Self::Rental { .. } => "rental.succeeded",
            Self::Refund { .. } => "refund.succeeded",
            Self::PlanActivated { .. } => "plan.activated",
            Self::PlanCanceled => "plan.canceled",
        }
    }

    pub fn video(&self) -> Option<&VideoId> {
        match self {
            Self::Purchase { video } | Self::Rental { video, .. } | Self::Refund { video } => {
                Some(video)
            }
            Self::PlanActivated { .. } | Self::PlanCanceled => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentEvent {
    pub event_id: EventId,
    pub user: UserSub,
    pub kind: PaymentKind,
    /// The provider's payment behind a purchase or rental (Stripe's
    /// `payment_intent`). The store indexes it beside the grant, so a refund
    /// that names only the payment finds what it bought.
    pub payment_intent: Option<PaymentIntentId>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct PaymentError {
    pub field: &'static str,
    pub problem: String,
}

impl PaymentError {
    /// An input error naming `field` (never echoing its value).
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}

fn problem(field: &'static str, text: impl Into<String>) -> PaymentError {
    PaymentError::new(field, text)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    user_sub: String,
    video_id: Option<String>,
    rental_hours: Option<u64>,
    premium_until: Option<u64>,
    tier: Option<String>,
}

/// The tier a plan event names when it names none (the generic webhook's
/// events predate tiers).
pub const DEFAULT_TIER: &str = "premium";

/// A rental's hours, checked against [`MAX_RENTAL_HOURS`].
pub fn rental_hours(hours: u64) -> Result<u64, PaymentError> {
    if (1..=MAX_RENTAL_HOURS).contains(&hours) {
        Ok(hours)
    } else {
        Err(problem(
            "rental_hours",
            format!("must be 1..={MAX_RENTAL_HOURS}"),
        ))
    }
}

impl PaymentEvent {
    pub fn parse(body: &[u8]) -> Result<Self, PaymentError> {
        let wire: Wire =
            serde_json::from_slice(body).map_err(|e| problem("body", e.to_string()))?;
        let event_id =
            EventId::parse(&wire.event_id).map_err(|e| problem("event_id", e.to_string()))?;
        let user =
            UserSub::parse(&wire.user_sub).map_err(|e| problem("user_sub", e.to_string()))?;
        let video = || {
            let id = wire
                .video_id
                .as_deref()
                .ok_or_else(|| problem("video_id", "required for this type"))?;
            VideoId::parse(id).map_err(|e| problem("video_id", e.to_string()))
        };
        let kind = match wire.kind.as_str() {
            "purchase.succeeded" => PaymentKind::Purchase { video: video()? },
            "rental.succeeded" => {
                let hours = rental_hours(
                    wire.rental_hours
                        .ok_or_else(|| problem("rental_hours", "required for rentals"))?,
                )?;
                PaymentKind::Rental {
                    video: video()?,
                    hours,
                }
            }
            "refund.succeeded" => PaymentKind::Refund { video: video()? },
            "plan.activated" => PaymentKind::PlanActivated {
                tier: Tier::parse(wire.tier.as_deref().unwrap_or(DEFAULT_TIER))
                    .map_err(|e| problem("tier", e.to_string()))?,
                premium_until: EpochSeconds::new(
                    wire.premium_until
                        .ok_or_else(|| problem("premium_until", "required for plan.activated"))?,
                ),
            },
            "plan.canceled" => PaymentKind::PlanCanceled,
            _ => return Err(problem("type", "unknown event type")),
        };
        Ok(Self {
            event_id,
            user,
            kind,
            payment_intent: None,
        })
    }

    /// The grant after this event, given the current one. Never downgrades:
    /// renting a title already owned keeps the purchase, and a second rental
    /// extends rather than shortens.
    pub fn next_grant(&self, current: Option<&Grant>, now: EpochSeconds) -> Option<Grant> {
        let fresh = |video: &VideoId, source| Grant {
            video: video.clone(),
            source,
            granted_at: now,
            purchase_id: Some(self.event_id.clone()),
            revoked_at: None,
        };
        let live = current.filter(|g| g.is_active(now));
        match &self.kind {
            PaymentKind::Purchase { video } => match live {
                Some(g) if g.source == GrantSource::Purchase => Some(g.clone()),
                _ => Some(fresh(video, GrantSource::Purchase)),
            },
            PaymentKind::Rental { video, hours } => {
                let expires_at = now.plus(hours.saturating_mul(3600));
                match live {
                    Some(g) if g.expires_at().is_none() => Some(g.clone()),
                    Some(g) if g.expires_at() >= Some(expires_at) => Some(g.clone()),
                    _ => Some(fresh(video, GrantSource::Rental { expires_at })),
                }
            }
            PaymentKind::Refund { .. } => current.map(|g| Grant {
                revoked_at: Some(g.revoked_at.unwrap_or(now)),
                ..g.clone()
            }),
            PaymentKind::PlanActivated { .. } | PaymentKind::PlanCanceled => current.cloned(),
        }
    }

    /// The plan after this event. Cancelling ends it now; activating never
    /// shortens a plan of the same tier that already runs longer (deliveries
    /// may arrive out of order), while a change of tier takes the new
    /// tier's end.
    pub fn next_plan(&self, current: Option<&Plan>, now: EpochSeconds) -> Option<Plan> {
        match &self.kind {
            PaymentKind::PlanActivated {
                tier,
                premium_until,
            } => Some(Plan {
                tier: tier.to_string(),
                premium_until: match current {
                    Some(p) if p.tier == tier.as_str() => (*premium_until).max(p.premium_until),
                    _ => *premium_until,
                },
                // An operator's device limit outlives the plan's renewals.
                max_devices: current.and_then(|p| p.max_devices),
            }),
            PaymentKind::PlanCanceled => current.map(|p| Plan {
                premium_until: p.premium_until.min(now),
                ..p.clone()
            }),
            _ => current.cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(body: &str) -> Result<PaymentEvent, PaymentError> {
        PaymentEvent::parse(body.as_bytes())
    }

    #[test]
    fn bad_bodies_name_the_field() {
        let cases = [
            (
                r#"{"event_id":"e1","type":"purchase.succeeded","user_sub":"u"}"#,
                "video_id",
            ),
            (
                r#"{"event_id":"e1","type":"purchase.succeeded","user_sub":"u","video_id":"*"}"#,
                "video_id",
            ),
            (
                r#"{"event_id":"e1","type":"rental.succeeded","user_sub":"u","video_id":"a","rental_hours":0}"#,
                "rental_hours",
            ),
            (r#"{"event_id":"e1","type":"gift","user_sub":"u"}"#, "type"),
            (
                r#"{"event_id":"e#1","type":"plan.canceled","user_sub":"u"}"#,
                "event_id",
            ),
            (
                r#"{"event_id":"e1","type":"plan.canceled","user_sub":"u","extra":1}"#,
                "body",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(event(body).unwrap_err().field, field, "{body}");
        }
    }

    #[test]
    fn renting_an_owned_title_keeps_the_purchase() {
        let now = EpochSeconds::new(1000);
        let purchase =
            event(r#"{"event_id":"e1","type":"purchase.succeeded","user_sub":"u","video_id":"a"}"#)
                .unwrap();
        let owned = purchase.next_grant(None, now).unwrap();
        let rental = event(r#"{"event_id":"e2","type":"rental.succeeded","user_sub":"u","video_id":"a","rental_hours":48}"#).unwrap();
        assert_eq!(rental.next_grant(Some(&owned), now).unwrap(), owned);
    }

    #[test]
    fn a_refund_revokes_and_a_new_purchase_restores() {
        let now = EpochSeconds::new(1000);
        let purchase =
            event(r#"{"event_id":"e1","type":"purchase.succeeded","user_sub":"u","video_id":"a"}"#)
                .unwrap();
        let refund =
            event(r#"{"event_id":"e2","type":"refund.succeeded","user_sub":"u","video_id":"a"}"#)
                .unwrap();
        let revoked = refund
            .next_grant(purchase.next_grant(None, now).as_ref(), now.plus(5))
            .unwrap();
        assert!(!revoked.is_active(now.plus(6)));
        let again =
            event(r#"{"event_id":"e3","type":"purchase.succeeded","user_sub":"u","video_id":"a"}"#)
                .unwrap();
        assert!(
            again
                .next_grant(Some(&revoked), now.plus(7))
                .unwrap()
                .is_active(now.plus(8))
        );
    }

    #[test]
    fn a_rental_expires_after_its_hours() {
        let now = EpochSeconds::new(1000);
        let rental = event(r#"{"event_id":"e2","type":"rental.succeeded","user_sub":"u","video_id":"a","rental_hours":2}"#).unwrap();
        let grant = rental.next_grant(None, now).unwrap();
        assert_eq!(grant.expires_at(), Some(now.plus(7200)));
    }

    #[test]
    fn cancelling_a_plan_ends_it_now() {
        let now = EpochSeconds::new(1000);
        let on = event(
            r#"{"event_id":"e1","type":"plan.activated","user_sub":"u","premium_until":5000}"#,
        )
        .unwrap();
        let off = event(r#"{"event_id":"e2","type":"plan.canceled","user_sub":"u"}"#).unwrap();
        let plan = on.next_plan(None, now).unwrap();
        assert!(plan.is_active(now));
        assert!(!off.next_plan(Some(&plan), now).unwrap().is_active(now));
    }
}
