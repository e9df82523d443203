//! Concurrent connections per client address: a count per IP with a limit,
//! and a guard that gives the place back when its connection ends. The live
//! feeds and the replay server cap their long-lived connections this way.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// At most `limit` concurrent connections per address.
pub struct AddressCap {
    limit: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// Holds one connection's place in its address's count until dropped.
pub struct IpGuard {
    cap: Arc<AddressCap>,
    ip: IpAddr,
}

impl AddressCap {
    pub fn new(limit: usize) -> Arc<AddressCap> {
        Arc::new(AddressCap {
            limit,
            counts: Mutex::new(HashMap::new()),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes a place for `ip`; when it already holds `limit`, returns that
    /// count instead.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<IpGuard, usize> {
        let mut counts = self.counts();
        let n = counts.entry(ip).or_default();
        if *n >= self.limit {
            return Err(*n);
        }
        *n += 1;
        Ok(IpGuard {
            cap: Arc::clone(self),
            ip,
        })
    }

    // A panic elsewhere while the lock was held leaves the counts valid
    // (every change is one statement), so a poisoned lock is still used.
    fn counts(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for IpGuard {
    fn drop(&mut self) {
        let mut counts = self.cap.counts();
        if let Some(n) = counts.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_given_back_when_its_guard_drops() {
        let cap = AddressCap::new(2);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let a = cap.admit(ip).unwrap();
        let _b = cap.admit(ip).unwrap();
        assert_eq!(cap.admit(ip).err(), Some(2));
        assert!(cap.admit(other).is_ok(), "each address has its own count");
        drop(a);
        assert!(cap.admit(ip).is_ok());
    }
}
