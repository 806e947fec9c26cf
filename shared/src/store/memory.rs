//! The in-memory store: the local stack's default and the reference the
//! DynamoDB store is tested against. It keeps items in the §7 schema and
//! executes the same writes (`writes.rs`) as the DynamoDB store, conditions
//! included, under one lock, which is what a DynamoDB transaction gives.

use std::sync::{Mutex, MutexGuard};

use super::item::Item;
use super::leases::{LeaseQuery, LeaseWrite};
use super::schema::{self, ATTR_PK, ATTR_SK};
use super::writes::{PaymentWrites, Put, TitleWrite, grant_put, plan_put, title_put};
use super::{
    ApplyOutcome, CatalogueStore, Consistency, EntitlementStore, LeaseStore, PaymentRecord,
    Snapshot, SnapshotKeys, StoreError,
};
use crate::entitlement::{Grant, PaymentEvent, Plan, Title, UserEntitlements};
use crate::ids::{PaymentIntentId, UserSub, VideoId};
use crate::time::EpochSeconds;

#[derive(Debug, Default)]
pub struct MemoryStore {
    items: Mutex<Vec<Item>>,
}

fn same_key(a: &Item, b: &Item) -> bool {
    a.get(ATTR_PK) == b.get(ATTR_PK) && a.get(ATTR_SK) == b.get(ATTR_SK)
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Item>> {
        // A panic while holding the lock cannot leave a half-written item
        // (every write is one push or replace), so poisoning is safe to clear.
        self.items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A copy of every item, for tests and the local stack's data dump.
    pub fn items(&self) -> Vec<Item> {
        self.lock().clone()
    }
}

fn find<'a>(items: &'a [Item], key: &Item) -> Option<&'a Item> {
    items.iter().find(|item| same_key(item, key))
}

/// All or nothing: every condition is checked before any item is written.
/// Under the lock a condition can only fail on a replayed event.
fn execute<'a>(items: &mut Vec<Item>, puts: impl IntoIterator<Item = &'a Put>) -> bool {
    let puts: Vec<&Put> = puts.into_iter().collect();
    if !puts
        .iter()
        .all(|put| put.condition.holds(find(items, &put.key())))
    {
        return false;
    }
    for put in puts {
        items.retain(|existing| !same_key(existing, &put.item));
        items.push(put.item.clone());
    }
    true
}

impl CatalogueStore for MemoryStore {
    async fn titles(&self) -> Result<Vec<Title>, StoreError> {
        let items = self.lock();
        let (attribute, value) = schema::catalogue_partition();
        Ok(schema::titles_from_items(
            items
                .iter()
                .filter(|item| item.get(attribute) == Some(&value)),
        )?)
    }

    async fn put_title(&self, title: &Title, write: TitleWrite) -> Result<bool, StoreError> {
        let mut items = self.lock();
        Ok(execute(&mut items, [&title_put(title, write)]))
    }

    async fn delete_title(&self, video: &VideoId) -> Result<bool, StoreError> {
        let mut items = self.lock();
        let key = schema::title_key(video);
        let before = items.len();
        items.retain(|item| !same_key(item, &key));
        Ok(items.len() < before)
    }
}

impl EntitlementStore for MemoryStore {
    async fn snapshot(
        &self,
        user: &UserSub,
        video: &VideoId,
        _: Consistency,
    ) -> Result<Snapshot, StoreError> {
        let items = self.lock();
        let keys = SnapshotKeys::new(user.clone(), video.clone()).keys();
        Ok(schema::snapshot_from_items(
            keys.iter().filter_map(|key| find(&items, key)),
        )?)
    }

    async fn entitlements(&self, user: &UserSub) -> Result<UserEntitlements, StoreError> {
        let items = self.lock();
        let (attribute, value) = schema::holdings_partition(user);
        Ok(schema::holdings_from_items(
            items
                .iter()
                .filter(|item| item.get(attribute) == Some(&value)),
        )?)
    }

    async fn apply_payment(
        &self,
        event: &PaymentEvent,
        now: EpochSeconds,
    ) -> Result<ApplyOutcome, StoreError> {
        let mut items = self.lock();
        let current = find(&items, &PaymentWrites::read_key(event));
        let writes = PaymentWrites::new(event, current, now)?;
        if !writes
            .event
            .condition
            .holds(find(&items, &writes.event.key()))
        {
            return Ok(ApplyOutcome::Duplicate);
        }
        if execute(&mut items, writes.puts()) {
            Ok(ApplyOutcome::Applied)
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn payment(
        &self,
        payment: &PaymentIntentId,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let items = self.lock();
        Ok(find(&items, &schema::payment_key(payment))
            .map(schema::payment_record_from_item)
            .transpose()?)
    }

    async fn put_plan(&self, user: &UserSub, plan: Option<Plan>) -> Result<(), StoreError> {
        let mut items = self.lock();
        let key = schema::plan_key(user);
        match plan {
            Some(plan) => {
                let put = plan_put(user, &plan, find(&items, &key))?;
                execute(&mut items, [&put]);
            }
            None => items.retain(|item| !same_key(item, &key)),
        }
        Ok(())
    }

    async fn put_grant(&self, user: &UserSub, grant: Grant) -> Result<(), StoreError> {
        let mut items = self.lock();
        let current = find(&items, &schema::grant_key(user, &grant.video));
        let put = grant_put(user, &grant, current)?;
        execute(&mut items, [&put]);
        Ok(())
    }

    async fn delete_grant(&self, user: &UserSub, video: &VideoId) -> Result<bool, StoreError> {
        let mut items = self.lock();
        let before = items.len();
        items.retain(|item| !same_key(item, &schema::grant_key(user, video)));
        Ok(items.len() != before)
    }
}

/// Each write is checked and applied under the lock: what DynamoDB's
/// conditional write gives for one item.
impl LeaseStore for MemoryStore {
    async fn leases(&self, query: &LeaseQuery) -> Result<Vec<Item>, StoreError> {
        let (attribute, value) = query.partition();
        Ok(self
            .lock()
            .iter()
            .filter(|item| item.get(attribute) == Some(&value))
            .cloned()
            .collect())
    }

    async fn write_lease(&self, write: &LeaseWrite) -> Result<bool, StoreError> {
        let mut items = self.lock();
        let key = write.key();
        if !write.holds(find(&items, &key)) {
            return Ok(false);
        }
        items.retain(|existing| !same_key(existing, &key));
        if let Some(item) = write.item() {
            items.push(item);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    /// The memory store never awaits anything, so one poll completes it.
    fn ready<T>(future: impl Future<Output = T>) -> T {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(value) => value,
            Poll::Pending => unreachable!("MemoryStore futures are always ready"),
        }
    }

    fn event(body: &str) -> PaymentEvent {
        PaymentEvent::parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn a_replayed_event_is_a_duplicate_and_changes_nothing() {
        let store = MemoryStore::new();
        let purchase = event(
            r#"{"event_id":"e1","type":"purchase.succeeded","user_sub":"u","video_id":"demo"}"#,
        );
        let now = EpochSeconds::new(100);
        assert_eq!(
            ready(store.apply_payment(&purchase, now)),
            Ok(ApplyOutcome::Applied)
        );
        let after_first = store.items();
        assert_eq!(
            ready(store.apply_payment(&purchase, now.plus(5))),
            Ok(ApplyOutcome::Duplicate)
        );
        assert_eq!(store.items(), after_first);
        let user = UserSub::parse("u").unwrap();
        let video = VideoId::parse("demo").unwrap();
        let snapshot = ready(store.snapshot(&user, &video, Consistency::Strong)).unwrap();
        assert!(snapshot.grant.unwrap().is_active(now));
    }

    #[test]
    fn entitlements_list_newest_grants_first() {
        let store = MemoryStore::new();
        for (i, video) in ["a", "b", "c"].iter().enumerate() {
            let body = format!(
                r#"{{"event_id":"e{i}","type":"purchase.succeeded","user_sub":"u","video_id":"{video}"}}"#
            );
            ready(store.apply_payment(&event(&body), EpochSeconds::new(i as u64))).unwrap();
        }
        let all = ready(store.entitlements(&UserSub::parse("u").unwrap())).unwrap();
        let order: Vec<&str> = all.grants.iter().map(|g| g.video.as_str()).collect();
        assert_eq!(order, ["c", "b", "a"]);
    }

    #[test]
    fn a_refund_revokes_a_grant_written_without_a_version() {
        let store = MemoryStore::new();
        let user = UserSub::parse("u").unwrap();
        let video = VideoId::parse("demo").unwrap();
        let grant = Grant {
            video: video.clone(),
            source: crate::entitlement::GrantSource::Purchase,
            granted_at: EpochSeconds::new(1),
            purchase_id: None,
            revoked_at: None,
        };
        let mut item = schema::grant_item(&user, &grant, 1);
        item.remove(schema::ATTR_VERSION);
        // As an operator, a backfill or an older release wrote it.
        store.lock().push(item);
        let refund = event(
            r#"{"event_id":"e9","type":"refund.succeeded","user_sub":"u","video_id":"demo"}"#,
        );
        assert_eq!(
            ready(store.apply_payment(&refund, EpochSeconds::new(10))),
            Ok(ApplyOutcome::Applied)
        );
        let snapshot = ready(store.snapshot(&user, &video, Consistency::Strong)).unwrap();
        assert_eq!(
            snapshot.grant.unwrap().revoked_at,
            Some(EpochSeconds::new(10))
        );
    }
}
