//! `wikiwatch replay-server`: a local EventStreams for offline use, demos,
//! benchmarks and tests, faithful to the real service (see
//! ../shared/reference/eventstreams.md §9 and README "Replay server").
//!
//! - [`corpus`]: recordings in their many formats, arranged per topic in time order.
//! - [`assignment`]: the `id:` / `Last-Event-ID` resume token.
//! - [`options`]: pacing, faults, the live feed and the per-IP limit a server is given.
//! - [`faults`]: the canary and oversized events fault injection inserts.
//! - [`server`]: the HTTP route, framing, resume, pacing, fault injection and the live synthetic tail.
//! - [`synth`]: deterministic synthetic events.
//!
//! The ingest client talks to this server with exactly the code it uses for
//! stream.wikimedia.org.

pub mod assignment;
pub mod corpus;
mod faults;
pub mod options;
pub mod server;
pub mod synth;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use tokio_util::sync::CancellationToken;

pub use corpus::{Corpus, CorpusError};
pub use options::{Faults, Pace, ReplayOptions, SynthFeed};
pub use server::serve;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("the replay server failed: {0}")]
    Serve(std::io::Error),
}

/// Options of `wikiwatch replay-server`.
#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// Address to listen on; port 0 picks a free port. The server prints
    /// `listening on http://ADDR` once it accepts connections.
    #[arg(long, default_value = "127.0.0.1:8092")]
    pub listen: String,
    /// Recorded events to serve: files or folders of NDJSON, JSON lines,
    /// JSON arrays ({id, data} captures or events) or SSE transcripts.
    /// Default: the real recordings bundled in the binary.
    #[arg(long = "input", value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// Add this many synthetic events (from `wikiwatch synth`) to the recordings.
    #[arg(long, default_value_t = 0)]
    pub synth_events: u64,
    /// Seed of the synthetic events and of the live feed.
    #[arg(long, default_value_t = 1)]
    pub synth_seed: u64,
    /// After the recordings, an endless synthetic live feed at this many
    /// events per second, in real time.
    #[arg(long, value_name = "EVENTS_PER_SEC")]
    pub live_rate: Option<f64>,
    /// fast (as fast as the client reads), realtime, xN (N times real time)
    /// or N/s (fixed events per second).
    #[arg(long, default_value = "fast")]
    pub pace: Pace,
    /// Longest pause between two recorded events under realtime/xN pacing.
    #[arg(long, default_value_t = 5.0)]
    pub max_gap_secs: f64,
    /// Concurrent connections allowed per client IP (the real service: 2).
    #[arg(long)]
    pub per_ip_limit: Option<usize>,
    /// Fault: end every connection after N events.
    #[arg(long)]
    pub close_after_events: Option<u64>,
    /// Fault: after N events on a connection, send nothing more (keep it open).
    #[arg(long)]
    pub stall_after_events: Option<u64>,
    /// Fault: after N events on a connection, send `event: error` and end it.
    #[arg(long)]
    pub error_after_events: Option<u64>,
    /// Fault: a line of broken JSON after every N events.
    #[arg(long)]
    pub malformed_every: Option<u64>,
    /// Fault: a canary event after every N events.
    #[arg(long)]
    pub canary_every: Option<u64>,
    /// Fault: once, after N events in all, an oversized event.
    #[arg(long)]
    pub oversized_at: Option<u64>,
    /// Size of the oversized event.
    #[arg(long, default_value_t = 1 << 20)]
    pub oversized_bytes: usize,
    /// Fault: answer every Nth connection with --reject-status.
    #[arg(long)]
    pub reject_every: Option<u64>,
    /// HTTP status for rejected connections (429, 502, 503…).
    #[arg(long, default_value_t = 503)]
    pub reject_status: u16,
    /// Send `retry: MS` after the preamble.
    #[arg(long)]
    pub retry_ms: Option<u64>,
}

impl ReplayArgs {
    pub fn options(&self) -> ReplayOptions {
        ReplayOptions {
            pace: self.pace,
            faults: Faults {
                close_after_events: self.close_after_events,
                stall_after_events: self.stall_after_events,
                error_after_events: self.error_after_events,
                malformed_every: self.malformed_every,
                canary_every: self.canary_every,
                oversized_at: self.oversized_at,
                oversized_bytes: self.oversized_bytes,
                reject_every: self.reject_every,
                reject_status: self.reject_status,
                retry_ms: self.retry_ms,
            },
            synth: self.live_rate.map(|rate| SynthFeed {
                rate,
                seed: self.synth_seed,
            }),
            max_gap: Duration::from_secs_f64(self.max_gap_secs.max(0.0)),
            per_ip_limit: self.per_ip_limit,
        }
    }

    /// The recordings plus any synthetic events asked for.
    pub fn corpus(&self) -> Result<Corpus, ReplayError> {
        if self.synth_events == 0 {
            return Ok(if self.inputs.is_empty() {
                Corpus::bundled()
            } else {
                Corpus::load_paths(&self.inputs)?
            });
        }
        // Synthetic events become recordings: written as JSON lines after the
        // recorded ones and loaded together.
        let mut text = Vec::new();
        if !self.inputs.is_empty() {
            let recorded = Corpus::load_paths(&self.inputs)?;
            recorded.write_json_lines(&mut text);
        } else {
            Corpus::bundled().write_json_lines(&mut text);
        }
        let synth = synth::Synth::new(self.synth_seed, synth::SYNTH_START_MS, 1000.0);
        for ev in synth.iter(0..self.synth_events) {
            text.extend_from_slice(ev.json.as_bytes());
            text.push(b'\n');
        }
        Ok(Corpus::from_json_lines(Bytes::from(text)))
    }
}

/// Runs the replay server until SIGINT/SIGTERM.
pub async fn run(args: ReplayArgs) -> Result<(), ReplayError> {
    let corpus = Arc::new(args.corpus()?);
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|source| ReplayError::Bind {
            addr: args.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(ReplayError::Serve)?;
    for (stream, n) in corpus.per_stream() {
        tracing::info!(stream, events = n, "replaying");
    }
    if corpus.skipped > 0 {
        tracing::warn!(
            skipped = corpus.skipped,
            "inputs that are not events were skipped"
        );
    }
    println!("listening on http://{addr}");
    let shutdown = CancellationToken::new();
    crate::app::cancel_on_signals(shutdown.clone());
    serve(listener, corpus, args.options(), async move {
        shutdown.cancelled().await
    })
    .await
    .map_err(ReplayError::Serve)
}
