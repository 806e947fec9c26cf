//! The local stack's store: in memory by default, DynamoDB (Local, or AWS)
//! on request. One enum so the API router and the edge host take a single
//! store type either way.

use reelgate_api::dynamo::DynamoStore;
use reelgate_shared::entitlement::{
    Grant, GrantSource, PaymentEvent, Plan, Title, UserEntitlements,
};
use reelgate_shared::ids::PaymentIntentId;
use reelgate_shared::store::{
    ApplyOutcome, CatalogueStore, Consistency, EntitlementStore, Item, LeaseQuery, LeaseStore,
    LeaseWrite, MemoryStore, PaymentRecord, Snapshot, StoreError, TitleWrite,
};
use reelgate_shared::{EpochSeconds, UserSub, VideoId};

pub enum DevStore {
    Memory(MemoryStore),
    Dynamo(DynamoStore),
}

impl DevStore {
    /// Gives the demo users what the README promises, unless the store
    /// already knows them (a DynamoDB table survives restarts).
    pub async fn seed(
        &self,
        users: &[crate::users::DemoUser],
        titles: &[Title],
        now: EpochSeconds,
    ) -> Result<(), StoreError> {
        // Created only where absent: an operator's edit in a kept table stays.
        for title in titles {
            self.put_title(title, TitleWrite::Create).await?;
        }
        for user in users {
            let existing = self.entitlements(&user.sub).await?;
            if existing.plan.is_some() || !existing.grants.is_empty() {
                continue;
            }
            if user.premium {
                let plan = Plan {
                    tier: "premium".into(),
                    premium_until: now.plus(365 * 24 * 3600),
                    max_devices: user.max_devices,
                };
                self.put_plan(&user.sub, Some(plan)).await?;
            }
            for video in &user.owns {
                let grant = Grant {
                    video: video.clone(),
                    source: GrantSource::Purchase,
                    granted_at: now,
                    purchase_id: None,
                    revoked_at: None,
                };
                self.put_grant(&user.sub, grant).await?;
            }
        }
        Ok(())
    }
}

impl EntitlementStore for DevStore {
    async fn snapshot(
        &self,
        user: &UserSub,
        video: &VideoId,
        consistency: Consistency,
    ) -> Result<Snapshot, StoreError> {
        match self {
            Self::Memory(s) => s.snapshot(user, video, consistency).await,
            Self::Dynamo(s) => s.snapshot(user, video, consistency).await,
        }
    }

    async fn entitlements(&self, user: &UserSub) -> Result<UserEntitlements, StoreError> {
        match self {
            Self::Memory(s) => s.entitlements(user).await,
            Self::Dynamo(s) => s.entitlements(user).await,
        }
    }

    async fn apply_payment(
        &self,
        event: &PaymentEvent,
        now: EpochSeconds,
    ) -> Result<ApplyOutcome, StoreError> {
        match self {
            Self::Memory(s) => s.apply_payment(event, now).await,
            Self::Dynamo(s) => s.apply_payment(event, now).await,
        }
    }

    async fn payment(
        &self,
        payment: &PaymentIntentId,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        match self {
            Self::Memory(s) => s.payment(payment).await,
            Self::Dynamo(s) => s.payment(payment).await,
        }
    }

    async fn put_plan(&self, user: &UserSub, plan: Option<Plan>) -> Result<(), StoreError> {
        match self {
            Self::Memory(s) => s.put_plan(user, plan).await,
            Self::Dynamo(s) => s.put_plan(user, plan).await,
        }
    }

    async fn put_grant(&self, user: &UserSub, grant: Grant) -> Result<(), StoreError> {
        match self {
            Self::Memory(s) => s.put_grant(user, grant).await,
            Self::Dynamo(s) => s.put_grant(user, grant).await,
        }
    }

    async fn delete_grant(&self, user: &UserSub, video: &VideoId) -> Result<bool, StoreError> {
        match self {
            Self::Memory(s) => s.delete_grant(user, video).await,
            Self::Dynamo(s) => s.delete_grant(user, video).await,
        }
    }
}

impl CatalogueStore for DevStore {
    async fn titles(&self) -> Result<Vec<Title>, StoreError> {
        match self {
            Self::Memory(s) => s.titles().await,
            Self::Dynamo(s) => s.titles().await,
        }
    }

    async fn put_title(&self, title: &Title, write: TitleWrite) -> Result<bool, StoreError> {
        match self {
            Self::Memory(s) => s.put_title(title, write).await,
            Self::Dynamo(s) => s.put_title(title, write).await,
        }
    }

    async fn delete_title(&self, video: &VideoId) -> Result<bool, StoreError> {
        match self {
            Self::Memory(s) => s.delete_title(video).await,
            Self::Dynamo(s) => s.delete_title(video).await,
        }
    }
}

impl LeaseStore for DevStore {
    async fn leases(&self, query: &LeaseQuery) -> Result<Vec<Item>, StoreError> {
        match self {
            Self::Memory(s) => s.leases(query).await,
            Self::Dynamo(s) => s.leases(query).await,
        }
    }

    async fn write_lease(&self, write: &LeaseWrite) -> Result<bool, StoreError> {
        match self {
            Self::Memory(s) => s.write_lease(write).await,
            Self::Dynamo(s) => s.write_lease(write).await,
        }
    }
}
