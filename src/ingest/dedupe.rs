//! De-duplication of events by `meta.id`.
//!
//! Resuming from a stored position can redeliver events near it, and the two
//! datacentre topics of a stream can overlap at a switch-over. A bounded set of
//! recently seen ids catches those cheaply; the store's unique keys catch the
//! rest, so a miss here costs a little work, never a duplicate row.

use std::collections::HashSet;
use std::hash::BuildHasher;

/// Two generations of id hashes: when the young one fills up, it becomes the
/// old one and the previous old one is dropped, so memory stays bounded while
/// the most recent `capacity`..`2 * capacity` ids are always remembered.
pub struct RecentIds {
    young: HashSet<u64>,
    old: HashSet<u64>,
    capacity: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl RecentIds {
    pub fn new(capacity: usize) -> Self {
        RecentIds {
            young: HashSet::with_capacity(capacity.min(1 << 16)),
            old: HashSet::new(),
            capacity: capacity.max(1),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// Returns true the first time an id is seen (within the window).
    pub fn first_time(&mut self, id: &str) -> bool {
        let key = self.hasher.hash_one(id);
        if self.young.contains(&key) || self.old.contains(&key) {
            return false;
        }
        if self.young.len() >= self.capacity {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_recent_ids_and_forgets_old_ones() {
        let mut ids = RecentIds::new(2);
        assert!(ids.first_time("a"));
        assert!(!ids.first_time("a"));
        assert!(ids.first_time("b"));
        assert!(ids.first_time("c")); // a, b move to the old generation
        assert!(!ids.first_time("a"));
        assert!(ids.first_time("d"));
        assert!(ids.first_time("e")); // c, d old; a, b forgotten
        assert!(ids.first_time("a"));
    }
}
