//! Recent recentchange edits by (wiki, revision, user), so a
//! page-links-change event arriving after its recentchange is paired at once.
//! Bounded: the oldest keys are forgotten first.

use std::collections::{HashMap, VecDeque};

/// `(wiki, revision, user name)`.
pub type PairKey = (String, i64, String);

pub struct Pairing {
    capacity: usize,
    rc_ids: HashMap<PairKey, Option<i64>>,
    order: VecDeque<PairKey>,
}

impl Pairing {
    pub fn new(capacity: usize) -> Self {
        Pairing {
            capacity: capacity.max(1),
            rc_ids: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Remembers an edit's recentchange id.
    pub fn remember(&mut self, key: PairKey, rc_id: Option<i64>) {
        if self.rc_ids.insert(key.clone(), rc_id).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.rc_ids.remove(&old);
            }
        }
    }

    /// The recentchange id of the edit, if it was seen (`Some(None)` when it
    /// had no id).
    pub fn take(&mut self, key: &PairKey) -> Option<Option<i64>> {
        self.rc_ids.get(key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_first() {
        let mut p = Pairing::new(2);
        let k = |r| ("enwiki".to_owned(), r, "A".to_owned());
        p.remember(k(1), Some(10));
        p.remember(k(2), Some(20));
        p.remember(k(3), None);
        assert_eq!(p.take(&k(1)), None);
        assert_eq!(p.take(&k(2)), Some(Some(20)));
        assert_eq!(p.take(&k(3)), Some(None));
    }
}
