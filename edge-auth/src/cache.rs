//! A bounded map whose entries expire at a host-supplied time.
//!
//! `moka` and `mini-moka` read `Instant::now`, which panics on
//! `wasm32-unknown-unknown`; this cache never reads a clock. Capacity is
//! bounded: when full, expired entries go first, then the sixteenth that
//! would expire soonest. Eviction scans the map, so it frees room for many
//! inserts at once: a stream of new keys (fresh titles, one-off tokens)
//! pays a scan every `capacity / 16` inserts, not on every one.

use std::collections::HashMap;
use std::hash::Hash;

use reelgate_shared::EpochSeconds;

/// A full cache frees this fraction of its capacity at once.
const EVICT_FRACTION: usize = 16;

#[derive(Debug)]
pub struct ExpiringCache<K, V> {
    capacity: usize,
    entries: HashMap<K, (V, EpochSeconds)>,
}

impl<K: Eq + Hash + Clone, V: Clone> ExpiringCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: HashMap::new(),
        }
    }

    /// The value, if present and `now < expires_at`.
    pub fn get(&self, key: &K, now: EpochSeconds) -> Option<V> {
        self.get_with_expiry(key, now).map(|(value, _)| value)
    }

    /// The value and when it expires, if present and `now < expires_at`.
    pub fn get_with_expiry(&self, key: &K, now: EpochSeconds) -> Option<(V, EpochSeconds)> {
        self.entries
            .get(key)
            .filter(|(_, expires_at)| now < *expires_at)
            .cloned()
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

    #[test]
    fn entries_expire_at_their_time() {
        let mut cache = ExpiringCache::new(4);
        cache.insert("a", 1, at(10), at(0));
        assert_eq!(cache.get(&"a", at(9)), Some(1));
        assert_eq!(cache.get_with_expiry(&"a", at(9)), Some((1, at(10))));
        assert_eq!(cache.get(&"a", at(10)), None);
    }

    #[test]
    fn the_size_stays_bounded_and_the_soonest_to_expire_goes_first() {
        let mut cache = ExpiringCache::new(2);
        cache.insert("late", 1, at(100), at(0));
        cache.insert("soon", 2, at(50), at(0));
        cache.insert("new", 3, at(70), at(0));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&"soon", at(1)), None);
        assert_eq!(cache.get(&"late", at(1)), Some(1));
        assert_eq!(cache.get(&"new", at(1)), Some(3));
    }

    #[test]
    fn a_full_cache_frees_the_soonest_sixteenth_at_once() {
        let mut cache = ExpiringCache::new(32);
        for i in 0..32u64 {
            cache.insert(i, i, at(100 + i), at(0));
        }
        cache.insert(99, 99, at(1000), at(0));
        // Two (32 / 16) went, the two expiring soonest; then the new one came in.
        assert_eq!(cache.len(), 31);
        assert_eq!(cache.get(&0, at(1)), None);
        assert_eq!(cache.get(&1, at(1)), None);
        assert_eq!(cache.get(&2, at(1)), Some(2));
        assert_eq!(cache.get(&99, at(1)), Some(99));
        // Room is left for the next insert without a scan.
        cache.insert(98, 98, at(1000), at(0));
        assert_eq!(cache.len(), 32);
    }

    #[test]
    fn eviction_among_equal_expiries_frees_exactly_its_share() {
        // Cookie sets of one bucket all expire together.
        let mut cache = ExpiringCache::new(32);
        for i in 0..32u64 {
            cache.insert(i, i, at(300), at(0));
        }
        cache.insert(99, 99, at(300), at(0));
        assert_eq!(cache.len(), 31);
        assert_eq!(cache.get(&99, at(1)), Some(99));
    }

    #[test]
    fn already_expired_values_are_not_stored() {
        let mut cache = ExpiringCache::new(2);
        cache.insert("a", 1, at(5), at(5));
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_removed_entry_is_gone_at_once() {
        let mut cache = ExpiringCache::new(2);
        cache.insert("a", 1, at(100), at(0));
        cache.remove(&"a");
        assert_eq!(cache.get(&"a", at(1)), None);
    }
}
