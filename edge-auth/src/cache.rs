//! A bounded map whose entries expire at a host-supplied time.
//!
//! `moka` and `mini-moka` read `Instant::now`, which panics on
//! `wasm32-unknown-unknown`; this cache never reads a clock. Capacity is
//! bounded: when full, expired entries go first, then the sixteenth that
//! would expire soonest. Eviction scans the map, so it frees room for many
//! inserts at once: a stream of new keys (fresh titles, one-off tokens)
//! pays a scan every `capacity / 16` inserts, not on every one.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher};

use reelgate_shared::EpochSeconds;

/// A full cache frees this fraction of its capacity at once.
const EVICT_FRACTION: usize = 16;

/// The secret every cache's hashes are keyed with, one per container, from
/// the host's randomness.
///
/// Cache keys come from viewers (their tokens, the title ids they ask for).
/// If their hashes were predictable, a viewer could choose ids that all land
/// in one probe sequence and make every lookup walk them. std's `RandomState`
/// is no defence on `wasm32-unknown-unknown`: it takes its keys from
/// allocation addresses, which are the same in every container running the
/// module. So the host supplies 16 random bytes (`crypto.randomBytes` in
/// Node, the OS natively) and every hash starts by absorbing them: SipHash's
/// state is then secret, and so are the hashes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HashKey([u8; 16]);

impl HashKey {
    pub const fn new(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// A key from 32 hex digits, as the WebAssembly host sends it.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 32 {
            return None;
        }
        let digit = |b: u8| char::from(b).to_digit(16);
        let mut bytes = [0; 16];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            *byte = (digit(pair[0])? << 4 | digit(pair[1])?) as u8;
        }
        Some(Self(bytes))
    }

    /// A key from the operating system's randomness, for native hosts:
    /// there std's `RandomState` is seeded by the OS, and two of its
    /// outputs make an unpredictable key.
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub fn from_os() -> Self {
        let state = std::hash::RandomState::new();
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&state.hash_one(0u8).to_le_bytes());
        bytes[8..].copy_from_slice(&state.hash_one(1u8).to_le_bytes());
        Self(bytes)
    }
}

/// Never shows the key.
impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(..)")
    }
}

impl BuildHasher for HashKey {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        let mut hasher = DefaultHasher::new();
        hasher.write(&self.0);
        hasher
    }
}

#[derive(Debug)]
pub struct ExpiringCache<K, V> {
    capacity: usize,
    entries: HashMap<K, (V, EpochSeconds), HashKey>,
}

impl<K: Eq + Hash, V> ExpiringCache<K, V> {
    pub fn new(capacity: usize, key: HashKey) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: HashMap::with_hasher(key),
        }
    }

    /// The value, if present and `now < expires_at`. `key` may be a
    /// borrowed form (`&str` for a `String` key), so a lookup allocates
    /// nothing, and the caller clones only what it keeps.
    pub fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q, now: EpochSeconds) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.get_with_expiry(key, now).map(|(value, _)| value)
    }

    /// The value and when it expires, if present and `now < expires_at`.
    pub fn get_with_expiry<Q: Eq + Hash + ?Sized>(
        &self,
        key: &Q,
        now: EpochSeconds,
    ) -> Option<(&V, EpochSeconds)>
    where
        K: Borrow<Q>,
    {
        self.entries
            .get(key)
            .filter(|(_, expires_at)| now < *expires_at)
            .map(|(value, expires_at)| (value, *expires_at))
    }

    pub fn insert(&mut self, key: K, value: V, expires_at: EpochSeconds, now: EpochSeconds) {
        if expires_at <= now {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.entries.retain(|_, (_, at)| now < *at);
            if self.entries.len() >= self.capacity {
                self.evict_soonest((self.capacity / EVICT_FRACTION).max(1));
            }
        }
        self.entries.insert(key, (value, expires_at));
    }

    /// Forgets `key` at once (an `insert` that expires now is ignored instead).
    pub fn remove(&mut self, key: &K) {
        self.entries.remove(key);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes the `count` entries that would expire soonest. The selection
    /// runs over the expiry times alone, so it is compiled once, not once
    /// per cache type.
    fn evict_soonest(&mut self, count: usize) {
        let mut expiries: Vec<EpochSeconds> = self.entries.values().map(|(_, at)| *at).collect();
        if count == 0 || expiries.is_empty() {
            return;
        }
        let count = count.min(expiries.len());
        let (sooner, cutoff, _) = expiries.select_nth_unstable(count - 1);
        let cutoff = *cutoff;
        // Everything before the cutoff goes, and as many at it as make `count`.
        let mut at_cutoff = count - sooner.iter().filter(|at| **at < cutoff).count();
        self.entries.retain(|_, (_, at)| {
            if *at < cutoff {
                false
            } else if *at == cutoff && at_cutoff > 0 {
                at_cutoff -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: u64) -> EpochSeconds {
        EpochSeconds::new(t)
    }

    const KEY: HashKey = HashKey::new([7; 16]);

    #[test]
    fn hashes_depend_on_the_key() {
        let value = "t-123";
        let other = HashKey::new([8; 16]);
        assert_eq!(KEY.hash_one(value), KEY.hash_one(value));
        assert_ne!(KEY.hash_one(value), other.hash_one(value));
        assert_ne!(
            HashKey::from_os().hash_one(value),
            HashKey::from_os().hash_one(value)
        );
    }

    #[test]
    fn a_key_is_32_hex_digits() {
        assert_eq!(
            HashKey::from_hex("000102030405060708090a0b0c0d0eff"),
            Some(HashKey::new([
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255
            ]))
        );
        for bad in [
            "",
            "00",
            "000102030405060708090a0b0c0d0eg0",
            "000102030405060708090a0b0c0d0e0f00",
            "+00102030405060708090a0b0c0d0e0f",
            "é0102030405060708090a0b0c0d0e0",
        ] {
            assert_eq!(HashKey::from_hex(bad), None, "{bad}");
        }
        assert_eq!(format!("{KEY:?}"), "HashKey(..)");
    }

    #[test]
    fn entries_expire_at_their_time() {
        let mut cache = ExpiringCache::new(4, KEY);
        cache.insert("a", 1, at(10), at(0));
        assert_eq!(cache.get(&"a", at(9)), Some(&1));
        assert_eq!(cache.get_with_expiry(&"a", at(9)), Some((&1, at(10))));
        assert_eq!(cache.get(&"a", at(10)), None);
    }

    #[test]
    fn the_size_stays_bounded_and_the_soonest_to_expire_goes_first() {
        let mut cache = ExpiringCache::new(2, KEY);
        cache.insert("late", 1, at(100), at(0));
        cache.insert("soon", 2, at(50), at(0));
        cache.insert("new", 3, at(70), at(0));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&"soon", at(1)), None);
        assert_eq!(cache.get(&"late", at(1)), Some(&1));
        assert_eq!(cache.get(&"new", at(1)), Some(&3));
    }

    #[test]
    fn a_full_cache_frees_the_soonest_sixteenth_at_once() {
        let mut cache = ExpiringCache::new(32, KEY);
        for i in 0..32u64 {
            cache.insert(i, i, at(100 + i), at(0));
        }
        cache.insert(99, 99, at(1000), at(0));
        // Two (32 / 16) went, the two expiring soonest; then the new one came in.
        assert_eq!(cache.len(), 31);
        assert_eq!(cache.get(&0, at(1)), None);
        assert_eq!(cache.get(&1, at(1)), None);
        assert_eq!(cache.get(&2, at(1)), Some(&2));
        assert_eq!(cache.get(&99, at(1)), Some(&99));
        // Room is left for the next insert without a scan.
        cache.insert(98, 98, at(1000), at(0));
        assert_eq!(cache.len(), 32);
    }

    #[test]
    fn eviction_among_equal_expiries_frees_exactly_its_share() {
        // Cookie sets of one bucket all expire together.
        let mut cache = ExpiringCache::new(32, KEY);
        for i in 0..32u64 {
            cache.insert(i, i, at(300), at(0));
        }
        cache.insert(99, 99, at(300), at(0));
        assert_eq!(cache.len(), 31);
        assert_eq!(cache.get(&99, at(1)), Some(&99));
    }

    #[test]
    fn already_expired_values_are_not_stored() {
        let mut cache = ExpiringCache::new(2, KEY);
        cache.insert("a", 1, at(5), at(5));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_removed_entry_is_gone_at_once() {
        let mut cache = ExpiringCache::new(2, KEY);
        cache.insert("a", 1, at(100), at(0));
        cache.remove(&"a");
        assert_eq!(cache.get(&"a", at(1)), None);
    }
}
