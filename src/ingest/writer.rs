//! The write stage: applies each batch with its position in one store
//! transaction, in order, retrying a failed write with backoff so nothing
//! read is ever dropped.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::commits::Commits;
use crate::store::{Batch, Store, StoreError, WriteOutcome};
use crate::telemetry::Telemetry;

use super::backoff::Backoff;

/// Failed attempts at one batch after which a writer whose input has closed
/// (the ingest is stopping) gives up and returns the error.
const MAX_ATTEMPTS_WHEN_STOPPING: u32 = 5;

/// Writes every batch from `batches` until the channel closes. Fails only when
/// stopping and a batch still cannot be written after
/// [`MAX_ATTEMPTS_WHEN_STOPPING`] attempts.
pub async fn run(
    mut batches: mpsc::Receiver<Batch>,
    store: Arc<dyn Store>,
    telemetry: Arc<Telemetry>,
    commits: Arc<Commits>,
) -> Result<(), StoreError> {
    while let Some(batch) = batches.recv().await {
        let mut attempt: u32 = 0;
        // Delays of 500 ms, doubling, up to 15 s.
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(15));
        // Shared, so a retry does not need a copy of every row made up front.
        let batch = Arc::new(batch);
        loop {
            let started = std::time::Instant::now();
            match store.write_batch(Arc::clone(&batch)).await {
                Ok(outcome) => {
                    committed(&telemetry, &commits, &batch, &outcome, started);
                    break;
                }
                Err(e) => {
                    telemetry.store_errors.fetch_add(1, Ordering::Relaxed);
                    telemetry.set_last_error(Some(format!("store: {e}")));
                    attempt += 1;
                    if batches.is_closed() && attempt >= MAX_ATTEMPTS_WHEN_STOPPING {
                        return Err(e);
                    }
                    let delay = backoff.next_delay();
                    tracing::error!(error = %e, attempt, retry_in_ms = delay.as_millis() as u64, "writing a batch failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
    Ok(())
}

/// Counts a committed batch, moves the position and wakes whoever waits for
/// committed rows.
fn committed(
    telemetry: &Telemetry,
    commits: &Commits,
    batch: &Batch,
    outcome: &WriteOutcome,
    started: std::time::Instant,
) {
    telemetry
        .store_write_micros
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    telemetry.batches_written.fetch_add(1, Ordering::Relaxed);
    for (counter, n) in [
        (&telemetry.events_committed, batch.events),
        (&telemetry.hashtag_edits_stored, outcome.hashtag_edits),
        (&telemetry.hashtag_uses_stored, outcome.hashtag_uses),
        (&telemetry.link_events_stored, outcome.link_events),
    ] {
        counter.fetch_add(n, Ordering::Relaxed);
    }
    // Moves the position and wakes the live link feeds: the rows are readable now.
    commits.committed(batch.position.as_deref());
}
