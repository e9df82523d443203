//! The commit bus: the ingest writer announces every batch it commits and the
//! stream position that batch reached; the store-backed HTTP feeds wait on it
//! to read new rows as soon as they are committed, and `/api/status` shows the
//! position.

use std::sync::Mutex;

use tokio::sync::watch;

/// Committed batches (a watch of their count) and the stream position.
#[derive(Default)]
pub struct Commits {
    batches: watch::Sender<u64>,
    position: Mutex<Option<String>>,
}

impl Commits {
    pub fn new() -> Self {
        Commits::default()
    }

    /// Sets the position the ingest resumes from, without waking anyone.
    pub fn resume_from(&self, position: Option<String>) {
        if let Ok(mut p) = self.position.lock() {
            *p = position;
        }
    }

    /// Announces a committed batch: records its position (when it carries
    /// one), then wakes every subscriber.
    pub fn committed(&self, position: Option<&str>) {
        if let Some(position) = position {
            self.resume_from(Some(position.to_owned()));
        }
        self.batches.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that wakes after each committed batch.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.batches.subscribe()
    }

    /// The newest stream position: the resume point until the first commit.
    pub fn position(&self) -> Option<String> {
        self.position.lock().ok().and_then(|p| p.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_wakes_and_keeps_the_last_known_position() {
        let c = Commits::new();
        let mut rx = c.subscribe();
        c.resume_from(Some("p0".into()));
        assert!(!rx.has_changed().unwrap());
        c.committed(None);
        assert!(rx.has_changed().unwrap());
        assert_eq!(c.position().as_deref(), Some("p0"));
        rx.mark_unchanged();
        c.committed(Some("p1"));
        assert!(rx.has_changed().unwrap());
        assert_eq!(c.position().as_deref(), Some("p1"));
    }
}
