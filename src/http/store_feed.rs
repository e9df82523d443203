//! The one store-backed feed mechanism of the hashtag and link feeds: a
//! [`Source`] reads what was committed after its mark, and [`follow`] asks
//! it again as soon as this process's ingest announces a committed batch
//! ([`crate::commits::Commits::committed`]), and every [`POLL`] anyway (a
//! standby process sharing a PostgreSQL database hears no announcement from
//! the ingesting one). The feeds therefore carry exactly what is committed,
//! in commit order.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::Stream;

use crate::address_cap::IpGuard;
use crate::commits::Commits;
use crate::store::StoreError;

/// How often a feed reads the store when no commit is announced.
pub const POLL: Duration = Duration::from_secs(1);
/// How long a feed waits after a failed read before reading again.
const RETRY: Duration = Duration::from_secs(1);

/// Where a feed reads from.
pub trait Source: Send + 'static {
    type Item: Send + 'static;

    /// Appends what was committed since the last call to `out`, oldest
    /// first, and moves the mark past it.
    fn fill(
        &mut self,
        out: &mut VecDeque<Self::Item>,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

/// The items of `source`, read when a batch is committed (or every
/// [`POLL`]); a failed read is logged and retried. `place` is the client's
/// place in the per-address cap of long-lived connections, held as long as
/// the feed.
pub fn follow<S: Source>(
    commits: &Commits,
    source: S,
    place: IpGuard,
) -> impl Stream<Item = S::Item> + use<S> {
    let mut wake = commits.subscribe();
    // Seen before the first read, so a commit landing during it wakes the
    // feed again rather than being missed.
    wake.mark_unchanged();
    futures_util::stream::unfold(
        (source, wake, VecDeque::new(), place),
        |(mut source, mut wake, mut ready, place)| async move {
            loop {
                if let Some(item) = ready.pop_front() {
                    return Some((item, (source, wake, ready, place)));
                }
                if let Err(e) = source.fill(&mut ready).await {
                    tracing::warn!(error = %e, "feed query failed; retrying");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
                if ready.is_empty()
                    && let Ok(Err(_)) = tokio::time::timeout(POLL, wake.changed()).await
                {
                    // No commit bus any more: poll only.
                    tokio::time::sleep(POLL).await;
                }
            }
        },
    )
}
