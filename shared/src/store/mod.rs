//! The DynamoDB single-table schema (ARCHITECTURE §7) and the store
//! interface the edge, the API and the local stack share. One file per
//! concern: `schema.rs` (keys, item kinds, item ↔ domain), `writes.rs`
//! (every write as an item and its condition, payments and catalogue
//! titles included),
//! `item.rs` (DynamoDB's JSON shape), `leases.rs` (device lease slots and
//! their conditional writes), `memory.rs` (the in-memory store).
//! The DynamoDB client lives in `api` and executes the same writes.

mod item;
mod leases;
mod memory;
mod schema;
mod writes;

use std::future::Future;

pub use item::{AttrValue, Item};
pub use leases::{
    LeaseQuery, LeaseWrite, Names, lease_from_item, lease_item, lease_key, lease_pk,
    leases_from_items,
};
pub use memory::MemoryStore;
pub use schema::{
    ATTR_PK, ATTR_SK, ATTR_TTL, ATTR_VERSION, PaymentRecord, SchemaError, SnapshotKeys,
    catalogue_partition, event_item, event_key, grant_from_item, grant_item, grant_key,
    holdings_from_items, holdings_partition, payment_item, payment_key, payment_record_from_item,
    plan_from_item, plan_item, plan_key, snapshot_from_items, title_from_item, title_item,
    title_key, titles_from_items, user_pk,
};
pub use writes::{
    Condition, Expression, PaymentWrites, Put, TitleWrite, Version, grant_put, plan_put, title_put,
};

pub use crate::entitlement::Snapshot;
use crate::entitlement::{Grant, PaymentEvent, Plan, Title, UserEntitlements};
use crate::ids::{PaymentIntentId, UserSub, VideoId};
use crate::time::EpochSeconds;

/// Whether a webhook delivery changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    Applied,
    /// The event id was seen before; nothing changed.
    Duplicate,
}

impl ApplyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
        }
    }
}

/// Read consistency. The edge reads its nearest replica eventually
/// consistently; the webhook and admin paths read strongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    Eventual,
    Strong,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store throttled the request")]
    Throttled,
    #[error("concurrent update to the same item; retry")]
    Conflict,
    #[error("stored item is invalid: {0}")]
    Corrupt(#[from] SchemaError),
}

/// Where entitlements live. Futures are `Send` so hosts can spawn them.
pub trait EntitlementStore: Send + Sync {
    fn snapshot(
        &self,
        user: &UserSub,
        video: &VideoId,
        consistency: Consistency,
    ) -> impl Future<Output = Result<Snapshot, StoreError>> + Send;

    fn entitlements(
        &self,
        user: &UserSub,
    ) -> impl Future<Output = Result<UserEntitlements, StoreError>> + Send;

    /// Applies a payment event atomically and at most once per event id.
    fn apply_payment(
        &self,
        event: &PaymentEvent,
        now: EpochSeconds,
    ) -> impl Future<Output = Result<ApplyOutcome, StoreError>> + Send;

    /// What a payment bought, from the refund index a purchase or rental
    /// wrote with its grant (`None`: no grant was paid for with it). Read
    /// strongly; the item never changes once written.
    fn payment(
        &self,
        payment: &PaymentIntentId,
    ) -> impl Future<Output = Result<Option<PaymentRecord>, StoreError>> + Send;

    fn put_plan(
        &self,
        user: &UserSub,
        plan: Option<Plan>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn put_grant(
        &self,
        user: &UserSub,
        grant: Grant,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes a grant outright (admin); refunds revoke instead.
    fn delete_grant(
        &self,
        user: &UserSub,
        video: &VideoId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Where the catalogue lives (`CATALOGUE` / `TITLE#<id>` items). The edge
/// reads one title with a decision's snapshot; these are the API's list
/// and the operator's writes.
pub trait CatalogueStore: Send + Sync {
    /// Every listed title, in id order.
    fn titles(&self) -> impl Future<Output = Result<Vec<Title>, StoreError>> + Send;

    /// Writes `title` as [`TitleWrite`] says; `Ok(false)` when its
    /// condition did not hold (create: already listed; replace: not listed).
    fn put_title(
        &self,
        title: &Title,
        write: TitleWrite,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes a title from the catalogue; `Ok(false)`: it was not listed.
    /// Grants for it stay (a title listed again is watched again).
    fn delete_title(
        &self,
        video: &VideoId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl<T: CatalogueStore> CatalogueStore for std::sync::Arc<T> {
    fn titles(&self) -> impl Future<Output = Result<Vec<Title>, StoreError>> + Send {
        (**self).titles()
    }

    fn put_title(
        &self,
        title: &Title,
        write: TitleWrite,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).put_title(title, write)
    }

    fn delete_title(
        &self,
        video: &VideoId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).delete_title(video)
    }
}

/// Where device leases live (`crate::devices`). A host executes the reads
/// and writes the edge names exactly as given; [`claim_in_order`] is the
/// order rule every Rust host shares (the Node host writes the same loop).
pub trait LeaseStore: Send + Sync {
    /// The items of a [`LeaseQuery`], strongly consistent.
    fn leases(
        &self,
        query: &LeaseQuery,
    ) -> impl Future<Output = Result<Vec<Item>, StoreError>> + Send;

    /// Executes one write; `Ok(false)` when its condition did not hold.
    fn write_lease(
        &self,
        write: &LeaseWrite,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Tries `writes` in order until one's condition holds: its index, or
/// `None` when every condition failed. A store error stops the attempt.
pub async fn claim_in_order<S: LeaseStore + ?Sized>(
    store: &S,
    writes: &[LeaseWrite],
) -> Result<Option<usize>, StoreError> {
    for (index, write) in writes.iter().enumerate() {
        if store.write_lease(write).await? {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

impl<T: LeaseStore> LeaseStore for std::sync::Arc<T> {
    fn leases(
        &self,
        query: &LeaseQuery,
    ) -> impl Future<Output = Result<Vec<Item>, StoreError>> + Send {
        (**self).leases(query)
    }

    fn write_lease(
        &self,
        write: &LeaseWrite,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).write_lease(write)
    }
}

/// A shared store is a store: hosts hand one `Arc` to the API router, the
/// edge host and the identity provider.
impl<T: EntitlementStore> EntitlementStore for std::sync::Arc<T> {
    fn snapshot(
        &self,
        user: &UserSub,
        video: &VideoId,
        consistency: Consistency,
    ) -> impl Future<Output = Result<Snapshot, StoreError>> + Send {
        (**self).snapshot(user, video, consistency)
    }

    fn entitlements(
        &self,
        user: &UserSub,
    ) -> impl Future<Output = Result<UserEntitlements, StoreError>> + Send {
        (**self).entitlements(user)
    }

    fn apply_payment(
        &self,
        event: &PaymentEvent,
        now: EpochSeconds,
    ) -> impl Future<Output = Result<ApplyOutcome, StoreError>> + Send {
        (**self).apply_payment(event, now)
    }

    fn payment(
        &self,
        payment: &PaymentIntentId,
    ) -> impl Future<Output = Result<Option<PaymentRecord>, StoreError>> + Send {
        (**self).payment(payment)
    }

    fn put_plan(
        &self,
        user: &UserSub,
        plan: Option<Plan>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_plan(user, plan)
    }

    fn put_grant(
        &self,
        user: &UserSub,
        grant: Grant,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_grant(user, grant)
    }

    fn delete_grant(
        &self,
        user: &UserSub,
        video: &VideoId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).delete_grant(user, video)
    }
}
