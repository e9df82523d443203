//! The read budget: how many requests that read the store in bulk (reports,
//! searches, exports, the pages built on them) run at once. The rest wait in
//! a bounded queue for a bounded time and are then refused with 503 and
//! `Retry-After`, so heavy readers cannot starve the ingest writer of the
//! machine or grow memory with every extra client. A request keeps its place
//! until its body has been sent, so a streamed export counts for as long as
//! it reads.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget's size.
#[derive(Debug, Clone)]
pub struct ReadBudgetLimits {
    /// Heavy requests running at once.
    pub concurrent: usize,
    /// Heavy requests waiting at once; more are refused at once.
    pub queued: usize,
    /// Longest wait in the queue.
    pub wait: Duration,
}

impl Default for ReadBudgetLimits {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        ReadBudgetLimits {
            concurrent: default_concurrency(cpus),
            queued: 256,
            wait: Duration::from_secs(10),
        }
    }
}

/// Twice the CPUs, at least 4.
pub fn default_concurrency(cpus: usize) -> usize {
    (2 * cpus).max(4)
}

pub struct ReadBudget {
    limits: ReadBudgetLimits,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// Why a heavy request was not run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    QueueFull { queued: usize },
    WaitedTooLong { waited: Duration },
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::QueueFull { queued } => write!(
                f,
                "the server is busy: {queued} heavy requests are already waiting; retry shortly"
            ),
            Refused::WaitedTooLong { waited } => write!(
                f,
                "the server is busy: this request waited {} s for its turn; retry shortly",
                waited.as_secs()
            ),
        }
    }
}

impl ReadBudget {
    pub fn new(limits: ReadBudgetLimits) -> Arc<ReadBudget> {
        Arc::new(ReadBudget {
            permits: Arc::new(Semaphore::new(limits.concurrent.max(1))),
            limits,
            waiting: AtomicUsize::new(0),
        })
    }

    /// Whether a request for `path` reads the store in bulk. Operational
    /// endpoints, static files, the live feeds and the small cached pages
    /// are not counted.
    pub fn is_heavy(path: &str) -> bool {
        let light = matches!(
            path,
            "/" | "/healthz" | "/metrics" | "/api/status" | "/api/openapi.json" | "/api/live/stats"
        ) || path.starts_with("/static/")
            || path.starts_with("/live")
            || path.starts_with("/v2/")
            || path.ends_with(".js")
            || path == "/hashtags/live";
        !light
            && (path.starts_with("/api/")
                || path.starts_with("/hashtags")
                || path.starts_with("/links"))
    }

    /// Waits for a place, or says why there is none.
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, Refused> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        let result = if queued >= self.limits.queued {
            Err(Refused::QueueFull { queued })
        } else {
            match tokio::time::timeout(self.limits.wait, Arc::clone(&self.permits).acquire_owned())
                .await
            {
                Ok(Ok(permit)) => Ok(permit),
                _ => Err(Refused::WaitedTooLong {
                    waited: self.limits.wait,
                }),
            }
        };
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        result
    }
}

/// A response body that holds its request's place in the budget until it
/// has been sent (or dropped).
pub struct HoldPlace {
    inner: Body,
    _place: OwnedSemaphorePermit,
}

impl HoldPlace {
    pub fn wrap(inner: Body, place: OwnedSemaphorePermit) -> Body {
        Body::new(HoldPlace {
            inner,
            _place: place,
        })
    }
}

impl http_body::Body for HoldPlace {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_paths_are_the_store_readers() {
        for heavy in [
            "/api/links/domains/doi.org",
            "/api/hashtags/edits",
            "/hashtags",
            "/hashtags/tag/wpwp",
            "/links/domain/doi.org",
            "/api/links/events",
        ] {
            assert!(ReadBudget::is_heavy(heavy), "{heavy}");
        }
        for light in [
            "/",
            "/healthz",
            "/metrics",
            "/api/status",
            "/static/uPlot.iife.min.js",
            "/live",
            "/v2/stream/links",
            "/v2/en",
            "/hashtags/live",
            "/api/live/stats",
        ] {
            assert!(!ReadBudget::is_heavy(light), "{light}");
        }
    }

    #[tokio::test]
    async fn past_the_budget_requests_wait_then_are_refused() {
        let budget = ReadBudget::new(ReadBudgetLimits {
            concurrent: 1,
            queued: 1,
            wait: Duration::from_millis(50),
        });
        let held = budget.admit().await.unwrap();
        assert_eq!(
            budget.admit().await.unwrap_err(),
            Refused::WaitedTooLong {
                waited: Duration::from_millis(50)
            }
        );
        drop(held);
        assert!(budget.admit().await.is_ok());
    }
}
