//! The resume buffer: the last few minutes of published messages, bounded by
//! age and by count, so a reconnecting client (`Last-Event-ID` on SSE,
//! `?since=ID` on the WebSocket) loses nothing inside the window.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::item::Item;

pub struct Ring {
    items: VecDeque<Arc<Item>>,
    max_age: Duration,
    max_len: usize,
}

/// What a resume request finds.
pub enum Resume {
    /// Every message after the id, oldest first (possibly none).
    Items(Vec<Arc<Item>>),
    /// The id is older than the window: messages between it and `oldest` are gone.
    Gap {
        oldest: Option<u64>,
        items: Vec<Arc<Item>>,
    },
}

impl Ring {
    pub fn new(max_age: Duration, max_len: usize) -> Self {
        Ring {
            items: VecDeque::new(),
            max_age,
            max_len: max_len.max(1),
        }
    }

    /// Appends a message and drops what fell out of the window.
    pub fn push(&mut self, item: Arc<Item>) {
        let now = item.published;
        self.items.push_back(item);
        while self.items.len() > self.max_len {
            self.items.pop_front();
        }
        while let Some(front) = self.items.front() {
            if now.saturating_duration_since(front.published) > self.max_age {
                self.items.pop_front();
            } else {
                break;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn oldest(&self) -> Option<u64> {
        self.items.front().map(|i| i.seq)
    }

    pub fn newest(&self) -> Option<u64> {
        self.items.back().map(|i| i.seq)
    }

    /// The messages after `since` that pass `keep`. Sequence numbers are
    /// consecutive, so `since + 1 < oldest` means some were dropped; with an
    /// empty ring, `next_seq` (the id the next message will get) stands in for
    /// the oldest, so an id from before a restart is reported as a gap too.
    pub fn after(&self, since: u64, next_seq: u64, keep: impl Fn(&Item) -> bool) -> Resume {
        let start = self.items.partition_point(|i| i.seq <= since);
        let items: Vec<Arc<Item>> = self
            .items
            .range(start..)
            .filter(|i| keep(i))
            .cloned()
            .collect();
        let oldest = self.oldest().unwrap_or(next_seq);
        if since.saturating_add(1) < oldest {
            Resume::Gap {
                oldest: self.oldest(),
                items,
            }
        } else {
            Resume::Items(items)
        }
    }
}
