//! `wikiwatch bench links`: external-link query latency and live feed latency
//! over a large synthetic link log.
//!
//! Loads N synthetic link events (deterministic: one large publisher domain,
//! `jstor.org`, holding 5% of the events — 1 million at 20 million — a Zipf
//! tail of 200,000 domains, 200,000 editors with a heavy head, 24 wikis, one
//! year ending now, a fifth of the events removing a link added before) into
//! the store named by `--db` (a temporary SQLite file by default, or
//! `postgres://…`) through [`crate::store::Store::write_batch`], the same write
//! path as ingest. It then serves the real HTTP application on loopback and
//! times what patrollers and the Wikipedia Library ask (p50/p95 over repeated
//! requests), and the live feed: from the moment a batch is handed to the
//! store to the moment a `/v2/stream/links` subscriber has its message (p50/p99).

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;

use super::common::{BenchApp, Latency, Rng, WIKIS, percentile, table_rows, time_endpoints};
use crate::event::Performer;
use crate::extract::{self, LinkRules};
use crate::store::{self, Batch, LinkAction, LinkChangeRow, Op, Provenance, Store};
use crate::telemetry::Telemetry;

use super::error::BenchError;

#[derive(Args, Debug, Clone)]
pub struct LinkBenchArgs {
    /// Link events to load.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Database: a SQLite file path or `sqlite:PATH` (kept afterwards) or
    /// `postgres://…`; a temporary SQLite file by default. A store that
    /// already holds link events is reused without loading.
    #[arg(long)]
    pub db: Option<String>,
    /// Requests per endpoint (after one warm-up), at most.
    #[arg(long, default_value_t = 30)]
    pub requests: usize,
    /// Stop timing an endpoint after this many seconds (at least 3 requests).
    #[arg(long, default_value_t = 30.0)]
    pub budget_secs: f64,
    /// Live feed messages to time.
    #[arg(long, default_value_t = 200)]
    pub feed_messages: usize,
    /// Print the result as one JSON object too.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct LinkBenchResult {
    pub backend: &'static str,
    pub events: i64,
    pub load_seconds: f64,
    pub load_events_per_sec: f64,
    pub large_domain: String,
    pub large_domain_events: i64,
    pub small_domain: String,
    pub small_domain_events: i64,
    pub latencies: Vec<Latency>,
    /// Batch handed to the store → SSE message read by a subscriber.
    pub feed_messages: usize,
    pub feed_p50_ms: f64,
    pub feed_p99_ms: f64,
    /// Commit returned → SSE message read by a subscriber (what the feed adds).
    pub feed_after_commit_p50_ms: f64,
    pub feed_after_commit_p99_ms: f64,
}

/// The large domain and the small one the report is timed for.
const LARGE: &str = "jstor.org";
const SMALL: &str = "smallpress-77.example";
/// The feed test's own domain (no loaded event has it).
const FEED_DOMAIN: &str = "feed-bench.example";

/// A link added earlier that a later event may remove.
#[derive(Clone)]
struct Placed {
    wiki: usize,
    page_id: i64,
    raw: String,
}

struct Generator {
    rng: Rng,
    rules: LinkRules,
    recent: Vec<Placed>,
    start_ms: i64,
    span_ms: i64,
    total: u64,
}

impl Generator {
    fn new(total: u64) -> Self {
        let span_ms = 365 * 86_400_000_i64;
        Generator {
            rng: Rng(0x51f1_5eed_1234_5678),
            rules: LinkRules::default(),
            recent: Vec::with_capacity(4096),
            start_ms: crate::clock::now_ms() - span_ms,
            span_ms,
            total: total.max(1),
        }
    }

    fn url(&mut self) -> String {
        let r = &mut self.rng;
        match r.below(1000) {
            // The large publisher: 5%, a tenth of it through the library proxy.
            0..=44 => format!("https://www.jstor.org/stable/{}", r.below(3_000_000)),
            45..=49 => format!(
                "https://www-jstor-org.wikipedialibrary.idm.oclc.org/stable/{}",
                r.below(3_000_000)
            ),
            // A small press: about 1 in 20,000.
            50 if r.below(50) == 0 => format!("https://www.{SMALL}/book/{}", r.below(500)),
            // Web archive wrappers of the tail.
            51..=70 => format!(
                "https://web.archive.org/web/2020/https://site{}.example.com/p/{}",
                r.zipf(200_000),
                r.below(100_000)
            ),
            _ => {
                let d = r.zipf(200_000);
                let sub = ["www.", "", "en.", "news."][r.below(4) as usize];
                format!("https://{sub}site{d}.example.com/p/{}", r.below(1_000_000))
            }
        }
    }

    /// Event `i`: one link added or removed.
    fn event(&mut self, i: u64) -> Op {
        let remove = self.rng.chance(20) && !self.recent.is_empty();
        let placed = if remove {
            let k = self.rng.below(self.recent.len() as u64) as usize;
            self.recent.swap_remove(k)
        } else {
            let wiki = (self.rng.below(WIKIS.len() as u64 * 2) as usize).min(WIKIS.len() - 1);
            let raw = self.url();
            let p = Placed {
                wiki,
                page_id: self.rng.zipf(2_000_000) as i64 + 1,
                raw,
            };
            if self.recent.len() < 4096 {
                self.recent.push(p.clone());
            } else {
                let k = self.rng.below(4096) as usize;
                self.recent[k] = p.clone();
            }
            p
        };
        let (wiki, domain) = WIKIS[placed.wiki];
        let r = &mut self.rng;
        let provenance = match r.below(100) {
            0..=84 => Provenance::Edit,
            85..=96 => Provenance::Propagated,
            _ => Provenance::System,
        };
        let time_ms = self.start_ms + (self.span_ms as f64 * (i as f64 / self.total as f64)) as i64;
        let performer = (provenance != Provenance::System).then(|| {
            let kind = r.below(100);
            let name = if kind < 10 {
                format!("203.0.{}.{}", r.below(256), r.below(256))
            } else if kind < 15 {
                format!("~2026-{}-{}", r.below(100_000), r.below(100))
            } else {
                format!("Editor{}", r.zipf(200_000))
            };
            let named = kind >= 15;
            Performer {
                bot: named && r.chance(5),
                id: named.then(|| r.below(50_000_000) as i64),
                groups: Vec::new(),
                registration_ms: named.then(|| time_ms - r.below(3_000) as i64 * 86_400_000),
                edit_count: named.then(|| r.zipf(500_000) as i64),
                name,
            }
        });
        let link = extract::analyze_link(&placed.raw, &self.rules);
        let rhost = link.host.as_deref().map(extract::reversed_host);
        let target = match &link.wrapper {
            Some(_) => extract::unwrap_url(&link.url, &self.rules)
                .map(|u| u.target)
                .unwrap_or_else(|| link.url.clone()),
            None => link.url.clone(),
        };
        Op::Link(Box::new(LinkChangeRow {
            meta_id: format!("bench-link-{i}"),
            action: if remove {
                LinkAction::Removed
            } else {
                LinkAction::Added
            },
            wiki: wiki.to_owned(),
            wiki_domain: domain.to_owned(),
            page_id: placed.page_id,
            page_title: format!("Article {}", placed.page_id),
            page_namespace: 0,
            rev_id: Some(2_000_000_000 + i as i64),
            editor_kind: performer.as_ref().map(|p| extract::editor_kind(&p.name)),
            performer,
            time_ms,
            link,
            rhost,
            rc_id: (provenance == Provenance::Edit).then_some(5_000_000_000 + i as i64),
            provenance,
            target,
        }))
    }
}

fn io(e: impl std::fmt::Display) -> BenchError {
    BenchError::Ingest(e.to_string())
}

/// One link event on the feed's own domain, for the latency probe.
fn probe(i: u64) -> Batch {
    let raw = format!("https://{FEED_DOMAIN}/probe/{i}");
    let rules = LinkRules::default();
    let link = extract::analyze_link(&raw, &rules);
    Batch {
        position: None,
        events: 1,
        ops: vec![Op::Link(Box::new(LinkChangeRow {
            meta_id: format!("bench-probe-{i}-{}", crate::clock::now_ms()),
            action: LinkAction::Added,
            wiki: "enwiki".into(),
            wiki_domain: "en.wikipedia.org".into(),
            page_id: 1,
            page_title: "Probe".into(),
            page_namespace: 0,
            rev_id: None,
            performer: None,
            time_ms: crate::clock::now_ms(),
            rhost: link.host.as_deref().map(extract::reversed_host),
            target: link.url.clone(),
            link,
            rc_id: None,
            provenance: Provenance::System,
            editor_kind: None,
        }))],
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<serde_json::Value, BenchError> {
    client
        .get(url)
        .send()
        .await
        .map_err(io)?
        .json()
        .await
        .map_err(io)
}

pub async fn run(args: LinkBenchArgs) -> Result<LinkBenchResult, BenchError> {
    let dir = tempfile::tempdir()?;
    let url = match &args.db {
        Some(d) if d.contains("://") || d.starts_with("sqlite:") => d.clone(),
        Some(d) => format!("sqlite:{d}"),
        None => format!("sqlite:{}", dir.path().join("links-bench.db").display()),
    };
    let store: Arc<dyn Store> = store::open(&url).await?;
    let existing = table_rows(store.as_ref(), "link_events").await?;

    // 1. Load, through the store's own batch writes.
    let t = Instant::now();
    if existing > 0 {
        eprintln!("reusing a store with {existing} link events");
    } else {
        let mut g = Generator::new(args.events);
        let mut i = 0u64;
        while i < args.events {
            let n = 20_000.min(args.events - i);
            let ops: Vec<Op> = (i..i + n).map(|k| g.event(k)).collect();
            i += n;
            store
                .write_batch(Arc::new(Batch {
                    position: None,
                    events: n,
                    ops,
                }))
                .await?;
            if i.is_multiple_of(1_000_000) {
                eprintln!(
                    "  loaded {i} link events ({:.0}/s)",
                    i as f64 / t.elapsed().as_secs_f64()
                );
            }
        }
    }
    let load_seconds = t.elapsed().as_secs_f64();
    let events = table_rows(store.as_ref(), "link_events").await?;
    eprintln!("{events} link events; load {load_seconds:.1} s");

    // 2. Serve the application on loopback.
    let telemetry = Arc::new(Telemetry::new());
    let app = BenchApp::start(&store, Arc::clone(&telemetry)).await?;
    let (client, base) = (&app.client, app.base.as_str());

    let count = |v: &serde_json::Value| {
        v["added"].as_i64().unwrap_or(0) + v["removed"].as_i64().unwrap_or(0)
    };
    let all = "provenance=all";
    let large = get_json(client, &format!("{base}/api/links/domains/{LARGE}?{all}")).await?;
    let small = get_json(client, &format!("{base}/api/links/domains/{SMALL}?{all}")).await?;
    let top_user = get_json(client, &format!("{base}/api/links/top?by=user&window=all"))
        .await
        .ok()
        .and_then(|v| {
            v.pointer("/rows/0/key")
                .and_then(|k| k.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "Editor0".into());

    let endpoints: Vec<(&str, String)> = vec![
        ("large domain report", format!("/api/links/domains/{LARGE}")),
        (
            "large domain report, all provenances",
            format!("/api/links/domains/{LARGE}?{all}"),
        ),
        (
            "large domain report page (HTML)",
            format!("/links/domain/{LARGE}"),
        ),
        ("small domain report", format!("/api/links/domains/{SMALL}")),
        (
            "prefix, first page",
            "/api/links/events?prefix=https://www.jstor.org/stable/12".into(),
        ),
        (
            "pattern, first page",
            "/api/links/events?pattern=*.jstor.org/stable/12".into(),
        ),
        (
            "domain log, first page",
            format!("/api/links/events?domain={LARGE}"),
        ),
        ("user report", format!("/api/links/users/{top_user}")),
        (
            "top domains, 7 days",
            "/api/links/top?by=domain&window=7d".into(),
        ),
        (
            "top users, 7 days",
            "/api/links/top?by=user&window=7d".into(),
        ),
        (
            "top wikis, 30 days",
            "/api/links/top?by=wiki&window=30d".into(),
        ),
    ];
    let latencies =
        time_endpoints(client, base, endpoints, args.requests, args.budget_secs).await?;

    // 3. Live feed: commit one event at a time, as the ingest writer does
    // (write, then announce), and time it to the subscriber.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let mut resp = client
        .get(format!("{base}/v2/stream/links?domain={FEED_DOMAIN}"))
        .send()
        .await
        .map_err(io)?;
    let reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            buf.extend_from_slice(&chunk);
            while let Some(pos) = buf.windows(2).position(|w| w == b"\n\n") {
                let frame: Vec<u8> = buf.drain(..pos + 2).collect();
                if frame.windows(5).any(|w| w == b"data:") && tx.send(Instant::now()).is_err() {
                    return;
                }
            }
        }
    });
    let (mut total, mut after_commit) = (Vec::new(), Vec::new());
    for i in 0..args.feed_messages as u64 {
        let t0 = Instant::now();
        store.write_batch(Arc::new(probe(i))).await?;
        let committed = Instant::now();
        app.commits.committed(None);
        let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .map_err(|_| io("the feed sent nothing within 10 s"))?
            .ok_or_else(|| io("the feed closed"))?;
        total.push(got.duration_since(t0).as_secs_f64() * 1000.0);
        after_commit.push(got.duration_since(committed).as_secs_f64() * 1000.0);
    }
    reader.abort();
    total.sort_by(f64::total_cmp);
    after_commit.sort_by(f64::total_cmp);
    app.stop().await;
    Ok(LinkBenchResult {
        backend: store.backend(),
        events,
        load_seconds,
        load_events_per_sec: if existing > 0 {
            0.0
        } else {
            events as f64 / load_seconds.max(1e-9)
        },
        large_domain: LARGE.into(),
        large_domain_events: count(&large),
        small_domain: SMALL.into(),
        small_domain_events: count(&small),
        latencies,
        feed_messages: total.len(),
        feed_p50_ms: percentile(&total, 0.5),
        feed_p99_ms: percentile(&total, 0.99),
        feed_after_commit_p50_ms: percentile(&after_commit, 0.5),
        feed_after_commit_p99_ms: percentile(&after_commit, 0.99),
    })
}

pub fn print(r: &LinkBenchResult) {
    println!("backend                     {:>12}", r.backend);
    println!("link events                 {:>12}", r.events);
    println!(
        "load                        {:>12.1} s ({:.0} events/s)",
        r.load_seconds, r.load_events_per_sec
    );
    println!(
        "large domain {:<14} {:>12} events",
        r.large_domain, r.large_domain_events
    );
    println!(
        "small domain {:<14} {:>12} events",
        r.small_domain, r.small_domain_events
    );
    super::common::print_latencies(40, &r.latencies);
    println!(
        "live feed, batch → subscriber ({} msgs)  p50 {:.2} ms  p99 {:.2} ms",
        r.feed_messages, r.feed_p50_ms, r.feed_p99_ms
    );
    println!(
        "live feed, commit → subscriber          p50 {:.2} ms  p99 {:.2} ms",
        r.feed_after_commit_p50_ms, r.feed_after_commit_p99_ms
    );
}
