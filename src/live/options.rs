//! The live feeds' tunables (`run`'s `--live-*` flags).

use std::time::Duration;

/// Tunables, from `run`'s `--live-*` flags.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// How far back the resume buffer reaches.
    pub window: Duration,
    /// At most this many messages in the resume buffer.
    pub window_max: usize,
    /// Messages queued per subscriber before it starts missing some.
    pub queue: usize,
    /// Missed messages in a row after which a subscriber is disconnected.
    pub lag_limit: u64,
    /// Interval of heartbeat messages.
    pub heartbeat: Duration,
    /// Live connections (all feeds together) per client address.
    pub max_per_ip: usize,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            window: Duration::from_secs(300),
            window_max: 100_000,
            queue: 1024,
            lag_limit: 4096,
            heartbeat: Duration::from_secs(15),
            max_per_ip: 20,
        }
    }
}
