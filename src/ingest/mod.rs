//! Ingest: from the upstream byte stream to committed batches.
//!
//! Three stages connected by bounded channels, so a slow stage slows the one
//! before it instead of growing memory:
//!
//! 1. [`client`] reads EventStreams and parses SSE;
//! 2. [`pipeline`] decodes, filters and turns events into store operations,
//!    cutting a batch every `batch_events` events or `batch_max` time;
//! 3. the writer applies each batch with its position in one transaction,
//!    retrying with backoff when the store fails, so nothing is lost.
//!
//! Normalised events are also offered to live subscribers through a broadcast
//! channel, which never makes ingest wait.

pub mod client;
mod dedupe;
mod pairing;
pub mod pipeline;

use std::sync::Arc;
use std::sync::atomic::Ordering;
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
    #[error("could not write to the store, even after retrying: {0}")]
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
    let decoder = tokio::spawn(decode(
        Pipeline::new(options.pipeline.clone()),
        options.batch_max,
        items_rx,
        batches_tx,
        Arc::clone(&telemetry),
        live,
    ));
    let writer = tokio::spawn(write(batches_rx, store, Arc::clone(&telemetry), commits));

    let client_result = client.await;
    let _ = decoder.await;
    let write_result = writer
        .await
        .map_err(|e| IngestError::Store(StoreError::Task(e.to_string())))?;
    write_result?;
    match client_result {
        Ok(r) => r.map_err(IngestError::from),
        Err(e) => Err(IngestError::Store(StoreError::Task(e.to_string()))),
    }
}

async fn decode(
    mut pipeline: Pipeline,
    batch_max: Duration,
    mut items: mpsc::Receiver<Vec<crate::sse::SseItem>>,
    batches: mpsc::Sender<Batch>,
    telemetry: Arc<Telemetry>,
    live: Option<broadcast::Sender<Arc<Event>>>,
) {
    loop {
        let deadline = [
            pipeline.batch_started().map(|t| t + batch_max),
            pipeline.hold_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(tokio::time::Instant::from_std);
        let received = match deadline {
            Some(d) => tokio::select! {
                r = items.recv() => Some(r),
                _ = tokio::time::sleep_until(d) => None,
            },
            None => Some(items.recv().await),
        };
        match received {
            // The batch's (or a held event's) time is up.
            None => pipeline.expire_held(std::time::Instant::now()),
            // The client has stopped: flush everything, held events too, and finish.
            Some(None) => {
                pipeline.release_all();
                if let Some(b) = pipeline.take_batch() {
                    let _ = batches.send(b).await;
                }
                return;
            }
            Some(Some(chunk)) => {
                for item in chunk {
                    let event = pipeline.handle(item, &telemetry);
                    if let (Some(live), Some(event)) = (&live, event)
                        && live.receiver_count() > 0
                    {
                        let _ = live.send(Arc::new(event));
                    }
                    if pipeline.batch_full()
                        && let Some(b) = pipeline.take_batch()
                        && batches.send(b).await.is_err()
                    {
                        return;
                    }
                }
                continue;
            }
        }
        if let Some(b) = pipeline.take_batch()
            && batches.send(b).await.is_err()
        {
            return;
        }
    }
}

async fn write(
    mut batches: mpsc::Receiver<Batch>,
    store: Arc<dyn Store>,
    telemetry: Arc<Telemetry>,
    commits: Arc<Commits>,
) -> Result<(), IngestError> {
    const MAX_ATTEMPTS_WHEN_STOPPING: u32 = 5;
    while let Some(batch) = batches.recv().await {
        let mut attempt: u32 = 0;
        // Shared, so a retry does not need a copy of every row made up front.
        let batch = Arc::new(batch);
        loop {
            let started = std::time::Instant::now();
            match store.write_batch(Arc::clone(&batch)).await {
                Ok(outcome) => {
                    telemetry
                        .store_write_micros
                        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                    telemetry.batches_written.fetch_add(1, Ordering::Relaxed);
                    telemetry
                        .events_committed
                        .fetch_add(batch.events, Ordering::Relaxed);
                    telemetry
                        .hashtag_edits_stored
                        .fetch_add(outcome.hashtag_edits, Ordering::Relaxed);
                    telemetry
                        .hashtag_uses_stored
                        .fetch_add(outcome.hashtag_uses, Ordering::Relaxed);
                    telemetry
                        .link_events_stored
                        .fetch_add(outcome.link_events, Ordering::Relaxed);
                    // Wakes the live link feeds: the rows are readable now.
                    commits.committed(batch.position.as_deref());
                    break;
                }
                Err(e) => {
                    telemetry.store_errors.fetch_add(1, Ordering::Relaxed);
                    telemetry.set_last_error(Some(format!("store: {e}")));
                    attempt += 1;
                    if batches.is_closed() && attempt >= MAX_ATTEMPTS_WHEN_STOPPING {
                        return Err(IngestError::Store(e));
                    }
                    let delay = client::backoff_delay(
                        attempt.min(6),
                        Duration::from_millis(250),
                        Duration::from_secs(15),
                        1.0,
                    );
                    tracing::error!(error = %e, attempt, retry_in_ms = delay.as_millis() as u64, "writing a batch failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
    Ok(())
}
