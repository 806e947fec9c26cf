//! A bounded map whose entries expire at a host-supplied time.
//!
//! `moka` and `mini-moka` read `Instant::now`, which panics on
//! `wasm32-unknown-unknown`; this cache never reads a clock. Capacity is
//! bounded: when full, expired entries go first, then the one that would
//! expire soonest. Eviction scans, which at the few thousand entries a
//! 128 MB container holds costs microseconds and only when full.

use std::collections::HashMap;
use std::hash::Hash;

use reelgate_shared::EpochSeconds;

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
                let soonest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(soonest) = soonest {
                    self.entries.remove(&soonest);
                }
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
