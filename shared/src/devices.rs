//! Concurrent-device limits (ARCHITECTURE §12 "Devices"): the one rule for
//! which lease slot a device takes, when a lease has lapsed, and when a
//! viewer is over their plan's `max_devices`.
//!
//! A plan with a limit of N gives its viewer N lease slots. A device (one
//! Cognito sign-in, the access token's `origin_jti`, or one player on it,
//! `?stream=<id>`) plays while it holds a slot: the edge writes the slot
//! when it issues a new cookie bucket, with a condition the store checks
//! atomically (the slot is free, lapsed, or already this device's), so two
//! devices can never both win one slot in one region. A slot lapses
//! [`LEASE_GRACE_SECS`] after the cookies it was written for expire, so a
//! device that stops playing frees its slot without saying so.
//!
//! The store's side (keys, items, the write and its condition) is
//! `crate::store::leases`; this module is the rule both the edge and the
//! stores evaluate.

use std::fmt;

use serde::Serialize;

use crate::ids::StreamId;
use crate::time::EpochSeconds;

/// The largest `max_devices` a plan may set: a new device reads every slot
/// in one query, so the bound keeps that read small.
pub const MAX_DEVICE_LIMIT: u16 = 20;

/// How long a lease outlives the cookies it was written for: room for a
/// player's refresh that arrives late (clock skew, a slow network) to renew
/// it before another device may take the slot.
pub const LEASE_GRACE_SECS: u64 = 60;

/// A plan's `max_devices`: 1 to [`MAX_DEVICE_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "u16")]
pub struct DeviceLimit(u16);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("max_devices must be 1 to {MAX_DEVICE_LIMIT}")]
pub struct DeviceLimitError;

impl DeviceLimit {
    pub fn new(n: u16) -> Result<Self, DeviceLimitError> {
        if (1..=MAX_DEVICE_LIMIT).contains(&n) {
            Ok(Self(n))
        } else {
            Err(DeviceLimitError)
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// The slot numbers this limit gives, `0..N`.
    pub fn slots(self) -> impl Iterator<Item = u16> {
        0..self.0
    }
}

impl From<DeviceLimit> for u16 {
    fn from(limit: DeviceLimit) -> u16 {
        limit.0
    }
}

impl fmt::Display for DeviceLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One device as the limit counts it: a sign-in session (`origin_jti`), or
/// one player stream on it (`<origin_jti>/<stream>`). Cognito's
/// `origin_jti` is a UUID; anything outside 1-128 printable ASCII
/// characters without `/` is not accepted as one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Device(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the token has no usable origin_jti to count its device by")]
pub struct DeviceUnidentified;

impl Device {
    pub fn new(
        origin_jti: Option<&str>,
        stream: Option<&StreamId>,
    ) -> Result<Self, DeviceUnidentified> {
        let session = origin_jti
            .filter(|jti| {
                (1..=128).contains(&jti.len())
                    && jti.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
            })
            .ok_or(DeviceUnidentified)?;
        Ok(Self(match stream {
            Some(stream) => format!("{session}/{stream}", stream = stream.as_str()),
            None => session.to_owned(),
        }))
    }

    /// As stored in a lease item (`crate::store::leases`).
    pub fn from_stored(value: &str) -> Self {
        Self(value.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Not printed: a device id is a token's identifier, kept out of logs.
impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Device(..)")
    }
}

/// A slot as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub slot: u16,
    pub device: Device,
    /// The lease lapses at this second (exclusive).
    pub expires_at: EpochSeconds,
}

impl Lease {
    pub fn is_live(&self, now: EpochSeconds) -> bool {
        now < self.expires_at
    }
}

/// Until when a lease written for cookies expiring at `cookies_expire_at` holds.
pub fn lease_until(cookies_expire_at: EpochSeconds) -> EpochSeconds {
    cookies_expire_at.plus(LEASE_GRACE_SECS)
}

/// Whether `device` may write a slot whose current lease is `current`: the
/// slot is free, lapsed, or already this device's. The store checks the
/// same condition atomically with the write (`store::leases::LeaseWrite`).
pub fn may_take(current: Option<&Lease>, device: &Device, now: EpochSeconds) -> bool {
    current.is_none_or(|lease| !lease.is_live(now) || lease.device == *device)
}

/// What a device should do, given the slots read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Try to write these slots, in this order, until one write's
    /// condition holds: the device's own slot first (a renewal, so a
    /// device never holds two), then the free or lapsed ones, lowest first
    /// (so two requests of one device pick the same slot).
    TrySlots(Vec<u16>),
    /// Every slot holds another device's live lease: `active` of them.
    Full { active: u16 },
}

/// The slots for `device` to try under `limit`, from the `leases` read.
/// Leases in slots at or past the limit (left by a larger limit before it
/// was lowered) are ignored: they neither count nor can be taken.
pub fn admit(
    leases: &[Lease],
    device: &Device,
    limit: DeviceLimit,
    now: EpochSeconds,
) -> Admission {
    let in_slot = |slot: u16| leases.iter().find(|lease| lease.slot == slot);
    let own = limit
        .slots()
        .filter(|&slot| in_slot(slot).is_some_and(|lease| lease.device == *device));
    let free = limit
        .slots()
        .filter(|&slot| in_slot(slot).is_none_or(|lease| !lease.is_live(now)));
    let mut order: Vec<u16> = own.collect();
    for slot in free {
        if !order.contains(&slot) {
            order.push(slot);
        }
    }
    if order.is_empty() {
        let active = limit
            .slots()
            .filter(|&slot| in_slot(slot).is_some_and(|lease| lease.is_live(now)))
            .count();
        return Admission::Full {
            active: u16::try_from(active).unwrap_or(u16::MAX),
        };
    }
    Admission::TrySlots(order)
}

/// The slot `device` holds among `leases`, to release it.
pub fn held_slot(leases: &[Lease], device: &Device) -> Option<u16> {
    leases
        .iter()
        .filter(|lease| lease.device == *device)
        .map(|lease| lease.slot)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn device(n: u8) -> Device {
        Device::new(Some(&format!("jti-{n}")), None).unwrap()
    }

    fn lease(slot: u16, n: u8, expires_at: u64) -> Lease {
        Lease {
            slot,
            device: device(n),
            expires_at: EpochSeconds::new(expires_at),
        }
    }

    fn limit(n: u16) -> DeviceLimit {
        DeviceLimit::new(n).unwrap()
    }

    const NOW: EpochSeconds = EpochSeconds::new(1000);

    #[test]
    fn a_limit_is_one_to_twenty() {
        assert!(DeviceLimit::new(0).is_err());
        assert!(DeviceLimit::new(21).is_err());
        assert_eq!(DeviceLimit::new(20).unwrap().slots().count(), 20);
    }

    #[test]
    fn a_device_is_its_sign_in_or_a_stream_on_it() {
        let stream = StreamId::parse("player-2a").unwrap();
        assert_eq!(device(1).as_str(), "jti-1");
        assert_eq!(
            Device::new(Some("jti-1"), Some(&stream)).unwrap().as_str(),
            "jti-1/player-2a"
        );
        for bad in [
            None,
            Some(""),
            Some("a/b"),
            Some("a b"),
            Some(&*"x".repeat(129)),
        ] {
            assert_eq!(Device::new(bad, None), Err(DeviceUnidentified), "{bad:?}");
        }
        assert_eq!(format!("{:?}", device(1)), "Device(..)");
    }

    #[test]
    fn a_new_device_takes_the_lowest_free_slot() {
        let leases = [lease(0, 1, 2000)];
        assert_eq!(
            admit(&leases, &device(2), limit(3), NOW),
            Admission::TrySlots(vec![1, 2])
        );
    }

    #[test]
    fn a_device_renews_its_own_slot_first() {
        let leases = [lease(1, 2, 2000)];
        assert_eq!(
            admit(&leases, &device(2), limit(3), NOW),
            Admission::TrySlots(vec![1, 0, 2])
        );
    }

    #[test]
    fn a_third_device_on_a_limit_of_two_is_refused_and_told_how_many_play() {
        let leases = [lease(0, 1, 2000), lease(1, 2, 2000)];
        assert_eq!(
            admit(&leases, &device(3), limit(2), NOW),
            Admission::Full { active: 2 }
        );
    }

    #[test]
    fn a_lapsed_lease_frees_its_slot_at_its_expiry() {
        let leases = [lease(0, 1, 1000), lease(1, 2, 2000)];
        assert_eq!(
            admit(&leases, &device(3), limit(2), NOW),
            Admission::TrySlots(vec![0])
        );
        assert!(may_take(Some(&leases[0]), &device(3), NOW));
        assert!(!may_take(
            Some(&leases[0]),
            &device(3),
            EpochSeconds::new(999)
        ));
    }

    #[test]
    fn slots_past_a_lowered_limit_neither_count_nor_admit() {
        let leases = [lease(0, 1, 2000), lease(4, 2, 2000)];
        assert_eq!(
            admit(&leases, &device(2), limit(1), NOW),
            Admission::Full { active: 1 }
        );
    }

    #[test]
    fn the_condition_admits_free_lapsed_or_own_slots_only() {
        let live = lease(0, 1, 2000);
        assert!(may_take(None, &device(2), NOW));
        assert!(may_take(Some(&live), &device(1), NOW));
        assert!(!may_take(Some(&live), &device(2), NOW));
    }

    #[test]
    fn a_lease_outlives_its_cookies_by_the_grace() {
        assert_eq!(
            lease_until(EpochSeconds::new(300)),
            EpochSeconds::new(300 + LEASE_GRACE_SECS)
        );
    }

    /// A store of `limit` slots under the store's condition, driven by any
    /// interleaving of reads, writes and releases from many devices, each
    /// writing from its own (possibly stale) read: at no time do more than
    /// `limit` slots hold live leases. With `fresh` reads (read just before
    /// the write, no one in between) no device ever holds two slots either;
    /// a stale read may make a device count twice until one lease lapses,
    /// which only ever refuses, never admits beyond the limit.
    fn run(limit_n: u16, ops: &[(u8, u8, u64)], fresh: bool) -> Result<(), TestCaseError> {
        let limit = limit(limit_n);
        let mut slots: Vec<Option<Lease>> = vec![None; usize::from(limit_n)];
        let mut seen: std::collections::HashMap<u8, Vec<Lease>> = Default::default();
        let mut now = 1000;
        for &(who, op, dt) in ops {
            now += dt % 40;
            let t = EpochSeconds::new(now);
            let who = who % 6;
            let me = device(who);
            let current =
                |slots: &Vec<Option<Lease>>| slots.iter().flatten().cloned().collect::<Vec<_>>();
            match op % 3 {
                0 => {
                    seen.insert(who, current(&slots));
                }
                1 => {
                    let read = if fresh {
                        current(&slots)
                    } else {
                        seen.get(&who).cloned().unwrap_or_default()
                    };
                    if let Admission::TrySlots(order) = admit(&read, &me, limit, t) {
                        for slot in order {
                            let cell = &mut slots[usize::from(slot)];
                            if may_take(cell.as_ref(), &me, t) {
                                *cell = Some(Lease {
                                    slot,
                                    device: me.clone(),
                                    expires_at: t.plus(60),
                                });
                                break;
                            }
                        }
                    }
                }
                _ => {
                    if let Some(slot) = held_slot(&current(&slots), &me) {
                        slots[usize::from(slot)] = None;
                    }
                }
            }
            let live: Vec<&Lease> = slots.iter().flatten().filter(|l| l.is_live(t)).collect();
            prop_assert!(live.len() <= usize::from(limit_n));
            if fresh {
                let mut devices: Vec<&str> = live.iter().map(|l| l.device.as_str()).collect();
                devices.sort_unstable();
                let all = devices.len();
                devices.dedup();
                prop_assert_eq!(devices.len(), all, "a device holds two live slots");
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn devices_never_exceed_the_limit_even_from_stale_reads(limit in 1u16..5,
                ops in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u64>()), 0..200)) {
            run(limit, &ops, false)?;
        }

        #[test]
        fn from_fresh_reads_a_device_holds_one_slot(limit in 1u16..5,
                ops in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u64>()), 0..200)) {
            run(limit, &ops, true)?;
        }
    }
}
