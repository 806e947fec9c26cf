//! The in-memory store: the local stack's default and the reference the
//! DynamoDB store is tested against. It keeps items in the §7 schema, so a
//! bug in the conversions shows up here too, and applies each payment under
//! one lock, which is what a DynamoDB transaction gives the real store.

use std::sync::{Mutex, MutexGuard};

use super::item::{AttrValue, Item};
use super::schema::{self, version_of};
use super::{ApplyOutcome, Consistency, EntitlementStore, Snapshot, StoreError};
use crate::entitlement::{Grant, PaymentEvent, Plan, UserEntitlements};
use crate::ids::{UserSub, VideoId};
use crate::time::EpochSeconds;

#[derive(Debug, Default)]
pub struct MemoryStore {
    items: Mutex<Vec<Item>>,
}

fn same_key(a: &Item, b: &Item) -> bool {
    a.get(schema::ATTR_PK) == b.get(schema::ATTR_PK)
        && a.get(schema::ATTR_SK) == b.get(schema::ATTR_SK)
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

fn put(items: &mut Vec<Item>, item: Item) {
    match items.iter_mut().find(|existing| same_key(existing, &item)) {
        Some(existing) => *existing = item,
        None => items.push(item),
    }
}

fn read_plan(items: &[Item], user: &UserSub) -> Result<Option<(Plan, u64)>, StoreError> {
    find(items, &schema::plan_key(user))
        .map(|item| Ok((schema::plan_from_item(item)?, version_of(item)?)))
        .transpose()
}

fn read_grant(
    items: &[Item],
    user: &UserSub,
    video: &VideoId,
) -> Result<Option<(Grant, u64)>, StoreError> {
    find(items, &schema::grant_key(user, video))
        .map(|item| Ok((schema::grant_from_item(item)?, version_of(item)?)))
        .transpose()
}

impl EntitlementStore for MemoryStore {
    async fn snapshot(
        &self,
        user: &UserSub,
        video: &VideoId,
        _: Consistency,
    ) -> Result<Snapshot, StoreError> {
        let items = self.lock();
        Ok(Snapshot {
            plan: read_plan(&items, user)?.map(|(plan, _)| plan),
            grant: read_grant(&items, user, video)?.map(|(grant, _)| grant),
        })
    }

    async fn entitlements(&self, user: &UserSub) -> Result<UserEntitlements, StoreError> {
        let items = self.lock();
        let pk = AttrValue::S(schema::user_pk(user));
        let mut grants = items
            .iter()
            .filter(|item| item.get(schema::ATTR_PK) == Some(&pk))
            .filter(|item| matches!(item.get(schema::ATTR_SK), Some(AttrValue::S(sk)) if sk.starts_with("VIDEO#")))
            .map(schema::grant_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        grants.sort_by(|a, b| {
            b.granted_at
                .cmp(&a.granted_at)
                .then_with(|| a.video.cmp(&b.video))
        });
        Ok(UserEntitlements {
            plan: read_plan(&items, user)?.map(|(plan, _)| plan),
            grants,
        })
    }

    async fn apply_payment(
        &self,
        event: &PaymentEvent,
        now: EpochSeconds,
    ) -> Result<ApplyOutcome, StoreError> {
        let mut items = self.lock();
        if find(&items, &schema::event_key(&event.event_id)).is_some() {
            return Ok(ApplyOutcome::Duplicate);
        }
        let mut writes = vec![schema::event_item(event, now)];
        if let Some(video) = event.kind.video() {
            let current = read_grant(&items, &event.user, video)?;
            if let Some(next) = event.next_grant(current.as_ref().map(|(g, _)| g), now) {
                let version = current.map_or(0, |(_, v)| v) + 1;
                writes.push(schema::grant_item(&event.user, &next, version));
            }
        } else {
            let current = read_plan(&items, &event.user)?;
            if let Some(next) = event.next_plan(current.as_ref().map(|(p, _)| p), now) {
                let version = current.map_or(0, |(_, v)| v) + 1;
                writes.push(schema::plan_item(&event.user, &next, version));
            }
        }
        for item in writes {
            put(&mut items, item);
        }
        Ok(ApplyOutcome::Applied)
    }

    async fn put_plan(&self, user: &UserSub, plan: Option<Plan>) -> Result<(), StoreError> {
        let mut items = self.lock();
        let version = read_plan(&items, user)?.map_or(0, |(_, v)| v) + 1;
        match plan {
            Some(plan) => put(&mut items, schema::plan_item(user, &plan, version)),
            None => items.retain(|item| !same_key(item, &schema::plan_key(user))),
        }
        Ok(())
    }

    async fn put_grant(&self, user: &UserSub, grant: Grant) -> Result<(), StoreError> {
        let mut items = self.lock();
        let version = read_grant(&items, user, &grant.video)?.map_or(0, |(_, v)| v) + 1;
        put(&mut items, schema::grant_item(user, &grant, version));
        Ok(())
    }

    async fn delete_grant(&self, user: &UserSub, video: &VideoId) -> Result<bool, StoreError> {
        let mut items = self.lock();
        let before = items.len();
        items.retain(|item| !same_key(item, &schema::grant_key(user, video)));
        Ok(items.len() != before)
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
}
