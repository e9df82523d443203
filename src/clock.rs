//! The wall clock: time since the Unix epoch, read by telemetry, the live
//! hub, the store and the HTTP layer alike, so every timestamp the service
//! writes comes from one place.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since the Unix epoch (zero if the system clock is before it).
fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    since_epoch().as_millis() as i64
}

/// Wall-clock microseconds since the Unix epoch.
pub fn now_us() -> i64 {
    since_epoch().as_micros() as i64
}
