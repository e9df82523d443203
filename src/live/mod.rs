//! Live feeds: everything the ingest sees, pushed to clients as it arrives.
//!
//! - [`hub`]: one task fans each event out to the subscribers whose filter
//!   matches; nobody waits on a client.
//! - [`item`]: the published message, serialised once and shared by the ring
//!   and every subscriber.
//! - [`native`]: wikiwatch's own message format and its control messages.
//! - [`filter`]: query parameters / `subscribe` messages parsed into a predicate.
//! - [`ring`]: the resume buffer behind `Last-Event-ID` and `?since=`.
//! - [`stats`]: per-minute counts for `/api/live/stats` and the live page.
//! - [`options`]: the tunables (`--live-*`).
//! - [`wikimon`]: the WikiMon v2 message format for `/v2/<lang>`, with
//!   namespace names learnt per wiki and optional IP geolocation.
//!
//! The routes are in `crate::http::live`; the load generator in `crate::bench_live`.

pub mod filter;
pub mod hub;
pub mod item;
pub mod native;
pub mod options;
pub mod ring;
pub mod stats;
pub mod wikimon;

pub use hub::{Hub, LiveCounters};
pub use options::LiveOptions;
