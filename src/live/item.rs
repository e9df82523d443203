//! The published message shared by the resume ring and every subscriber's
//! queue: the event, its native JSON and SSE frame (serialised once), and
//! its WikiMon message, made on first use.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;

use super::wikimon::{self, WikimonContext};
use crate::event::{Change, Event};

/// One published message, shared by the ring and every queue it is in.
pub struct Item {
    pub seq: u64,
    pub published: Instant,
    pub event: Arc<Event>,
    /// The native JSON message (WebSocket text).
    pub json: Utf8Bytes,
    /// The same message in EventStreams SSE framing, with its `id:`.
    pub sse: Bytes,
    /// `(wiki, json)` of the WikiMon message, made on first use.
    wikimon: OnceLock<Option<(String, Utf8Bytes)>>,
}

impl Item {
    pub fn new(
        seq: u64,
        published: Instant,
        event: Arc<Event>,
        json: Utf8Bytes,
        sse: Bytes,
    ) -> Self {
        Item {
            seq,
            published,
            event,
            json,
            sse,
            wikimon: OnceLock::new(),
        }
    }

    pub fn change(&self) -> Option<&Change> {
        match &*self.event {
            Event::Recentchange(c) => Some(c),
            _ => None,
        }
    }

    /// The WikiMon message and the wiki it routes to, made once.
    pub fn wikimon(&self, ctx: &WikimonContext) -> Option<&(String, Utf8Bytes)> {
        self.wikimon
            .get_or_init(|| wikimon::message(&self.event, ctx).map(|m| (m.wiki, m.json.into())))
            .as_ref()
    }
}
