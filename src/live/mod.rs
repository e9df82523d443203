//! Live feeds (issue 5): everything the ingest sees, pushed to clients as it
//! arrives.
//!
//! - [`hub`]: one task fans each event out to the subscribers whose filter
//!   matches; messages are serialised once and shared; nobody waits on a client.
//! - [`filter`]: query parameters / `subscribe` messages parsed into a predicate.
//! - [`ring`]: the resume buffer behind `Last-Event-ID` and `?since=`.
//! - [`stats`]: per-minute counts for `/api/live/stats` and the live page.
//! - [`wikimon`]: the WikiMon v2 message format for `/v2/<lang>`, with
//!   namespace names learnt per wiki ([`namespaces`]) and optional IP
//!   geolocation ([`geoip`]).
//!
//! The routes are in `crate::http::live`; the load generator in `crate::bench_live`.

pub mod filter;
pub mod geoip;
pub mod hub;
pub mod namespaces;
pub mod ring;
pub mod stats;
pub mod wikimon;

use std::time::Duration;

use clap::Args;

pub use hub::{Hub, LiveCounters, LiveOptions};

/// `run`'s flags for the live feeds (flags and environment only).
#[derive(Args, Debug, Clone, Default)]
pub struct LiveArgs {
    /// Live connections (WebSocket and SSE together) allowed per client address. [default: 20]
    #[arg(long, env = "WIKIWATCH_LIVE_MAX_PER_IP", value_name = "N")]
    pub live_max_per_ip: Option<usize>,
    /// Seconds of messages kept for resuming (`Last-Event-ID`, `?since=`). [default: 300]
    #[arg(long, env = "WIKIWATCH_LIVE_WINDOW_SECS", value_name = "SECS")]
    pub live_window_secs: Option<u64>,
    /// At most this many messages kept for resuming. [default: 100000]
    #[arg(long, env = "WIKIWATCH_LIVE_WINDOW_MAX", value_name = "N")]
    pub live_window_max: Option<usize>,
    /// Messages queued per live client before it misses some. [default: 1024]
    #[arg(long, env = "WIKIWATCH_LIVE_QUEUE", value_name = "N")]
    pub live_queue: Option<usize>,
    /// Missed messages in a row after which a live client is disconnected. [default: 4096]
    #[arg(long, env = "WIKIWATCH_LIVE_LAG_LIMIT", value_name = "N")]
    pub live_lag_limit: Option<u64>,
    /// Milliseconds between heartbeats on quiet live feeds. [default: 15000]
    #[arg(long, env = "WIKIWATCH_LIVE_HEARTBEAT_MS", value_name = "MS")]
    pub live_heartbeat_ms: Option<u64>,
}

impl LiveArgs {
    pub fn options(&self) -> LiveOptions {
        let d = LiveOptions::default();
        LiveOptions {
            window: self.live_window_secs.map_or(d.window, Duration::from_secs),
            window_max: self.live_window_max.unwrap_or(d.window_max).max(1),
            queue: self.live_queue.unwrap_or(d.queue).max(1),
            lag_limit: self.live_lag_limit.unwrap_or(d.lag_limit).max(1),
            heartbeat: self
                .live_heartbeat_ms
                .map_or(d.heartbeat, |ms| Duration::from_millis(ms.max(10))),
            max_per_ip: self.live_max_per_ip.unwrap_or(d.max_per_ip),
        }
    }
}
