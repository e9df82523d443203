//! `wikiwatch bench`: measured throughput and latency, both sides of every
//! ratio in one run. Results go to stdout as a table and, with `--json`, as
//! one JSON object too.
//!
//! - [`ingest`]: end-to-end ingest beside the raw parse rates and the pipeline alone.
//! - [`hashtags`]: hashtag query latency and CSV export rate.
//! - [`links`]: external-link query latency and live feed latency.
//! - [`live`]: live feeds with many WebSocket subscribers.
//! - [`abuse`]: ingest and `/healthz` under heavy readers and idle sockets.
//! - [`common`]: what the query benches share; [`error`]: their error.

mod abuse;
mod child;
mod common;
mod error;
mod hashtags;
mod ingest;
mod links;
mod live;

use clap::{Args, Subcommand};

pub use error::BenchError;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchKind,
}

#[derive(Subcommand, Debug, Clone)]
pub enum BenchKind {
    /// End-to-end ingest of a synthetic stream beside the raw JSON parse rate.
    Ingest(ingest::IngestBenchArgs),
    /// Hashtag query latency and CSV export rate over N synthetic uses.
    Hashtags(hashtags::HashtagBenchArgs),
    /// Live feeds: memory with 10,000 subscribers, fan-out latency, stalled clients.
    Live(live::LiveBenchArgs),
    /// External-link query latency and live feed latency over N synthetic link events.
    Links(links::LinkBenchArgs),
    /// Ingest and /healthz under 200 heavy readers and 19,000 idle sockets.
    Abuse(abuse::AbuseBenchArgs),
}

/// With `--json`, the result as one JSON line after the table.
fn print_json(json: bool, r: &impl serde::Serialize) {
    if json {
        println!("{}", serde_json::to_string(r).unwrap_or_default());
    }
}

pub async fn run(args: BenchArgs) -> Result<(), BenchError> {
    match args.what {
        BenchKind::Live(a) => live::run(a).await,
        BenchKind::Hashtags(a) => {
            let json = a.json;
            let r = hashtags::run(a).await?;
            hashtags::print(&r);
            print_json(json, &r);
            Ok(())
        }
        BenchKind::Links(a) => {
            let json = a.json;
            let r = links::run(a).await?;
            links::print(&r);
            print_json(json, &r);
            Ok(())
        }
        BenchKind::Abuse(a) => {
            let json = a.json;
            let r = abuse::run(a).await?;
            abuse::print(&r);
            print_json(json, &r);
            Ok(())
        }
        BenchKind::Ingest(a) => {
            let json = a.json;
            let r = ingest::run(a).await?;
            ingest::print(&r);
            print_json(json, &r);
            Ok(())
        }
    }
}
