//! The write stage: applies each batch with its position in one store
//! transaction, in order, retrying a failed write with backoff for as long as
//! the process runs, so nothing read is ever dropped. When asked to stop while
//! a write keeps failing it stops at once without the batch: its events were
//! never committed, so the next start reads them again from the stored
//! position.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::commits::Commits;
use crate::store::{Batch, Store, StoreError, WriteOutcome};
use crate::telemetry::Telemetry;

use super::backoff::Backoff;

/// Failed attempts at one batch, once asked to stop, before stopping without
/// it; with [`RETRY_WHILE_STOPPING`] between them a stop takes about a second.
const ATTEMPTS_WHILE_STOPPING: u32 = 4;
const RETRY_WHILE_STOPPING: Duration = Duration::from_millis(300);
/// How long a write may still take once asked to stop.
const WRITE_GRACE_WHEN_STOPPING: Duration = Duration::from_secs(5);

/// Writes every batch from `batches` until the channel closes, or until
/// `stop` is cancelled while a write is failing.
pub async fn run(
    mut batches: mpsc::Receiver<Batch>,
    store: Arc<dyn Store>,
    telemetry: Arc<Telemetry>,
    commits: Arc<Commits>,
    stop: CancellationToken,
) {
    while let Some(batch) = batches.recv().await {
        let mut attempt: u32 = 0;
        let mut attempts_while_stopping: u32 = 0;
        // Delays of 500 ms, doubling, up to 15 s.
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(15));
        // Shared, so a retry does not need a copy of every row made up front.
        let batch = Arc::new(batch);
        loop {
            let started = std::time::Instant::now();
            let written = tokio::select! {
                written = store.write_batch(Arc::clone(&batch)) => written,
                // A write that hangs (a stopped database server) must not
                // hold up a stop: abandoning it is safe, because the rows and
                // the position commit together or not at all.
                _ = grace_after(&stop, WRITE_GRACE_WHEN_STOPPING) => {
                    let e = StoreError::Task(format!(
                        "a write still had not finished {} s after the stop",
                        WRITE_GRACE_WHEN_STOPPING.as_secs()
                    ));
                    give_up(&mut batches, batch.events, &e);
                    return;
                }
            };
            match written {
                Ok(outcome) => {
                    committed(&telemetry, &commits, &batch, &outcome, started);
                    break;
                }
                Err(e) => {
                    telemetry.store_errors.fetch_add(1, Ordering::Relaxed);
                    telemetry.set_last_error(Some(format!("store: {e}")));
                    attempt += 1;
                    if stop.is_cancelled() {
                        attempts_while_stopping += 1;
                        if attempts_while_stopping >= ATTEMPTS_WHILE_STOPPING {
                            give_up(&mut batches, batch.events, &e);
                            return;
                        }
                        tokio::time::sleep(RETRY_WHILE_STOPPING).await;
                        continue;
                    }
                    let delay = backoff.next_delay();
                    tracing::error!(error = %e, attempt, retry_in_ms = delay.as_millis() as u64, "writing a batch failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop.cancelled() => {}
                    }
                }
            }
        }
    }
}

/// Returns `grace` after `stop` is cancelled.
async fn grace_after(stop: &CancellationToken, grace: Duration) {
    stop.cancelled().await;
    tokio::time::sleep(grace).await;
}

/// Stops without the failing batch and whatever is still queued behind it.
fn give_up(batches: &mut mpsc::Receiver<Batch>, failing_events: u64, error: &StoreError) {
    batches.close();
    let mut events = failing_events;
    while let Ok(queued) = batches.try_recv() {
        events += queued.events;
    }
    tracing::warn!(
        error = %error,
        uncommitted_events = events,
        "stopping while the store cannot be written; these events were not committed and are read again from the stored position on the next start"
    );
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
