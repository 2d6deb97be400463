//! A hash map that keeps at most `capacity` entries, forgetting the oldest insertions first.
//!
//! The provider's in-memory store uses it so that its memory stays flat however many logins
//! it serves: a load test or a long CI job abandons sessions and tokens by the hundred
//! thousand, and they would otherwise live until they expire (an hour for access tokens).
//! Lookups stay O(1); insertion order is a queue of (key, generation) with lazy deletion, so
//! an entry replaced or removed before its turn costs nothing when its old slot comes up.
//!
//! Memory, measured under sustained load: a full map churns (one insert, one eviction per
//! login), and the deleted slots of a hash table count against its growth budget, so a table
//! sized by doubling for `capacity` entries doubles once more after some tens of thousands of
//! operations. The table is therefore sized for twice the capacity from the start (it never
//! grows, and never briefly holds two tables), and values are boxed so that its buckets stay
//! small: a key, a pointer and a generation.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A capacity-bounded map with FIFO eviction.
#[derive(Debug)]
pub struct Bounded<K, V> {
    map: HashMap<K, (Box<V>, u64)>,
    order: VecDeque<(K, u64)>,
    capacity: usize,
    next: u64,
    evicted: u64,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    /// An empty map holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Bounded {
            map: HashMap::with_capacity(2 * capacity.max(1) + 2),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            next: 0,
            evicted: 0,
        }
    }

    /// Insert or replace; the entry becomes the newest. Evicts the oldest entries beyond the
    /// capacity.
    pub fn insert(&mut self, key: K, value: V) {
        let generation = self.next;
        self.next += 1;
        self.map.insert(key.clone(), (Box::new(value), generation));
        self.order.push_back((key, generation));
        while self.map.len() > self.capacity {
            let Some((old, g)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&old).is_some_and(|(_, live)| *live == g) {
                self.map.remove(&old);
                self.evicted += 1;
            }
        }
        // Slots of entries removed or replaced early pile up in the queue: compact it when
        // it is mostly stale, which keeps it within twice the capacity.
        if self.order.len() > 2 * self.capacity + 64 {
            let map = &self.map;
            self.order
                .retain(|(k, g)| map.get(k).is_some_and(|(_, live)| live == g));
        }
    }

    /// The value of `key`.
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key).map(|(v, _)| &**v)
    }

    /// The value of `key`, mutably (its age is unchanged).
    pub fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.map.get_mut(key).map(|(v, _)| &mut **v)
    }

    /// Remove `key`.
    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.map.remove(key).map(|(v, _)| *v)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    /// Keep the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        self.map.retain(|k, (v, _)| keep(k, v));
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(k, g)| map.get(k).is_some_and(|(_, live)| live == g));
        }
    }

    /// The keys.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.map.keys()
    }

    /// Every entry.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (v, _))| (k, &**v))
    }

    /// Every value, mutably (ages unchanged).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut().map(|(v, _)| &mut **v)
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// How many entries were forgotten to stay within the capacity, ever.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Slots in the insertion queue (live and stale), for tests of the bound.
    pub fn queued(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_beyond_capacity() {
        let mut m = Bounded::new(3);
        for i in 0..5 {
            m.insert(i, i * 10);
        }
        assert_eq!(m.len(), 3);
        assert!(m.get(&0).is_none() && m.get(&1).is_none());
        assert_eq!(m.get(&4), Some(&40));
        assert_eq!(m.evicted(), 2);
    }

    #[test]
    fn a_replaced_entry_counts_as_new() {
        let mut m = Bounded::new(2);
        m.insert("a", 1);
        m.insert("b", 2);
        m.insert("a", 3); // a is now the newest
        m.insert("c", 4); // evicts b, not a
        assert_eq!(m.get(&"a"), Some(&3));
        assert!(m.get(&"b").is_none());
        assert_eq!(m.get(&"c"), Some(&4));
    }

    #[test]
    fn removed_entries_do_not_evict_live_ones_and_the_queue_stays_bounded() {
        let mut m = Bounded::new(100);
        m.insert(u64::MAX, 0);
        for i in 0..100_000u64 {
            m.insert(i, i);
            m.remove(&i);
        }
        // The long-lived entry survived 100,000 insert/remove pairs.
        assert_eq!(m.get(&u64::MAX), Some(&0));
        assert_eq!(m.evicted(), 0);
        assert!(m.queued() <= 2 * 100 + 65, "{}", m.queued());
    }
}
