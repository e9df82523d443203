//! `wikiwatch bench hashtags`: query latency over a large synthetic hashtag
//! history.
//!
//! Loads N synthetic hashtag uses (deterministic: campaign tags with a heavy
//! head, a long tail of small tags, 1–3 tags per edit, two years of edits on
//! 24 wikis, ending now) straight into a fresh SQLite store, then serves the real HTTP
//! application on loopback and times each page and endpoint the campaign
//! organisers use, for the largest campaign tag: p50/p95 over repeated
//! requests, and the CSV export rate. Besides the tag alone: the tag with a
//! wiki wildcard (`*.wikipedia.org`, matched on the edits' domains), with one
//! wiki by database name (`enwiki`), and any of two campaign tags.

use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::common::{BenchApp, Latency, Rng, WIKIS, time_endpoints};
use crate::extract::{EditorKind, Hashtag, hashtag_key};
use crate::store::{self, HashtagEdit};
use crate::telemetry::Telemetry;

use super::error::BenchError;

#[derive(Args, Debug, Clone)]
pub struct HashtagBenchArgs {
    /// Hashtag uses (edit × tag rows) to load.
    #[arg(long, default_value_t = 10_000_000)]
    pub uses: u64,
    /// Requests per endpoint (after one warm-up), at most.
    #[arg(long, default_value_t = 30)]
    pub requests: usize,
    /// Stop timing an endpoint after this many seconds (at least 3 requests).
    #[arg(long, default_value_t = 20.0)]
    pub budget_secs: f64,
    /// Database to load into (kept afterwards): a SQLite file (a temporary
    /// file by default) or a `postgres://` URL, loaded through the store's
    /// batch writer. An existing database with hashtag data is reused without
    /// loading.
    #[arg(long)]
    pub db: Option<String>,
    /// Print the result as one JSON object too.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct HashtagBenchResult {
    pub uses: u64,
    pub edits: u64,
    pub load_seconds: f64,
    pub campaign_tag: String,
    pub campaign_edits: i64,
    pub latencies: Vec<Latency>,
    pub csv_bytes: u64,
    pub csv_rows: u64,
    pub csv_seconds: f64,
    pub csv_mb_per_sec: f64,
    /// Peak resident memory of the process before and after the export.
    pub rss_before_export_mb: f64,
    pub rss_after_export_mb: f64,
}

/// Campaign tags and their share of uses (per cent); the rest is a long tail.
const CAMPAIGNS: &[(&str, u64)] = &[
    ("1Lib1Ref", 35),
    ("WPWP", 20),
    ("WikiLovesAfrica", 5),
    ("AfricaGap", 4),
    ("SheSaid", 3),
    ("WLM2026", 3),
];

fn pick_tag(rng: &mut Rng) -> String {
    let mut r = rng.below(100);
    for (t, share) in CAMPAIGNS {
        if r < *share {
            return (*t).to_owned();
        }
        r -= share;
    }
    // Long tail: 50,000 editathon tags, Zipf-ish via squaring.
    let u = rng.below(1 << 16) as f64 / 65_536.0;
    format!("editathon{}", (u * u * 50_000.0) as u64)
}

/// Edit `i` of the synthetic history (about 1.4 tags per edit).
/// `progress` (0..1) places the edit in time.
fn synthetic_edit(
    rng: &mut Rng,
    i: u64,
    start_ms: i64,
    span_ms: i64,
    progress: f64,
) -> HashtagEdit {
    let (wiki, domain) = WIKIS[(rng.below(WIKIS.len() as u64 * 2) as usize).min(WIKIS.len() - 1)];
    let n_tags = match rng.below(10) {
        0..=6 => 1,
        7..=8 => 2,
        _ => 3,
    };
    let mut tags: Vec<Hashtag> = Vec::new();
    let mut summary = String::from("Added citation");
    for _ in 0..n_tags {
        let t = pick_tag(rng);
        let key = hashtag_key(&t);
        if tags.iter().any(|x| x.key == key) {
            continue;
        }
        summary.push_str(" #");
        summary.push_str(&t);
        tags.push(Hashtag { text: t, key });
    }
    let is_new = rng.chance(5);
    let len_new = rng.below(80_000) as i64;
    let len_old = (len_new - 600 + rng.below(1_000) as i64).max(0);
    let rev = 1_000_000_000 + i as i64 * 3;
    let time_ms = start_ms + (span_ms as f64 * progress.min(1.0)) as i64;
    HashtagEdit {
        meta_id: format!("bench-{i}"),
        wiki: wiki.to_owned(),
        domain: domain.to_owned(),
        rc_id: Some(10_000_000 + i as i64),
        rev_old: (!is_new).then_some(rev - 1),
        rev_new: Some(rev),
        title: format!("Article {}", rng.below(1_500_000)),
        namespace: if rng.chance(90) { 0 } else { 6 },
        change_type: if is_new { "new" } else { "edit" }.to_owned(),
        user: Some(format!("Editor{}", rng.below(120_000))),
        editor_kind: EditorKind::Named,
        time_ms,
        summary,
        len_old: (!is_new).then_some(len_old),
        len_new: Some(len_new),
        minor: false,
        is_new,
        bot: false,
        tags,
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Loads edits through [`store::Store::write_batch`] (the ingest path, which
/// on PostgreSQL is set-wise and keeps the per-tag aggregates), `per_batch`
/// edits a transaction. Returns (edits, uses) inserted.
async fn load_through_batches(
    store: &dyn store::Store,
    edits: impl Iterator<Item = store::HashtagEdit>,
    per_batch: usize,
) -> Result<(u64, u64), BenchError> {
    let (mut n_edits, mut n_uses) = (0u64, 0u64);
    let mut edits = edits.peekable();
    while edits.peek().is_some() {
        let ops: Vec<store::Op> = edits
            .by_ref()
            .take(per_batch)
            .map(|e| store::Op::HashtagEdit(Box::new(e)))
            .collect();
        let batch = store::Batch {
            position: None,
            events: ops.len() as u64,
            ops,
        };
        let outcome = store.write_batch(Arc::new(batch)).await?;
        n_edits += outcome.hashtag_edits;
        n_uses += outcome.hashtag_uses;
    }
    Ok((n_edits, n_uses))
}

pub async fn run(args: HashtagBenchArgs) -> Result<HashtagBenchResult, BenchError> {
    let dir = tempfile::tempdir()?;
    let db = args.db.clone().unwrap_or_default();
    let postgres = db.starts_with("postgres://") || db.starts_with("postgresql://");
    let path = if db.is_empty() {
        dir.path().join("hashtags-bench.db")
    } else {
        std::path::PathBuf::from(db.strip_prefix("sqlite:").unwrap_or(&db))
    };
    let store: Arc<dyn store::Store> = if postgres {
        store::open(&db).await?
    } else {
        Arc::new(store::SqliteStore::open(&path).await?)
    };
    let counts = store.table_counts().await?;
    let rows_of = |name: &str| {
        counts
            .iter()
            .find(|t| t.table == name)
            .map(|t| t.rows)
            .unwrap_or(0)
    };
    let existing = rows_of("hashtag_uses");
    let existing_edits = rows_of("hashtag_edits");

    // 1. Load.
    let t = Instant::now();
    let (edits, uses) = if existing > 0 {
        eprintln!("reusing the database with {existing} hashtag uses");
        (existing_edits as u64, existing as u64)
    } else {
        let span_ms = 730 * 86_400_000_i64;
        let start_ms = crate::clock::now_ms() - span_ms;
        let load_path = path.clone();
        let target = args.uses;
        let edits = move || {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let mut made = 0u64;
            (0..u64::MAX).map_while(move |i| {
                if made >= target {
                    return None;
                }
                let e = synthetic_edit(&mut rng, i, start_ms, span_ms, made as f64 / target as f64);
                made += e.tags.len() as u64;
                if i % 1_000_000 == 0 && i > 0 {
                    eprintln!("  loaded {i} edits, {made} uses");
                }
                Some(e)
            })
        };
        if postgres {
            load_through_batches(store.as_ref(), edits(), 10_000).await?
        } else {
            tokio::task::spawn_blocking(move || {
                store::bulk_load_hashtag_edits(&load_path, edits(), 50_000)
            })
            .await
            .map_err(|e| BenchError::Ingest(e.to_string()))??
        }
    };
    let load_seconds = t.elapsed().as_secs_f64();
    eprintln!("loaded {edits} edits, {uses} uses in {load_seconds:.1} s");

    // 2. Serve the application on loopback.
    let app = BenchApp::start(&store, Arc::new(Telemetry::new())).await?;
    let (client, base) = (&app.client, app.base.as_str());

    let tag = "1lib1ref";
    let stats: serde_json::Value = client
        .get(format!("{base}/api/hashtags/stats?tags={tag}"))
        .send()
        .await
        .map_err(std::io::Error::other)?
        .json()
        .await
        .map_err(std::io::Error::other)?;
    let campaign_edits = stats["edits"].as_i64().unwrap_or(0);

    let q = format!("tags={tag}");
    let endpoints: Vec<(&str, String)> = vec![
        ("results page (HTML)", format!("/hashtags?{q}")),
        (
            "results page, wiki filter",
            format!("/hashtags?{q}&wiki=*.wikipedia.org"),
        ),
        (
            "wiki filter, edits",
            format!("/api/hashtags/edits?{q}&wiki=*.wikipedia.org"),
        ),
        (
            "wiki filter, stats",
            format!("/api/hashtags/stats?{q}&wiki=*.wikipedia.org"),
        ),
        (
            "wiki filter, timeseries",
            format!("/api/hashtags/timeseries?{q}&wiki=*.wikipedia.org"),
        ),
        (
            "wiki filter, top users",
            format!("/api/hashtags/top?{q}&wiki=*.wikipedia.org&by=user"),
        ),
        (
            "results page, one wiki",
            format!("/hashtags?{q}&wiki=enwiki"),
        ),
        (
            "one wiki, stats",
            format!("/api/hashtags/stats?{q}&wiki=enwiki"),
        ),
        (
            "one wiki, timeseries",
            format!("/api/hashtags/timeseries?{q}&wiki=enwiki"),
        ),
        (
            "one wiki, top users",
            format!("/api/hashtags/top?{q}&wiki=enwiki&by=user"),
        ),
        ("edits, first page", format!("/api/hashtags/edits?{q}")),
        ("stats", format!("/api/hashtags/stats?{q}")),
        (
            "stats, 30 days",
            format!("/api/hashtags/stats?{q}&start={}", days_ago(30)),
        ),
        ("timeseries", format!("/api/hashtags/timeseries?{q}")),
        ("top users", format!("/api/hashtags/top?{q}&by=user")),
        ("top wikis", format!("/api/hashtags/top?{q}&by=wiki")),
        ("top pages", format!("/api/hashtags/top?{q}&by=page")),
        (
            "any of two tags, edits",
            "/api/hashtags/edits?tags=1lib1ref,wpwp".to_owned(),
        ),
        (
            "two tags, results page",
            "/hashtags?tags=1lib1ref,wpwp".to_owned(),
        ),
        (
            "two tags, stats",
            "/api/hashtags/stats?tags=1lib1ref,wpwp".to_owned(),
        ),
        (
            "two tags, timeseries",
            "/api/hashtags/timeseries?tags=1lib1ref,wpwp".to_owned(),
        ),
        (
            "two tags, top users",
            "/api/hashtags/top?tags=1lib1ref,wpwp&by=user".to_owned(),
        ),
        (
            "trending 30d",
            "/api/hashtags/trending?window=30d".to_owned(),
        ),
        (
            "trending 24h",
            "/api/hashtags/trending?window=24h".to_owned(),
        ),
        (
            "tags autocomplete",
            "/api/hashtags/tags?prefix=edit&limit=15".to_owned(),
        ),
        ("home page", "/".to_owned()),
    ];
    let latencies =
        time_endpoints(client, base, endpoints, args.requests, args.budget_secs).await?;

    // 3. CSV export of the whole campaign, streamed.
    let rss_before = peak_rss_mb();
    let t = Instant::now();
    let mut resp = client
        .get(format!("{base}/api/hashtags/edits?{q}&format=csv"))
        .send()
        .await
        .map_err(std::io::Error::other)?;
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = resp.chunk().await.map_err(std::io::Error::other)? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
    }
    let csv_seconds = t.elapsed().as_secs_f64();
    let rss_after = peak_rss_mb();
    app.stop().await;
    Ok(HashtagBenchResult {
        uses,
        edits,
        load_seconds,
        campaign_tag: tag.to_owned(),
        campaign_edits,
        latencies,
        csv_bytes: bytes,
        csv_rows: lines.saturating_sub(1),
        csv_seconds,
        csv_mb_per_sec: bytes as f64 / 1e6 / csv_seconds.max(1e-9),
        rss_before_export_mb: rss_before,
        rss_after_export_mb: rss_after,
    })
}

fn days_ago(n: i64) -> String {
    crate::event::format_ms(crate::clock::now_ms() - n * 86_400_000)
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}

pub fn print(r: &HashtagBenchResult) {
    println!("hashtag uses                {:>12}", r.uses);
    println!("load                        {:>12.1} s", r.load_seconds);
    println!(
        "campaign #{:<17} {:>12} edits",
        r.campaign_tag, r.campaign_edits
    );
    super::common::print_latencies(30, &r.latencies);
    println!(
        "CSV export                  {:>12.1} MB/s ({} rows, {:.0} MB in {:.1} s; peak RSS {:.0} → {:.0} MB)",
        r.csv_mb_per_sec,
        r.csv_rows,
        r.csv_bytes as f64 / 1e6,
        r.csv_seconds,
        r.rss_before_export_mb,
        r.rss_after_export_mb
    );
}
