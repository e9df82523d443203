//! What the query benchmarks (`bench hashtags`, `bench links`) share: a
//! deterministic generator for their synthetic data, the wikis that data is
//! spread over, the application served on loopback over a store, and the
//! loop that times each endpoint over HTTP.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::commits::Commits;
use crate::http::{AppState, Application};
use crate::store::Store;
use crate::telemetry::Telemetry;

use super::error::BenchError;

/// xorshift64*: deterministic and fast.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(crate) fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    /// Zipf-ish rank in `0..n`: small ranks are far more likely.
    pub(crate) fn zipf(&mut self, n: u64) -> u64 {
        let u = (self.below(1 << 20) as f64 + 0.5) / (1u64 << 20) as f64;
        ((n as f64).powf(u) as u64).saturating_sub(1).min(n - 1)
    }
}

/// (database name, domain) of the wikis synthetic data is spread over.
pub(crate) const WIKIS: &[(&str, &str)] = &[
    ("enwiki", "en.wikipedia.org"),
    ("frwiki", "fr.wikipedia.org"),
    ("dewiki", "de.wikipedia.org"),
    ("eswiki", "es.wikipedia.org"),
    ("itwiki", "it.wikipedia.org"),
    ("ptwiki", "pt.wikipedia.org"),
    ("arwiki", "ar.wikipedia.org"),
    ("hiwiki", "hi.wikipedia.org"),
    ("bnwiki", "bn.wikipedia.org"),
    ("yowiki", "yo.wikipedia.org"),
    ("hawiki", "ha.wikipedia.org"),
    ("igwiki", "ig.wikipedia.org"),
    ("swwiki", "sw.wikipedia.org"),
    ("tawiki", "ta.wikipedia.org"),
    ("idwiki", "id.wikipedia.org"),
    ("ukwiki", "uk.wikipedia.org"),
    ("ruwiki", "ru.wikipedia.org"),
    ("jawiki", "ja.wikipedia.org"),
    ("zhwiki", "zh.wikipedia.org"),
    ("commonswiki", "commons.wikimedia.org"),
    ("wikidatawiki", "www.wikidata.org"),
    ("frwikisource", "fr.wikisource.org"),
    ("enwikisource", "en.wikisource.org"),
    ("metawiki", "meta.wikimedia.org"),
];

/// The value at quantile `p` of sorted samples (0 when there are none).
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One endpoint's latency over repeated requests.
#[derive(Debug, Serialize)]
pub struct Latency {
    pub name: String,
    pub path: String,
    pub requests: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// Times each `(name, path)` below `base`: one warm-up request, then up to
/// `requests` more, stopping after `budget_secs` (at least 3 timed). A
/// non-success answer fails the bench rather than timing an error page.
pub(crate) async fn time_endpoints(
    client: &reqwest::Client,
    base: &str,
    endpoints: Vec<(&str, String)>,
    requests: usize,
    budget_secs: f64,
) -> Result<Vec<Latency>, BenchError> {
    let fail = |e: String| BenchError::Ingest(e);
    let mut latencies = Vec::new();
    for (name, path) in endpoints {
        let url = format!("{base}{path}");
        let mut times = Vec::with_capacity(requests);
        let started = Instant::now();
        for i in 0..=requests {
            if i > 3 && started.elapsed().as_secs_f64() > budget_secs {
                break;
            }
            let t = Instant::now();
            let r = client
                .get(&url)
                .send()
                .await
                .map_err(|e| fail(e.to_string()))?;
            let status = r.status();
            let _ = r.bytes().await.map_err(|e| fail(e.to_string()))?;
            if !status.is_success() {
                return Err(fail(format!("{path} answered {status}")));
            }
            if i > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        let l = Latency {
            name: name.to_owned(),
            requests: times.len(),
            path,
            p50_ms: percentile(&times, 0.5),
            p95_ms: percentile(&times, 0.95),
            max_ms: times.last().copied().unwrap_or(0.0),
        };
        eprintln!(
            "  {:<38} p50 {:>8.1} ms  p95 {:>8.1} ms",
            l.name, l.p50_ms, l.p95_ms
        );
        latencies.push(l);
    }
    Ok(latencies)
}

/// Prints a latency table whose query column is `width` characters wide.
pub(crate) fn print_latencies(width: usize, latencies: &[Latency]) {
    println!(
        "{:<width$} {:>9} {:>9} {:>9}",
        "query", "p50 ms", "p95 ms", "max ms"
    );
    for l in latencies {
        println!(
            "{:<width$} {:>9.1} {:>9.1} {:>9.1}",
            l.name, l.p50_ms, l.p95_ms, l.max_ms
        );
    }
}

/// The real HTTP application served on loopback over a bench's store.
pub(crate) struct BenchApp {
    pub(crate) client: reqwest::Client,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// The commit bus the server's store-backed feeds wait on.
    pub(crate) commits: Arc<Commits>,
    stop: tokio_util::sync::CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl BenchApp {
    /// Serves the application over `store` on a free loopback port.
    pub(crate) async fn start(
        store: &Arc<dyn Store>,
        telemetry: Arc<Telemetry>,
    ) -> Result<BenchApp, BenchError> {
        let commits = Arc::new(Commits::new());
        let app = Application::build(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            AppState {
                store: Arc::clone(store),
                telemetry,
                commits: Arc::clone(&commits),
                upstream: "(bench)".into(),
                links: Arc::new(crate::http::LinksConfig::default()),
                live: crate::live::Hub::new(
                    crate::live::LiveOptions::default(),
                    Arc::new(crate::live::wikimon::WikimonContext::builtin()),
                ),
            },
        )
        .await?;
        let addr = app.local_addr()?;
        let stop = tokio_util::sync::CancellationToken::new();
        let server = tokio::spawn(app.run(stop.clone()));
        Ok(BenchApp {
            client: reqwest::Client::new(),
            base: format!("http://{addr}"),
            commits,
            stop,
            server,
        })
    }

    /// Stops the server and waits for it.
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        let _ = self.server.await;
    }
}

/// Rows of `table` in the store (0 when it has none).
pub(crate) async fn table_rows(store: &dyn Store, table: &str) -> Result<i64, BenchError> {
    Ok(store
        .table_counts()
        .await?
        .iter()
        .find(|t| t.table == table)
        .map_or(0, |t| t.rows))
}
