//! Grants and plans, and when each is in force.

use serde::Serialize;

use super::title::Title;
use crate::devices::DeviceLimit;
use crate::ids::{EventId, VideoId};
use crate::time::EpochSeconds;

/// How a viewer came to hold a title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum GrantSource {
    Purchase,
    /// A rental ends at `expires_at` (exclusive). DynamoDB's TTL deletes the
    /// item days later at best, so this, not the item's presence, decides.
    Rental {
        expires_at: EpochSeconds,
    },
    /// Granted by an operator through the admin API.
    Admin,
}

impl GrantSource {
    pub fn name(self) -> &'static str {
        match self {
            Self::Purchase => "purchase",
            Self::Rental { .. } => "rental",
            Self::Admin => "admin",
        }
    }
}

/// One title held by one viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub video: VideoId,
    #[serde(flatten)]
    pub source: GrantSource,
    pub granted_at: EpochSeconds,
    /// The payment event that created it, for support and refunds.
    pub purchase_id: Option<EventId>,
    /// Set by a refund; a revoked grant never entitles again.
    pub revoked_at: Option<EpochSeconds>,
}

impl Grant {
    /// In force at `now`: not revoked, and for rentals, `now < expires_at`.
    pub fn is_active(&self, now: EpochSeconds) -> bool {
        self.revoked_at.is_none() && self.expires_at().is_none_or(|end| now < end)
    }

    /// The order holdings are listed and put into tokens: newest grant
    /// first, ties by title so the order is total.
    pub fn newest_first(a: &Self, b: &Self) -> std::cmp::Ordering {
        b.granted_at
            .cmp(&a.granted_at)
            .then_with(|| a.video.cmp(&b.video))
    }

    pub fn expires_at(&self) -> Option<EpochSeconds> {
        match self.source {
            GrantSource::Rental { expires_at } => Some(expires_at),
            GrantSource::Purchase | GrantSource::Admin => None,
        }
    }
}

/// A subscription: while `now < premium_until`, the catalogue titles of its
/// tier (every title, in a deployment without a catalogue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub tier: String,
    pub premium_until: EpochSeconds,
    /// How many devices may play on this plan at once (`crate::devices`);
    /// `None`: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_devices: Option<DeviceLimit>,
}

impl Plan {
    pub fn is_active(&self, now: EpochSeconds) -> bool {
        now < self.premium_until
    }
}

/// Everything one viewer holds; grants newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserEntitlements {
    pub plan: Option<Plan>,
    pub grants: Vec<Grant>,
}

impl UserEntitlements {
    /// Holdings in their listing order (see [`Grant::newest_first`]).
    pub fn new(plan: Option<Plan>, mut grants: Vec<Grant>) -> Self {
        grants.sort_by(Grant::newest_first);
        Self { plan, grants }
    }
}

/// What the store holds for one (user, title) pair: all a decision reads,
/// the title's catalogue item included (`None`: not listed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub plan: Option<Plan>,
    pub grant: Option<Grant>,
    pub title: Option<Title>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(source: GrantSource) -> Grant {
        Grant {
            video: VideoId::parse("demo").unwrap(),
            source,
            granted_at: EpochSeconds::new(10),
            purchase_id: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_rental_ends_exactly_at_expires_at() {
        let rental = grant(GrantSource::Rental {
            expires_at: EpochSeconds::new(100),
        });
        assert!(rental.is_active(EpochSeconds::new(99)));
        assert!(!rental.is_active(EpochSeconds::new(100)));
    }

    #[test]
    fn a_revoked_purchase_is_not_active() {
        let mut purchase = grant(GrantSource::Purchase);
        assert!(purchase.is_active(EpochSeconds::new(u64::MAX)));
        purchase.revoked_at = Some(EpochSeconds::new(50));
        assert!(!purchase.is_active(EpochSeconds::new(20)));
    }
}
