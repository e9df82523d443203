//! The fan-out hub between the ingest and every live subscriber.
//!
//! One task receives the normalised events the ingest broadcasts and, for
//! each recentchange event: assigns a sequence id, serialises the native
//! message once (the WebSocket text and the SSE frame, shared as `Bytes` by
//! every subscriber), appends it to the resume [`Ring`], counts it in the
//! [`Stats`], and offers it to each subscriber whose filter matches. The
//! WikiMon message is made lazily, once per event, the first time a `/v2`
//! subscriber needs it.
//!
//! Nobody waits on a client: the broadcast from the ingest never blocks (a
//! hub that falls behind loses events and counts them), and each subscriber
//! has a bounded queue filled with `try_send`. A full queue counts a missed
//! message for that subscriber (the connection reports it as `lagged`); one
//! that misses `lag_limit` messages in a row is disconnected.
//!
//! Sequence ids start at the hub's start time in microseconds, so ids from
//! an earlier run are always older than the window and are reported as a gap.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

pub use crate::address_cap::IpGuard;

use super::LiveOptions;
use super::filter::Filter;
use super::item::Item;
use super::native::native_json;
use super::ring::{Resume, Ring};
use super::stats::{Snapshot, Stats};
use super::wikimon::WikimonContext;
use crate::address_cap::AddressCap;
use crate::clock::{now_ms, now_us};
use crate::event::{Event, format_ms};

/// What a subscriber wants.
pub enum Want {
    /// Native messages passing a filter (replaceable by a `subscribe` message).
    Native(RwLock<Arc<Filter>>),
    /// WikiMon messages of one wiki (database name).
    Wikimon(String),
}

pub struct Subscriber {
    pub want: Want,
    tx: mpsc::Sender<Arc<Item>>,
    /// Messages dropped since the connection last reported them.
    missed: AtomicU64,
    /// Cancelled when the hub disconnects the subscriber or the connection ends.
    pub kicked: CancellationToken,
    /// Mirrors `kicked` as a plain flag: publishing checks it for every
    /// subscriber and every event, and a token's check takes a lock.
    gone: AtomicBool,
}

impl Subscriber {
    /// Ends the subscription: the hub stops queueing to it and its connection
    /// task wakes to close.
    pub fn kick(&self) {
        self.gone.store(true, Ordering::Relaxed);
        self.kicked.cancel();
    }

    pub fn is_gone(&self) -> bool {
        self.gone.load(Ordering::Relaxed)
    }

    /// Takes the count of missed messages to report.
    pub fn take_missed(&self) -> u64 {
        self.missed.swap(0, Ordering::Relaxed)
    }

    /// Replaces a native subscriber's filter.
    pub fn set_filter(&self, filter: Filter) {
        if let Want::Native(f) = &self.want
            && let Ok(mut g) = f.write()
        {
            *g = Arc::new(filter);
        }
    }
}

/// A resume request that reached back past the window.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub since: u64,
    /// The oldest id still held, if any.
    pub oldest: Option<u64>,
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    pub sub: Arc<Subscriber>,
    pub rx: mpsc::Receiver<Arc<Item>>,
    /// Messages from the resume buffer, to send before the queue.
    pub replay: Vec<Arc<Item>>,
    pub gap: Option<Gap>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.sub.kick();
    }
}

struct Shared {
    ring: Ring,
    subs: Vec<Arc<Subscriber>>,
    /// The id the next message will get.
    next_seq: u64,
}

/// Counters shown in `/api/live/stats` and `/metrics`.
#[derive(Default)]
struct Counters {
    published: AtomicU64,
    dropped: AtomicU64,
    disconnected: AtomicU64,
    hub_lagged: AtomicU64,
    refused_per_ip: AtomicU64,
}

/// A snapshot of the hub's counters, for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveCounters {
    pub subscribers: usize,
    pub published: u64,
    pub dropped_messages: u64,
    pub disconnected_slow_subscribers: u64,
    pub hub_missed_events: u64,
    pub refused_per_ip: u64,
    pub resume_window_messages: usize,
}

pub struct Hub {
    pub options: LiveOptions,
    pub wikimon: Arc<WikimonContext>,
    shared: Mutex<Shared>,
    stats: Mutex<Stats>,
    ips: Arc<AddressCap>,
    newest_dt_ms: AtomicI64,
    counters: Counters,
}

/// Why a connection was refused.
#[derive(Debug, thiserror::Error)]
#[error("too many live connections from {ip} (at most {limit}); close one first")]
pub struct TooMany {
    pub ip: IpAddr,
    pub limit: usize,
}

impl Hub {
    pub fn new(options: LiveOptions, wikimon: Arc<WikimonContext>) -> Arc<Hub> {
        let ring = Ring::new(options.window, options.window_max);
        let first = u64::try_from(now_us()).unwrap_or(1).max(1);
        Arc::new(Hub {
            ips: AddressCap::new(options.max_per_ip),
            options,
            wikimon,
            shared: Mutex::new(Shared {
                ring,
                subs: Vec::new(),
                next_seq: first,
            }),
            stats: Mutex::new(Stats::new(now_ms())),
            newest_dt_ms: AtomicI64::new(0),
            counters: Counters::default(),
        })
    }

    /// A hub fed by the ingest's broadcast until `shutdown`.
    pub fn start(
        options: LiveOptions,
        wikimon: Arc<WikimonContext>,
        mut events: broadcast::Receiver<Arc<Event>>,
        shutdown: CancellationToken,
    ) -> Arc<Hub> {
        let hub = Hub::new(options, wikimon);
        let h = Arc::clone(&hub);
        tokio::spawn(async move {
            loop {
                let received = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    r = events.recv() => r,
                };
                match received {
                    Ok(event) => h.publish(event),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        h.counters.hub_lagged.fetch_add(n, Ordering::Relaxed);
                        tracing::warn!(missed = n, "the live hub fell behind the ingest");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
            // Ends every subscription so connections close.
            if let Ok(shared) = h.shared.lock() {
                for s in &shared.subs {
                    s.kick();
                }
            }
        });
        hub
    }

    /// Publishes one event (anything but recentchange is ignored).
    pub fn publish(&self, event: Arc<Event>) {
        let Event::Recentchange(c) = &*event else {
            return;
        };
        if c.envelope.is_canary() {
            return;
        }
        let published = Instant::now();
        let published_us = now_us();
        self.newest_dt_ms
            .fetch_max(c.envelope.dt_ms, Ordering::Relaxed);
        if let Ok(mut s) = self.stats.lock() {
            s.record(c, published_us / 1000);
        }
        let Ok(mut shared) = self.shared.lock() else {
            return;
        };
        let seq = shared.next_seq;
        shared.next_seq += 1;
        let json = native_json(seq, published_us, c);
        let mut sse = Vec::with_capacity(json.len() + 40);
        crate::sse::write_event(&mut sse, "message", Some(&seq.to_string()), json.as_bytes());
        let item = Arc::new(Item::new(
            seq,
            published,
            Arc::clone(&event),
            json.into(),
            Bytes::from(sse),
        ));
        shared.ring.push(Arc::clone(&item));
        self.counters.published.fetch_add(1, Ordering::Relaxed);
        let mut any_gone = false;
        for sub in &shared.subs {
            if sub.is_gone() {
                any_gone = true;
                continue;
            }
            let wanted = match &sub.want {
                Want::Native(f) => f.read().map(|f| f.matches(c)).unwrap_or(false),
                Want::Wikimon(wiki) => item.wikimon(&self.wikimon).is_some_and(|(w, _)| w == wiki),
            };
            if !wanted {
                continue;
            }
            match sub.tx.try_send(Arc::clone(&item)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    let missed = sub.missed.fetch_add(1, Ordering::Relaxed) + 1;
                    if missed >= self.options.lag_limit {
                        self.counters.disconnected.fetch_add(1, Ordering::Relaxed);
                        sub.kick();
                        any_gone = true;
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    sub.kick();
                    any_gone = true;
                }
            }
        }
        if any_gone {
            shared.subs.retain(|s| !s.is_gone());
        }
    }

    /// Counts a connection from `ip` against the cap.
    pub fn admit(&self, ip: IpAddr) -> Result<IpGuard, TooMany> {
        self.ips.admit(ip).map_err(|_| {
            self.counters.refused_per_ip.fetch_add(1, Ordering::Relaxed);
            TooMany {
                ip,
                limit: self.ips.limit(),
            }
        })
    }

    /// Registers a subscriber; with `since`, also collects what it missed
    /// from the resume buffer (under the same lock as publishing, so nothing
    /// is lost or repeated between the replay and the queue).
    pub fn subscribe(&self, want: Want, since: Option<u64>) -> Subscription {
        let (tx, rx) = mpsc::channel(self.options.queue.max(1));
        let sub = Arc::new(Subscriber {
            want,
            tx,
            missed: AtomicU64::new(0),
            kicked: CancellationToken::new(),
            gone: AtomicBool::new(false),
        });
        let mut replay = Vec::new();
        let mut gap = None;
        if let Ok(mut shared) = self.shared.lock() {
            if let Some(since) = since {
                let keep = |i: &Item| match (&sub.want, i.change()) {
                    (Want::Native(f), Some(c)) => f.read().map(|f| f.matches(c)).unwrap_or(false),
                    (Want::Wikimon(w), _) => i.wikimon(&self.wikimon).is_some_and(|(x, _)| x == w),
                    _ => false,
                };
                match shared.ring.after(since, shared.next_seq, keep) {
                    Resume::Items(items) => replay = items,
                    Resume::Gap { oldest, items } => {
                        replay = items;
                        gap = Some(Gap { since, oldest });
                    }
                }
            }
            shared.subs.push(Arc::clone(&sub));
        }
        Subscription {
            sub,
            rx,
            replay,
            gap,
        }
    }

    /// The id of the newest message, if any.
    pub fn last_id(&self) -> Option<u64> {
        self.shared.lock().ok().and_then(|s| s.ring.newest())
    }

    /// Time of the newest upstream event (ms) and the lag behind it (s).
    pub fn newest(&self) -> (Option<i64>, Option<f64>) {
        let dt = self.newest_dt_ms.load(Ordering::Relaxed);
        if dt <= 0 {
            return (None, None);
        }
        (Some(dt), Some(((now_ms() - dt) as f64 / 1000.0).max(0.0)))
    }

    /// The heartbeat every feed sends when quiet.
    pub fn heartbeat_json(&self) -> serde_json::Value {
        let (dt, lag) = self.newest();
        serde_json::json!({
            "time": format_ms(now_ms()),
            "newest_event_time": dt.map(format_ms),
            "lag_seconds": lag,
            "last_id": self.last_id(),
        })
    }

    pub fn subscribers(&self) -> usize {
        self.shared
            .lock()
            .map(|s| s.subs.iter().filter(|s| !s.is_gone()).count())
            .unwrap_or(0)
    }

    pub fn counters(&self) -> LiveCounters {
        let c = &self.counters;
        LiveCounters {
            subscribers: self.subscribers(),
            published: c.published.load(Ordering::Relaxed),
            dropped_messages: c.dropped.load(Ordering::Relaxed),
            disconnected_slow_subscribers: c.disconnected.load(Ordering::Relaxed),
            hub_missed_events: c.hub_lagged.load(Ordering::Relaxed),
            refused_per_ip: c.refused_per_ip.load(Ordering::Relaxed),
            resume_window_messages: self.shared.lock().map(|s| s.ring.len()).unwrap_or(0),
        }
    }

    /// `/api/live/stats`.
    pub fn stats(&self, limit: usize) -> serde_json::Value {
        let snapshot: Option<Snapshot> =
            self.stats.lock().ok().map(|s| s.snapshot(now_ms(), limit));
        let (oldest, newest, held) = self
            .shared
            .lock()
            .map(|s| (s.ring.oldest(), s.ring.newest(), s.ring.len()))
            .unwrap_or_default();
        let (dt, lag) = self.newest();
        let c = &self.counters;
        let mut v = serde_json::to_value(snapshot).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "feed".into(),
                serde_json::json!({
                    "subscribers": self.subscribers(),
                    "published": c.published.load(Ordering::Relaxed),
                    "dropped_messages": c.dropped.load(Ordering::Relaxed),
                    "disconnected_slow_subscribers": c.disconnected.load(Ordering::Relaxed),
                    "hub_missed_events": c.hub_lagged.load(Ordering::Relaxed),
                    "newest_event_time": dt.map(format_ms),
                    "lag_seconds": lag,
                    "resume_window": {"oldest_id": oldest, "newest_id": newest, "messages": held,
                                       "seconds": self.options.window.as_secs()},
                }),
            );
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(i: u64, wiki: &str, host: &str) -> Arc<Event> {
        let json = serde_json::json!({
            "$schema": "/mediawiki/recentchange/1.0.0",
            "meta": {"id": format!("id-{i}"), "dt": "2024-01-01T00:00:00Z", "domain": host, "stream": "mediawiki.recentchange"},
            "type": "edit", "namespace": 0, "title": format!("Page {i}"), "user": "Someone",
            "bot": false, "minor": false, "wiki": wiki, "server_name": host,
            "server_url": format!("https://{host}"), "server_script_path": "/w",
            "length": {"old": 10, "new": 20}, "revision": {"old": i, "new": i + 1},
            "comment": "x"
        })
        .to_string();
        Arc::new(crate::event::parse(json.as_bytes(), &crate::extract::Rules::default()).unwrap())
    }

    fn hub(queue: usize, lag_limit: u64) -> Arc<Hub> {
        Hub::new(
            LiveOptions {
                queue,
                lag_limit,
                ..LiveOptions::default()
            },
            Arc::new(WikimonContext::builtin()),
        )
    }

    #[test]
    fn filters_route_and_resume_replays_exactly_what_followed() {
        let h = hub(100, 1000);
        let de = Filter::parse([("wiki", "dewiki")], &[]).unwrap();
        let mut sub = h.subscribe(Want::Native(RwLock::new(Arc::new(de))), None);
        h.publish(change(1, "enwiki", "en.wikipedia.org"));
        h.publish(change(2, "dewiki", "de.wikipedia.org"));
        let got = sub.rx.try_recv().unwrap();
        assert_eq!(got.change().unwrap().wiki, "dewiki");
        assert!(sub.rx.try_recv().is_err());
        let first = got.seq - 1;
        let all = h.subscribe(Want::Native(RwLock::new(Arc::default())), Some(first));
        assert!(all.gap.is_none());
        assert_eq!(all.replay.len(), 1);
        let old = h.subscribe(Want::Native(RwLock::new(Arc::default())), Some(1));
        assert!(old.gap.is_some());
        assert_eq!(old.replay.len(), 2);
    }

    #[test]
    fn a_full_queue_counts_missed_messages_then_disconnects() {
        let h = hub(2, 3);
        let sub = h.subscribe(Want::Native(RwLock::new(Arc::default())), None);
        for i in 0..4 {
            h.publish(change(i, "enwiki", "en.wikipedia.org"));
        }
        assert_eq!(sub.sub.missed.load(Ordering::Relaxed), 2);
        assert!(!sub.sub.kicked.is_cancelled());
        h.publish(change(9, "enwiki", "en.wikipedia.org"));
        assert!(sub.sub.kicked.is_cancelled());
        assert_eq!(h.subscribers(), 0);
    }

    #[test]
    fn the_per_address_cap_is_released_on_drop() {
        let h = Hub::new(
            LiveOptions {
                max_per_ip: 1,
                ..LiveOptions::default()
            },
            Arc::new(WikimonContext::builtin()),
        );
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let g = h.admit(ip).unwrap();
        assert!(h.admit(ip).is_err());
        drop(g);
        assert!(h.admit(ip).is_ok());
    }
}
