//! The entitlement of a verified viewer to a title: the shared decision
//! (`shared::entitlement::Rules::decide`), with the edge's caches of store
//! answers (entitlements and, with a catalogue, titles) in front of the
//! store (ARCHITECTURE §6).
//!
//! With `catalogue` on, every decision needs the title's catalogue item.
//! It comes with the snapshot read (one `BatchGetItem` of the grant, the
//! plan and the title), so a title not cached costs no extra round trip,
//! and it is cached per title like an entitlement: `positive_seconds` for a
//! listed title, `negative_seconds` for an unlisted one. A failed read
//! with nothing cached fails closed (`503 entitlement_unavailable`).

use reelgate_shared::crypto::{Crypto, KeyRing};
use reelgate_shared::devices::DeviceLimit;
use reelgate_shared::entitlement::{
    self, Basis, Denial, Entitled, Rules, Snapshot, Title, TokenEntitlements,
};
use reelgate_shared::jwt::Claims;
use reelgate_shared::store::SnapshotKeys;
use reelgate_shared::{EpochSeconds, VideoId};

use crate::edge::Edge;
use crate::log::{Decision, EntitlementSource};
use crate::region::nearest_replica;
use crate::step::{Fetch, Fetched};

/// An entitlement and until when that answer cannot change: the end of the
/// grant itself, or of the cache entry it came from (`None`: the token's life).
pub(crate) struct Settled {
    pub(crate) entitled: Entitled,
    pub(crate) until: Option<EpochSeconds>,
    /// The plan's `max_devices` when the plan is what entitles
    /// (`crate::devices`); purchases, rentals and groups are not limited.
    pub(crate) max_devices: Option<DeviceLimit>,
}

/// A cached yes: the entitlement and its plan's device limit.
pub(crate) type Cached = (Entitled, Option<DeviceLimit>);

/// A plan's device limit applies to what that plan entitles.
fn plan_limit(entitled: &Entitled, limit: Option<DeviceLimit>) -> Option<DeviceLimit> {
    limit.filter(|_| entitled.basis == Basis::PremiumPlan)
}

/// The edge's entitlement answer for one request.
pub(crate) enum Entitlement {
    Settled(Settled),
    Denied(Denial),
    /// Ask the host for the store's snapshot, then decide again.
    Fetch(Fetch),
    /// The store failed and nothing is cached: fail closed.
    StoreFailed,
}

/// The title a decision reads, when the edge keeps a catalogue.
enum Listing {
    /// No catalogue: no title is read.
    Unchecked,
    Known(Option<Title>),
}

impl<C: Crypto + KeyRing> Edge<C> {
    fn snapshot_fetch(&self, claims: &Claims, video: &VideoId) -> Fetch {
        Fetch::Entitlement {
            table: self.config.table.name.to_string(),
            region: nearest_replica(&self.region, &self.config.table.replica_regions)
                .map(str::to_owned),
            keys: SnapshotKeys::new(claims.sub.clone(), video.clone()),
        }
    }

    /// Keeps the title a fetched snapshot carries, for the cache's time.
    fn remember_title(&mut self, video: &VideoId, snapshot: &Snapshot, now: EpochSeconds) {
        let ttl = match snapshot.title {
            Some(_) => self.config.cache.positive_seconds,
            None => self.config.cache.negative_seconds,
        };
        self.titles
            .insert(video.clone(), snapshot.title.clone(), now.plus(ttl), now);
    }

    pub(crate) fn entitlement(
        &mut self,
        claims: &Claims,
        video: &VideoId,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Entitlement {
        let fetched_snapshot = fetched.entitlement.as_ref();
        if let (true, Some(Ok(snapshot))) = (self.config.catalogue, fetched_snapshot) {
            self.remember_title(video, snapshot, now);
        }
        let listing = if !self.config.catalogue {
            Listing::Unchecked
        } else if let Some(title) = self.titles.get(video, now) {
            Listing::Known(title.clone())
        } else {
            // Only reachable before the first fetch: a fetched snapshot's
            // title was cached above (a TTL of 0 caches nothing, so it is
            // read from the snapshot itself).
            match fetched_snapshot {
                None => return Entitlement::Fetch(self.snapshot_fetch(claims, video)),
                Some(Err(_)) => {
                    decision.entitlement_source = Some(EntitlementSource::StoreError);
                    return Entitlement::StoreFailed;
                }
                Some(Ok(snapshot)) => Listing::Known(snapshot.title.clone()),
            }
        };
        let title = match &listing {
            Listing::Unchecked => None,
            Listing::Known(title) => title.as_ref(),
        };
        let rules = Rules {
            premium_groups: &self.config.premium_groups,
            claims_may_deny_for: self.config.cache.claims_trusted_seconds,
            catalogue: self.config.catalogue,
        };
        let needs_store = match rules.decide(claims, video, title, now) {
            entitlement::Decision::Entitled(entitled) => {
                decision.entitlement_source = Some(EntitlementSource::Claims);
                let limit = claims
                    .entitlements
                    .as_deref()
                    .and_then(|claim| TokenEntitlements::decode(claim).ok())
                    .and_then(|token| token.max_devices);
                return Entitlement::Settled(Settled {
                    entitled,
                    until: entitled.until,
                    max_devices: plan_limit(&entitled, limit),
                });
            }
            entitlement::Decision::Denied(denial) => {
                decision.entitlement_source = Some(EntitlementSource::Claims);
                return Entitlement::Denied(denial);
            }
            entitlement::Decision::NeedsStore(needs_store) => needs_store,
        };
        decision.store_reason = Some(needs_store.reason().as_str().into());
        let key = (claims.sub.clone(), video.clone());
        if let Some((cached, cached_until)) = self.entitlements.get_with_expiry(&key, now) {
            // A request that fetched the snapshot itself finds it cached
            // when a later fetch (a device lease) runs the core again: its
            // decision came from the store, and the log says so.
            decision.entitlement_source = Some(match fetched.entitlement {
                Some(Ok(_)) => EntitlementSource::Store,
                _ => EntitlementSource::Cache,
            });
            return match *cached {
                Ok((entitled, max_devices)) if entitled.until.is_none_or(|until| now < until) => {
                    Entitlement::Settled(Settled {
                        entitled,
                        until: Some(cached_until),
                        max_devices,
                    })
                }
                Ok(_) => Entitlement::Denied(Denial::NotHeld),
                Err(denial) => Entitlement::Denied(denial),
            };
        }
        let snapshot = match fetched_snapshot {
            None => return Entitlement::Fetch(self.snapshot_fetch(claims, video)),
            Some(Err(_)) => {
                decision.entitlement_source = Some(EntitlementSource::StoreError);
                return Entitlement::StoreFailed;
            }
            Some(Ok(snapshot)) => snapshot,
        };
        decision.entitlement_source = Some(EntitlementSource::Store);
        let limit = snapshot.plan.as_ref().and_then(|plan| plan.max_devices);
        let (answer, ttl) = match needs_store.decide(snapshot) {
            Ok(entitled) => (
                Ok((entitled, plan_limit(&entitled, limit))),
                self.config.cache.positive_seconds,
            ),
            Err(denial) => (Err(denial), self.config.cache.negative_seconds),
        };
        let mut until = now.plus(ttl);
        if let Ok((
            Entitled {
                until: Some(end), ..
            },
            _,
        )) = answer
        {
            until = until.min(end);
        }
        self.entitlements.insert(key, answer, until, now);
        match answer {
            Ok((entitled, max_devices)) => Entitlement::Settled(Settled {
                entitled,
                until: Some(until),
                max_devices,
            }),
            Err(denial) => Entitlement::Denied(denial),
        }
    }
}
