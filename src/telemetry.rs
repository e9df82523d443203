//! Telemetry: the named counters and gauges every stage reports into, and the
//! per-second rate window, read by `/api/status`, `/metrics` and the progress
//! display.
//!
//! Counters are atomics so the ingest path never takes a lock per event; the
//! per-second rate window takes a short lock once per batch. Committed batches
//! and the stream position are announced on [`crate::commits::Commits`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use serde::Serialize;

use crate::clock::now_ms;
use crate::event::Stream;

const STREAMS: usize = Stream::ALL.len();
const WINDOW_SECS: usize = 60;

fn slot(stream: Stream) -> usize {
    match stream {
        Stream::Recentchange => 0,
        Stream::PageLinksChange => 1,
        Stream::PageDelete => 2,
        Stream::PageUndelete => 3,
        Stream::Other => 4,
    }
}

/// Counters named after what happened, in the spirit of vector's internal events.
#[derive(Default)]
pub struct Telemetry {
    events: [AtomicU64; STREAMS],
    last_event_ms: [AtomicI64; STREAMS],
    /// Events whose data was not valid JSON for an event.
    pub malformed: AtomicU64,
    /// Events larger than the size cap, skipped without being buffered.
    pub oversized: AtomicU64,
    /// Canary (heartbeat) events dropped.
    pub canaries: AtomicU64,
    /// Events dropped because their `meta.id` was seen already.
    pub duplicates: AtomicU64,
    /// Hashtag candidates rejected for length.
    pub hashtags_too_long: AtomicU64,
    /// Connections opened to the upstream after the first.
    pub reconnects: AtomicU64,
    pub upstream_connected: AtomicBool,
    /// True while this process holds the ingest lease.
    pub ingesting: AtomicBool,
    pub batches_written: AtomicU64,
    /// Events covered by committed batches (skipped events included).
    pub events_committed: AtomicU64,
    pub store_errors: AtomicU64,
    /// HTTP handlers that panicked (each answered 500).
    pub handler_panics: AtomicU64,
    /// Heavy HTTP requests refused with 503 for want of read budget.
    pub requests_shed: AtomicU64,
    /// Time spent in successful store writes, in microseconds.
    pub store_write_micros: AtomicU64,
    /// Rows inserted by the store since start, by kind.
    pub hashtag_edits_stored: AtomicU64,
    pub hashtag_uses_stored: AtomicU64,
    pub link_events_stored: AtomicU64,
    pub started_ms: AtomicI64,
    last_error: Mutex<Option<String>>,
    window: Mutex<RateWindow>,
}

/// Per-second event counts per stream for the last minute.
struct RateWindow {
    seconds: [i64; WINDOW_SECS],
    counts: [[u64; STREAMS]; WINDOW_SECS],
}

impl Default for RateWindow {
    fn default() -> Self {
        RateWindow {
            seconds: [i64::MIN / 2; WINDOW_SECS],
            counts: [[0; STREAMS]; WINDOW_SECS],
        }
    }
}

impl RateWindow {
    fn add(&mut self, now_sec: i64, stream: usize, n: u64) {
        let i = now_sec.rem_euclid(WINDOW_SECS as i64) as usize;
        if self.seconds[i] != now_sec {
            self.seconds[i] = now_sec;
            self.counts[i] = [0; STREAMS];
        }
        self.counts[i][stream] += n;
    }

    /// Mean events per second over the last full minute (excluding the current second).
    fn rates(&self, now_sec: i64) -> [f64; STREAMS] {
        let mut sums = [0u64; STREAMS];
        for (sec, counts) in self.seconds.iter().zip(self.counts.iter()) {
            if *sec < now_sec && now_sec - *sec < WINDOW_SECS as i64 {
                for (s, c) in sums.iter_mut().zip(counts) {
                    *s += c;
                }
            }
        }
        sums.map(|s| s as f64 / (WINDOW_SECS - 1) as f64)
    }
}

/// Status of one stream, as shown in `/api/status`.
#[derive(Debug, Clone, Serialize)]
pub struct StreamStatus {
    pub stream: &'static str,
    pub events: u64,
    pub last_event_time: Option<String>,
    pub lag_seconds: Option<f64>,
    pub events_per_second: f64,
}

impl Telemetry {
    pub fn new() -> Self {
        let t = Telemetry::default();
        t.started_ms.store(now_ms(), Ordering::Relaxed);
        t
    }

    /// Records `n` events of one stream whose newest `meta.dt` is `newest_dt_ms`.
    pub fn record_events(&self, stream: Stream, n: u64, newest_dt_ms: i64) {
        let i = slot(stream);
        self.events[i].fetch_add(n, Ordering::Relaxed);
        self.last_event_ms[i].fetch_max(newest_dt_ms, Ordering::Relaxed);
        if let Ok(mut w) = self.window.lock() {
            w.add(now_ms().div_euclid(1000), i, n);
        }
    }

    pub fn events(&self, stream: Stream) -> u64 {
        self.events[slot(stream)].load(Ordering::Relaxed)
    }

    pub fn total_events(&self) -> u64 {
        self.events.iter().map(|e| e.load(Ordering::Relaxed)).sum()
    }

    /// Newest `meta.dt` seen on any stream, in epoch ms.
    pub fn newest_event_ms(&self) -> Option<i64> {
        self.last_event_ms
            .iter()
            .map(|e| e.load(Ordering::Relaxed))
            .filter(|&ms| ms > 0)
            .max()
    }

    /// Seconds between now and the newest event seen.
    pub fn lag_seconds(&self) -> Option<f64> {
        self.newest_event_ms()
            .map(|ms| ((now_ms() - ms) as f64 / 1000.0).max(0.0))
    }

    pub fn set_last_error(&self, error: Option<String>) {
        if let Ok(mut e) = self.last_error.lock() {
            *e = error;
        }
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    pub fn streams(&self) -> Vec<StreamStatus> {
        let now = now_ms();
        let rates = self
            .window
            .lock()
            .map(|w| w.rates(now.div_euclid(1000)))
            .unwrap_or([0.0; STREAMS]);
        Stream::ALL
            .iter()
            .filter(|s| **s != Stream::Other)
            .map(|&s| {
                let i = slot(s);
                let last = self.last_event_ms[i].load(Ordering::Relaxed);
                StreamStatus {
                    stream: s.alias(),
                    events: self.events[i].load(Ordering::Relaxed),
                    last_event_time: (last > 0).then(|| crate::event::format_ms(last)),
                    lag_seconds: (last > 0).then(|| ((now - last) as f64 / 1000.0).max(0.0)),
                    events_per_second: rates[i],
                }
            })
            .collect()
    }

    /// Overall events per second over the last minute.
    pub fn events_per_second(&self) -> f64 {
        self.window
            .lock()
            .map(|w| w.rates(now_ms().div_euclid(1000)).iter().sum())
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_averages_only_completed_seconds() {
        let mut w = RateWindow::default();
        w.add(100, 0, 59);
        w.add(101, 0, 1000);
        let r = w.rates(101);
        assert!((r[0] - 1.0).abs() < 1e-9, "{r:?}");
        // A second that fell out of the window no longer counts.
        let r = w.rates(100 + WINDOW_SECS as i64);
        assert!((r[0] - 1000.0 / 59.0).abs() < 1e-9, "{r:?}");
    }
}
