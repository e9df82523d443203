//! What a replay server is told to do: its pacing, the faults to inject,
//! the synthetic live feed after the recordings and the per-IP limit.

use std::time::Duration;

/// How fast events go out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as the client reads.
    AsFastAsPossible,
    /// Recorded time, sped up by the factor (1.0 is real time). Gaps longer
    /// than `ReplayOptions::max_gap` are shortened to it.
    Scaled(f64),
    /// A fixed number of events per second.
    Rate(f64),
}

impl std::str::FromStr for Pace {
    type Err = String;
    fn from_str(s: &str) -> Result<Pace, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "invalid pace {s:?}: use fast, realtime, xN (N times real time, e.g. x40) or N/s (events per second)"
            )
        };
        match s {
            "fast" | "max" => Ok(Pace::AsFastAsPossible),
            "realtime" | "real-time" | "x1" => Ok(Pace::Scaled(1.0)),
            _ => {
                if let Some(f) = s.strip_prefix('x') {
                    let f: f64 = f.parse().map_err(|_| bad())?;
                    (f > 0.0).then_some(Pace::Scaled(f)).ok_or_else(bad)
                } else if let Some(r) = s.strip_suffix("/s") {
                    let r: f64 = r.parse().map_err(|_| bad())?;
                    (r > 0.0).then_some(Pace::Rate(r)).ok_or_else(bad)
                } else {
                    Err(bad())
                }
            }
        }
    }
}

/// Faults to inject, each off by default.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// End each connection after this many events.
    pub close_after_events: Option<u64>,
    /// After this many events on a connection, keep it open but send nothing.
    pub stall_after_events: Option<u64>,
    /// After this many events on a connection, send `event: error` and end it.
    pub error_after_events: Option<u64>,
    /// Insert a line of broken JSON after every N events (counted over the server).
    pub malformed_every: Option<u64>,
    /// Insert a canary event (`meta.domain: "canary"`) after every N events
    /// (counted over the server).
    pub canary_every: Option<u64>,
    /// Once per server, after this many events in all, send one event of
    /// `oversized_bytes` bytes.
    pub oversized_at: Option<u64>,
    pub oversized_bytes: usize,
    /// Answer every Nth connection with `reject_status` instead of a stream.
    pub reject_every: Option<u64>,
    pub reject_status: u16,
    /// Send `retry: MS` after the preamble (EventStreams never does).
    pub retry_ms: Option<u64>,
}

/// An endless synthetic live feed after the recordings, in real time.
#[derive(Debug, Clone, Copy)]
pub struct SynthFeed {
    /// Events per second.
    pub rate: f64,
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub pace: Pace,
    pub faults: Faults,
    pub synth: Option<SynthFeed>,
    /// Longest pause between two events under scaled pacing.
    pub max_gap: Duration,
    /// Concurrent connections allowed per client IP (the real service allows 2).
    pub per_ip_limit: Option<usize>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            pace: Pace::AsFastAsPossible,
            faults: Faults {
                oversized_bytes: 1 << 20,
                reject_status: 503,
                ..Faults::default()
            },
            synth: None,
            max_gap: Duration::from_secs(5),
            per_ip_limit: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_values_parse_and_bad_ones_say_how_to_fix_them() {
        assert_eq!("fast".parse::<Pace>(), Ok(Pace::AsFastAsPossible));
        assert_eq!("realtime".parse::<Pace>(), Ok(Pace::Scaled(1.0)));
        assert_eq!("x40".parse::<Pace>(), Ok(Pace::Scaled(40.0)));
        assert_eq!("500/s".parse::<Pace>(), Ok(Pace::Rate(500.0)));
        let err = "quick".parse::<Pace>().unwrap_err();
        assert!(err.contains("xN"), "{err}");
        assert!("x0".parse::<Pace>().is_err());
    }
}
