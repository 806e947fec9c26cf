//! Concurrent-device limits at the edge (ARCHITECTURE §12 "Devices"; the
//! rule is `shared::devices`, the items and writes `shared::store`'s). A
//! session request of a viewer whose plan sets `max_devices` holds a lease
//! for its device until shortly after its cookies expire. The lease is
//! written only when a new cookie bucket is issued to that device: within
//! a bucket this container remembers the lease and writes nothing.

use reelgate_shared::crypto::{Crypto, KeyRing};
use reelgate_shared::devices::{
    Admission, Device, DeviceLimit, Lease, admit, held_slot, lease_until,
};
use reelgate_shared::store::{LeaseQuery, LeaseWrite};
use reelgate_shared::{EpochSeconds, UserSub};

use crate::edge::Edge;
use crate::region::nearest_replica;
use crate::step::{Fetch, Fetched};

/// Whether a device may play now.
pub(crate) enum Held {
    Yes,
    Fetch(Fetch),
    /// Every slot is another device's: `active` of `limit` play.
    Full {
        active: u16,
        limit: DeviceLimit,
    },
    /// The store failed: fail closed, as for entitlements.
    StoreFailed,
}

impl<C: Crypto + KeyRing> Edge<C> {
    fn replica(&self) -> Option<String> {
        nearest_replica(&self.region, &self.config.table.replica_regions).map(str::to_owned)
    }

    fn read_leases(&self, user: &UserSub) -> Fetch {
        Fetch::Leases {
            table: self.config.table.name.to_string(),
            region: self.replica(),
            query: LeaseQuery { user: user.clone() },
        }
    }

    /// Holds `device`'s lease under `limit` until shortly after
    /// `cookies_expire_at`: from this container's memory within a bucket,
    /// else by reading the slots and claiming one.
    pub(crate) fn hold_lease(
        &mut self,
        user: &UserSub,
        device: &Device,
        limit: DeviceLimit,
        cookies_expire_at: EpochSeconds,
        now: EpochSeconds,
        fetched: &Fetched,
    ) -> Held {
        let until = lease_until(cookies_expire_at);
        let key = (user.clone(), device.clone());
        if self
            .leases
            .get(&key, now)
            .is_some_and(|held| *held >= until)
        {
            return Held::Yes;
        }
        let leases = match &fetched.leases {
            None => return Held::Fetch(self.read_leases(user)),
            Some(Err(_)) => return Held::StoreFailed,
            Some(Ok(leases)) => leases,
        };
        let order = match admit(leases, device, limit, now) {
            Admission::Full { active } => return Held::Full { active, limit },
            Admission::TrySlots(order) => order,
        };
        match &fetched.lease {
            None => Held::Fetch(Fetch::Lease {
                table: self.config.table.name.to_string(),
                region: self.replica(),
                writes: order
                    .into_iter()
                    .map(|slot| LeaseWrite::Claim {
                        user: user.clone(),
                        lease: Lease {
                            slot,
                            device: device.clone(),
                            expires_at: until,
                        },
                        now,
                    })
                    .collect(),
            }),
            Some(Err(_)) => Held::StoreFailed,
            // Other devices took every slot tried since the read.
            Some(Ok(None)) => Held::Full {
                active: limit.get(),
                limit,
            },
            Some(Ok(Some(_))) => {
                self.leases.insert(key, until, until, now);
                Held::Yes
            }
        }
    }

    /// Releases `device`'s lease, if it holds one: the fetch to perform,
    /// or `None` when there is nothing (more) to do. Best effort: a store
    /// failure leaves the lease to lapse on its own.
    pub(crate) fn release_lease(
        &mut self,
        user: &UserSub,
        device: &Device,
        fetched: &Fetched,
    ) -> Option<Fetch> {
        // Forgotten before the store is asked: a device that logged out
        // must not play on from this container's memory of its lease.
        self.leases.remove(&(user.clone(), device.clone()));
        if fetched.lease.is_some() {
            return None;
        }
        let leases = match &fetched.leases {
            None => return Some(self.read_leases(user)),
            Some(Err(_)) => return None,
            Some(Ok(leases)) => leases,
        };
        let slot = held_slot(leases, device)?;
        Some(Fetch::Lease {
            table: self.config.table.name.to_string(),
            region: self.replica(),
            writes: vec![LeaseWrite::Release {
                user: user.clone(),
                slot,
                device: device.clone(),
            }],
        })
    }
}
