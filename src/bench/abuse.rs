//! `wikiwatch bench abuse`: what hostile or careless clients cost the rest of
//! the service, measured from outside against `wikiwatch run` fed by a paced
//! replay server, both child processes of this binary, on loopback.
//!
//! Three phases of `--seconds` each, after a preload of synthetic events:
//! 1. quiet: the ingest commit rate and `/healthz` latency with no readers;
//! 2. heavy: the same with `--readers` clients looping over the heaviest
//!    reads (domain reports, hashtag stats and time series, CSV exports);
//! 3. idle: `--idle-sockets` connections that send one byte of a request and
//!    then nothing, while a monitor asks `/healthz` on fresh connections.
//!
//! Reported: commit rates (and their ratio), `/healthz` p50/p99 and failures,
//! and the server's resident memory (peak and after).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::child::ChildServer;
use super::common::percentile;
use super::error::BenchError;

#[derive(Args, Debug, Clone)]
pub struct AbuseBenchArgs {
    /// Synthetic events ingested before the measurement (the data the heavy
    /// reads read).
    #[arg(long, default_value_t = 200_000)]
    pub preload: u64,
    /// Events per second the replay server sends during the phases.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Concurrent heavy readers in the second phase.
    #[arg(long, default_value_t = 200)]
    pub readers: usize,
    /// Idle connections in the third phase (0 skips it). The bench holds them
    /// itself, so they must fit under its own descriptor limit.
    #[arg(long, default_value_t = 19_000)]
    pub idle_sockets: usize,
    /// Seconds each phase is measured.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Database of the server under test (default: a fresh SQLite file).
    #[arg(long)]
    pub db: Option<String>,
    /// Print the result as one JSON object too.
    #[arg(long)]
    pub json: bool,
}

/// One phase's figures.
#[derive(Debug, Serialize)]
pub struct Phase {
    pub name: &'static str,
    /// Events committed per second during the phase.
    pub commits_per_sec: f64,
    pub healthz_p50_ms: f64,
    pub healthz_p99_ms: f64,
    /// `/healthz` requests that failed or took over 2 s.
    pub healthz_failed: u64,
    pub healthz_requests: u64,
    /// Heavy requests answered, and answered with 503 (shed), in the phase.
    pub heavy_answered: u64,
    pub heavy_shed: u64,
    pub heavy_failed: u64,
    /// The server's peak resident memory during the phase, MiB.
    pub peak_rss_mib: f64,
}

#[derive(Debug, Serialize)]
pub struct AbuseBenchResult {
    /// Events ingested before the phases (recordings and preload).
    pub preload_events: u64,
    pub readers: usize,
    pub idle_sockets_opened: usize,
    pub phases: Vec<Phase>,
    /// Heavy-phase commit rate over the quiet one.
    pub heavy_over_quiet: f64,
    /// The server's resident memory after the last phase, MiB.
    pub rss_after_mib: f64,
}

/// `events_committed` from `/api/status`.
async fn committed(client: &reqwest::Client, base: &str) -> Option<u64> {
    let v: serde_json::Value = client
        .get(format!("{base}/api/status"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    v["counters"]["events_committed"].as_u64()
}

/// The heaviest reads the API offers, over the preloaded data.
fn heavy_paths() -> Vec<String> {
    [
        "/api/links/domains/doi.org",
        "/api/links/domains/jstor.org?provenance=all",
        "/api/links/events?domain=doi.org&format=csv&limit=1000",
        "/api/links/top?by=user&window=30d",
        "/api/hashtags/stats?tags=1lib1ref",
        "/api/hashtags/timeseries?tags=1lib1ref",
        "/api/hashtags/edits?tags=1lib1ref&format=csv",
        "/api/hashtags/top?tags=1lib1ref",
        "/hashtags?query=1lib1ref",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect()
}

/// Counts of the heavy readers' answers.
#[derive(Default)]
struct HeavyCounts {
    answered: AtomicU64,
    shed: AtomicU64,
    failed: AtomicU64,
}

/// One heavy reader: loops over the paths until `stop`, reading each body.
async fn heavy_reader(
    base: String,
    paths: Arc<Vec<String>>,
    counts: Arc<HeavyCounts>,
    stop: Arc<AtomicBool>,
    offset: usize,
) {
    let client = reqwest::Client::new();
    let mut i = offset;
    while !stop.load(Ordering::Relaxed) {
        let path = &paths[i % paths.len()];
        i += 1;
        let outcome = async {
            let resp = client
                .get(format!("{base}{path}"))
                .timeout(Duration::from_secs(60))
                .send()
                .await?;
            let status = resp.status();
            let _ = resp.bytes().await?;
            Ok::<_, reqwest::Error>(status)
        }
        .await;
        let counter = match outcome {
            Ok(s)
                if s == reqwest::StatusCode::SERVICE_UNAVAILABLE
                    || s == reqwest::StatusCode::TOO_MANY_REQUESTS =>
            {
                &counts.shed
            }
            Ok(s) if s.is_success() => &counts.answered,
            _ => &counts.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// `/healthz` every 50 ms until `stop`: latencies (ms) and failures. With
/// `fresh`, each request opens its own connection, as a monitor's would.
async fn health_monitor(base: String, fresh: bool, stop: Arc<AtomicBool>) -> (Vec<f64>, u64) {
    let pooled = reqwest::Client::new();
    let (mut latencies, mut failed) = (Vec::new(), 0);
    while !stop.load(Ordering::Relaxed) {
        let client = if fresh {
            reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap_or_else(|_| pooled.clone())
        } else {
            pooled.clone()
        };
        let started = Instant::now();
        let ok = client
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if ok {
            latencies.push(ms);
        } else {
            failed += 1;
        }
        tokio::time::sleep(Duration::from_millis(50).saturating_sub(started.elapsed())).await;
    }
    (latencies, failed)
}

/// Runs one phase: `load` is started before and stopped after the window.
async fn phase(
    name: &'static str,
    server: &ChildServer,
    seconds: u64,
    fresh_health: bool,
    counts: &HeavyCounts,
) -> Result<Phase, BenchError> {
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let monitor = tokio::spawn(health_monitor(
        base.clone(),
        fresh_health,
        Arc::clone(&stop),
    ));
    let before = counts_now(counts);
    let started = Instant::now();
    let first = committed(&client, &base).await;
    let mut peak = server.rss_mib().unwrap_or(0.0);
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        peak = peak.max(server.rss_mib().unwrap_or(0.0));
    }
    let last = committed(&client, &base).await;
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, healthz_failed) = monitor
        .await
        .map_err(|e| BenchError::Server(e.to_string()))?;
    latencies.sort_by(f64::total_cmp);
    let after = counts_now(counts);
    let commits_per_sec = match (first, last) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / elapsed,
        _ => f64::NAN,
    };
    Ok(Phase {
        name,
        commits_per_sec,
        healthz_p50_ms: percentile(&latencies, 0.50),
        healthz_p99_ms: percentile(&latencies, 0.99),
        healthz_failed,
        healthz_requests: latencies.len() as u64 + healthz_failed,
        heavy_answered: after.0 - before.0,
        heavy_shed: after.1 - before.1,
        heavy_failed: after.2 - before.2,
        peak_rss_mib: peak,
    })
}

fn counts_now(c: &HeavyCounts) -> (u64, u64, u64) {
    (
        c.answered.load(Ordering::Relaxed),
        c.shed.load(Ordering::Relaxed),
        c.failed.load(Ordering::Relaxed),
    )
}

pub async fn run(args: AbuseBenchArgs) -> Result<AbuseBenchResult, BenchError> {
    let dir = tempfile::tempdir()?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", dir.path().join("abuse.db").display()));
    let replay = ChildServer::start(&[
        "replay-server",
        "--listen",
        "127.0.0.1:0",
        "--synth-events",
        &args.preload.to_string(),
        "--synth-seed",
        "11",
        "--pace",
        "fast",
        "--live-rate",
        &args.rate.to_string(),
    ])?;
    let upstream = format!(
        "http://{}/v2/stream/recentchange,page-links-change,page-delete,page-undelete",
        replay.addr
    );
    let server = ChildServer::run(&upstream, &db, &["--hashtags-include-wikidata"])?;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    // Everything before the live tail: the bundled recordings and the preload.
    let index: serde_json::Value = client
        .get(format!("http://{}/", replay.addr))
        .send()
        .await
        .map_err(|e| BenchError::Server(e.to_string()))?
        .json()
        .await
        .map_err(|e| BenchError::Server(e.to_string()))?;
    let backlog: u64 = index["recorded"]
        .as_array()
        .map(|streams| streams.iter().filter_map(|s| s["events"].as_u64()).sum())
        .unwrap_or(args.preload);
    let preload_started = Instant::now();
    loop {
        let n = committed(&client, &base).await.unwrap_or(0);
        if n >= backlog {
            break;
        }
        if preload_started.elapsed() > Duration::from_secs(1800) {
            return Err(BenchError::Server(format!(
                "the preload stalled at {n} events"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "preloaded {backlog} events in {:.0} s; measuring {} s per phase",
        preload_started.elapsed().as_secs_f64(),
        args.seconds
    );

    let counts = Arc::new(HeavyCounts::default());
    let mut phases = vec![phase("quiet", &server, args.seconds, false, &counts).await?];

    let stop_readers = Arc::new(AtomicBool::new(false));
    let paths = Arc::new(heavy_paths());
    let readers: Vec<_> = (0..args.readers)
        .map(|i| {
            tokio::spawn(heavy_reader(
                base.clone(),
                Arc::clone(&paths),
                Arc::clone(&counts),
                Arc::clone(&stop_readers),
                i,
            ))
        })
        .collect();
    phases.push(phase("heavy readers", &server, args.seconds, false, &counts).await?);
    stop_readers.store(true, Ordering::Relaxed);
    for r in readers {
        let _ = tokio::time::timeout(Duration::from_secs(60), r).await;
    }

    let mut idle = Vec::with_capacity(args.idle_sockets);
    if args.idle_sockets > 0 {
        for _ in 0..args.idle_sockets {
            let Ok(mut s) = tokio::net::TcpStream::connect(&server.addr).await else {
                break;
            };
            if s.write_all(b"G").await.is_err() {
                continue;
            }
            idle.push(s);
        }
        phases.push(phase("idle sockets", &server, args.seconds, true, &counts).await?);
    }
    let idle_sockets_opened = idle.len();
    drop(idle);
    let quiet = phases[0].commits_per_sec;
    let heavy = phases[1].commits_per_sec;
    Ok(AbuseBenchResult {
        preload_events: backlog,
        readers: args.readers,
        idle_sockets_opened,
        heavy_over_quiet: heavy / quiet,
        rss_after_mib: server.rss_mib().unwrap_or(f64::NAN),
        phases,
    })
}

pub fn print(r: &AbuseBenchResult) {
    println!(
        "preload {} events; {} heavy readers; {} idle sockets opened",
        r.preload_events, r.readers, r.idle_sockets_opened
    );
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>12} {:>10} {:>8} {:>8} {:>9}",
        "phase",
        "commits/s",
        "hz p50 ms",
        "hz p99 ms",
        "hz failed",
        "heavy ok",
        "shed",
        "failed",
        "peak MiB"
    );
    for p in &r.phases {
        println!(
            "{:<14} {:>10.0} {:>10.1} {:>10.1} {:>6}/{:<5} {:>10} {:>8} {:>8} {:>9.0}",
            p.name,
            p.commits_per_sec,
            p.healthz_p50_ms,
            p.healthz_p99_ms,
            p.healthz_failed,
            p.healthz_requests,
            p.heavy_answered,
            p.heavy_shed,
            p.heavy_failed,
            p.peak_rss_mib
        );
    }
    println!(
        "commit rate with heavy readers / quiet: {:.2}; resident after: {:.0} MiB",
        r.heavy_over_quiet, r.rss_after_mib
    );
}
