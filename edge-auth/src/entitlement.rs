//! The entitlement of a verified viewer to a title: the shared decision
//! (`shared::entitlement::Rules::decide`), with the edge's cache of store
//! answers in front of the store (ARCHITECTURE §6).

use reelgate_shared::crypto::{Crypto, KeyRing};
use reelgate_shared::devices::DeviceLimit;
use reelgate_shared::entitlement::{self, Basis, Entitled, Rules, TokenEntitlements};
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
    Denied,
    /// Ask the host for the store's snapshot, then decide again.
    Fetch(Fetch),
    /// The store failed and nothing is cached: fail closed.
    StoreFailed,
}

impl<C: Crypto + KeyRing> Edge<C> {
    pub(crate) fn entitlement(
        &mut self,
        claims: &Claims,
        video: &VideoId,
        now: EpochSeconds,
        fetched: &Fetched,
        decision: &mut Decision,
    ) -> Entitlement {
        let rules = Rules {
            premium_groups: &self.config.premium_groups,
            claims_may_deny_for: self.config.cache.claims_trusted_seconds,
        };
        let needs_store = match rules.decide(claims, video, now) {
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
            entitlement::Decision::Denied(_) => {
                decision.entitlement_source = Some(EntitlementSource::Claims);
                return Entitlement::Denied;
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
            return match cached.filter(|(e, _)| e.until.is_none_or(|until| now < until)) {
                Some((entitled, max_devices)) => Entitlement::Settled(Settled {
                    entitled,
                    until: Some(cached_until),
                    max_devices,
                }),
                None => Entitlement::Denied,
            };
        }
        let snapshot = match &fetched.entitlement {
            None => {
                return Entitlement::Fetch(Fetch::Entitlement {
                    table: self.config.table.name.to_string(),
                    region: nearest_replica(&self.region, &self.config.table.replica_regions)
                        .map(str::to_owned),
                    keys: SnapshotKeys::new(claims.sub.clone(), video.clone()),
                });
            }
            Some(Err(_)) => {
                decision.entitlement_source = Some(EntitlementSource::StoreError);
                return Entitlement::StoreFailed;
            }
            Some(Ok(snapshot)) => snapshot,
        };
        decision.entitlement_source = Some(EntitlementSource::Store);
        let limit = snapshot.plan.as_ref().and_then(|plan| plan.max_devices);
        let (entitled, ttl) = match needs_store.decide(snapshot) {
            Ok(entitled) => (
                Some((entitled, plan_limit(&entitled, limit))),
                self.config.cache.positive_seconds,
            ),
            Err(_) => (None, self.config.cache.negative_seconds),
        };
        let mut until = now.plus(ttl);
        if let Some(end) = entitled.and_then(|(e, _)| e.until) {
            until = until.min(end);
        }
        self.entitlements.insert(key, entitled, until, now);
        match entitled {
            Some((entitled, max_devices)) => Entitlement::Settled(Settled {
                entitled,
                until: Some(until),
                max_devices,
            }),
            None => Entitlement::Denied,
        }
    }
}
