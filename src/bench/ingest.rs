//! `wikiwatch bench ingest`: measured throughput, both sides of every ratio
//! in one run.
//!
//! It generates a deterministic synthetic stream, measures how fast
//! serde_json alone parses its bytes, then serves the same events from the
//! replay server on loopback and ingests them end to end (HTTP, SSE parsing,
//! decoding, extraction, batching, SQLite or PostgreSQL commits) with the same
//! code `wikiwatch run` uses.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::RunArgs;
use crate::ingest::{self, IngestOptions};
use crate::replay::synth::{SYNTH_START_MS, Synth};
use crate::replay::{self, Corpus, Pace, ReplayOptions};
use crate::store;
use crate::telemetry::Telemetry;

use super::error::BenchError;

#[derive(Args, Debug, Clone)]
pub struct IngestBenchArgs {
    /// Events in the synthetic stream.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Seed of the synthetic stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Database to ingest into; a fresh temporary SQLite file by default.
    #[arg(long)]
    pub db: Option<String>,
    /// Events per write transaction (as `run --batch-events`).
    #[arg(long, default_value_t = 20_000)]
    pub batch_events: usize,
    /// Print the result as one JSON object too.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct IngestBenchResult {
    pub events: u64,
    pub bytes: u64,
    pub generate_seconds: f64,
    /// serde_json validating each event without building anything (`IgnoredAny`).
    pub parse_ignored_per_sec: f64,
    /// serde_json into a `serde_json::Value` tree.
    pub parse_value_per_sec: f64,
    /// serde_json into wikiwatch's borrowed `RawEvent`.
    pub parse_typed_per_sec: f64,
    /// The ingest pipeline alone, in memory (no network, no store).
    pub pipeline_per_sec: f64,
    /// End to end: replay server → HTTP → SSE → decode → extract → store commit.
    pub ingest_per_sec: f64,
    pub ingest_seconds: f64,
    /// Against the `serde_json::Value` rate (what "parsing the JSON" means to most readers).
    pub ingest_vs_raw_parse: f64,
    /// Against the `IgnoredAny` rate (validation only, the strictest comparison).
    pub ingest_vs_validate_only: f64,
    /// Share of the ingest time the store spent committing batches.
    pub store_busy: f64,
    pub backend: &'static str,
    pub rows: Vec<store::TableCount>,
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// The report `bench ingest` prints.
pub fn print(r: &IngestBenchResult) {
    println!("events                      {:>12}", r.events);
    println!("bytes of JSON               {:>12}", r.bytes);
    println!("backend                     {:>12}", r.backend);
    println!(
        "raw parse, IgnoredAny       {:>12.0} events/s",
        r.parse_ignored_per_sec
    );
    println!(
        "raw parse, serde_json::Value{:>12.0} events/s",
        r.parse_value_per_sec
    );
    println!(
        "raw parse, typed RawEvent   {:>12.0} events/s",
        r.parse_typed_per_sec
    );
    println!(
        "pipeline alone (no I/O)     {:>12.0} events/s",
        r.pipeline_per_sec
    );
    println!(
        "end-to-end ingest           {:>12.0} events/s ({:.2} s)",
        r.ingest_per_sec, r.ingest_seconds
    );
    println!(
        "ingest / parse to Value     {:>12.1} %",
        r.ingest_vs_raw_parse * 100.0
    );
    println!(
        "ingest / IgnoredAny         {:>12.1} %",
        r.ingest_vs_validate_only * 100.0
    );
    println!(
        "store busy                  {:>12.1} % of the ingest time",
        r.store_busy * 100.0
    );
    for row in &r.rows {
        println!("rows {:<22} {:>12}", row.table, row.rows);
    }
}

pub async fn run(args: IngestBenchArgs) -> Result<IngestBenchResult, BenchError> {
    // 1. The stream, generated once and held in memory.
    let started = Instant::now();
    let synth = Synth::new(args.seed, SYNTH_START_MS, 1000.0);
    let mut text = String::new();
    for ev in synth.iter(0..args.events) {
        text.push_str(&ev.json);
        text.push('\n');
    }
    let generate_seconds = started.elapsed().as_secs_f64();
    let bytes = text.len() as u64;
    eprintln!(
        "generated {} events ({:.0} MB) in {generate_seconds:.1} s",
        args.events,
        bytes as f64 / 1e6
    );

    // 2. Raw parse rates of the same bytes.
    let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    let t = Instant::now();
    for l in &lines {
        let _: Result<serde::de::IgnoredAny, _> = serde_json::from_slice(l);
    }
    let parse_ignored_per_sec = rate(args.events, t.elapsed());
    let t = Instant::now();
    for l in &lines {
        let _: Result<serde_json::Value, _> = serde_json::from_slice(l);
    }
    let parse_value_per_sec = rate(args.events, t.elapsed());
    let t = Instant::now();
    for l in &lines {
        let _ = crate::event::parse_raw(l);
    }
    let parse_typed_per_sec = rate(args.events, t.elapsed());

    // The pipeline alone (decode, de-duplicate, extract, build store
    // operations) over the same events, without the network or the store.
    let mut pipeline =
        crate::ingest::pipeline::Pipeline::new(crate::ingest::pipeline::PipelineOptions {
            rules: crate::extract::Rules::default(),
            hashtags_include_bots: false,
            hashtags_include_wikidata: false,
            batch_events: args.batch_events,
        });
    let scratch = Telemetry::new();
    let t = Instant::now();
    for l in &lines {
        let item = crate::sse::SseItem::Event(crate::sse::SseEvent {
            event: "message".into(),
            data: l.to_vec(),
            id: None,
        });
        let _ = pipeline.handle(item, &scratch);
        if pipeline.batch_full() {
            let _ = pipeline.take_batch();
        }
    }
    let pipeline_per_sec = rate(args.events, t.elapsed());
    drop(lines);

    // 3. End to end through the replay server on loopback.
    let corpus = Arc::new(Corpus::from_json_lines(bytes::Bytes::from(text)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let server = {
        let stop = stop.clone();
        tokio::spawn(replay::serve(
            listener,
            Arc::clone(&corpus),
            ReplayOptions {
                pace: Pace::AsFastAsPossible,
                ..Default::default()
            },
            async move { stop.cancelled().await },
        ))
    };
    let dir = tempfile::tempdir()?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", dir.path().join("bench.db").display()));
    let settings = RunArgs {
        upstream: Some(format!(
            "http://{addr}/v2/stream/recentchange,page-links-change,page-delete,page-undelete"
        )),
        db: Some(db.clone()),
        batch_events: Some(args.batch_events),
        contact: Some("wikiwatch bench".into()),
        ..Default::default()
    }
    .resolve()?;
    let store = store::open(&settings.db).await?;
    let telemetry = Arc::new(Telemetry::new());
    let ingest_stop = CancellationToken::new();
    let t = Instant::now();
    let ingest = tokio::spawn(ingest::run(
        IngestOptions::from_settings(&settings),
        Arc::clone(&store),
        Arc::clone(&telemetry),
        Arc::new(crate::commits::Commits::new()),
        ingest_stop.clone(),
        None,
    ));
    loop {
        if telemetry.events_committed.load(Ordering::Relaxed) >= args.events {
            break;
        }
        if ingest.is_finished() {
            return Err(BenchError::Ingest(
                telemetry.last_error().unwrap_or_else(|| "unknown".into()),
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = t.elapsed();
    ingest_stop.cancel();
    let _ = ingest.await;
    stop.cancel();
    let _ = server.await;
    let ingest_per_sec = rate(args.events, elapsed);
    Ok(IngestBenchResult {
        events: args.events,
        bytes,
        generate_seconds,
        parse_ignored_per_sec,
        parse_value_per_sec,
        parse_typed_per_sec,
        pipeline_per_sec,
        ingest_per_sec,
        ingest_seconds: elapsed.as_secs_f64(),
        ingest_vs_raw_parse: ingest_per_sec / parse_value_per_sec,
        ingest_vs_validate_only: ingest_per_sec / parse_ignored_per_sec,
        store_busy: telemetry.store_write_micros.load(Ordering::Relaxed) as f64
            / 1e6
            / elapsed.as_secs_f64().max(1e-9),
        backend: store.backend(),
        rows: store.table_counts().await?,
    })
}
