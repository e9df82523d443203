//! Ingest: from the upstream byte stream to committed batches.
//!
//! Three stages connected by bounded channels, so a slow stage slows the one
//! before it instead of growing memory:
//!
//! 1. [`client`] reads EventStreams and parses SSE;
//! 2. [`pipeline`] decodes, filters and turns events into store operations,
//!    cutting a batch every `batch_events` events or `batch_max` time;
//! 3. [`writer`] applies each batch with its position in one transaction,
//!    retrying with [`backoff`] when the store fails, so nothing is lost.
//!
//! Normalised events are also offered to live subscribers through a broadcast
//! channel, which never makes ingest wait.

pub mod backoff;
pub mod client;
mod dedupe;
mod pairing;
pub mod pipeline;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::commits::Commits;
use crate::config::Settings;
use crate::event::Event;
use crate::store::{Batch, Store, StoreError};
use crate::telemetry::Telemetry;

pub use client::ClientOptions;
pub use pipeline::{Pipeline, PipelineOptions};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Client(#[from] client::ClientError),
    #[error("could not read the stored position: {0}")]
    Position(StoreError),
    #[error("an ingest task failed: {0}")]
    Store(StoreError),
}

/// Everything the ingest needs, derived from [`Settings`].
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub client: ClientOptions,
    pub pipeline: PipelineOptions,
    pub batch_max: Duration,
}

impl IngestOptions {
    pub fn from_settings(s: &Settings) -> Self {
        IngestOptions {
            client: ClientOptions {
                url: s.upstream.clone(),
                user_agent: s.user_agent.clone(),
                idle_timeout: s.idle_timeout,
                backoff_max: s.backoff_max,
                max_event_bytes: s.max_event_bytes,
                since_ms: s.since_ms,
            },
            pipeline: PipelineOptions {
                rules: s.rules.clone(),
                hashtags_include_bots: s.hashtags_include_bots,
                hashtags_include_wikidata: s.hashtags_include_wikidata,
                batch_events: s.batch_events,
            },
            batch_max: s.batch_max,
        }
    }
}

/// Runs the ingest until `shutdown`, then writes the pending batch and
/// returns. `live` receives every normalised event, if given.
pub async fn run(
    options: IngestOptions,
    store: Arc<dyn Store>,
    telemetry: Arc<Telemetry>,
    commits: Arc<Commits>,
    shutdown: CancellationToken,
    live: Option<broadcast::Sender<Arc<Event>>>,
) -> Result<(), IngestError> {
    let position = store.position().await.map_err(IngestError::Position)?;
    commits.resume_from(position.clone());
    match &position {
        Some(p) => tracing::info!(position = %p, "resuming from the stored position"),
        None => match options.client.since_ms {
            Some(ms) => {
                tracing::info!(since = %crate::event::format_ms(ms), "no stored position; starting at --since")
            }
            None => tracing::info!("no stored position; starting at now"),
        },
    }

    let (items_tx, items_rx) = mpsc::channel(64);
    let (batches_tx, batches_rx) = mpsc::channel::<Batch>(2);

    // The client stops on shutdown; the later stages stop when their input
    // closes, so everything already read is written before we return.
    let client = tokio::spawn(client::run(
        options.client.clone(),
        position,
        items_tx,
        Arc::clone(&telemetry),
        shutdown.clone(),
    ));
    let decoder = tokio::spawn(pipeline::run(
        Pipeline::new(options.pipeline.clone()),
        options.batch_max,
        items_rx,
        batches_tx,
        Arc::clone(&telemetry),
        live,
    ));
    let writer = tokio::spawn(writer::run(
        batches_rx,
        store,
        Arc::clone(&telemetry),
        commits,
        shutdown.clone(),
    ));

    let client_result = client.await;
    let _ = decoder.await;
    writer
        .await
        .map_err(|e| IngestError::Store(StoreError::Task(e.to_string())))?;
    match client_result {
        Ok(r) => r.map_err(IngestError::from),
        Err(e) => Err(IngestError::Store(StoreError::Task(e.to_string()))),
    }
}
