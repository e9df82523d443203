//! The upstream client: one long-lived HTTP connection to EventStreams,
//! reconnected forever.
//!
//! It sends a descriptive User-Agent (Wikimedia's policy; a generic one gets
//! HTTP 403), resumes with `Last-Event-ID` (or `since` when there is no
//! position), reconnects with capped exponential backoff and jitter after any
//! failure (connection errors, 429, 5xx and other statuses alike), honours the
//! server's `retry:` field, and forces a reconnect when no byte arrives for the
//! idle timeout. Parsed SSE items go to the pipeline in chunks; this task never
//! waits on anything but the network and the pipeline's bounded channel.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::sse::{SseItem, SseParser};
use crate::telemetry::Telemetry;

use super::backoff::Backoff;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub url: String,
    pub user_agent: String,
    pub idle_timeout: Duration,
    pub backoff_max: Duration,
    pub max_event_bytes: usize,
    /// Start time used only when there is no position.
    pub since_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot build the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// Why one connection ended.
#[derive(Debug)]
enum Ended {
    Shutdown,
    PipelineGone,
    Failed(String),
}

/// Streams from the upstream until `shutdown`, reconnecting as needed. Each
/// message on `out` is the items parsed from one network chunk.
pub async fn run(
    options: ClientOptions,
    start_position: Option<String>,
    out: mpsc::Sender<Vec<SseItem>>,
    telemetry: Arc<Telemetry>,
    shutdown: CancellationToken,
) -> Result<(), ClientError> {
    let client = reqwest::Client::builder()
        .user_agent(options.user_agent.clone())
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    let mut last_id = start_position;
    let mut backoff = Backoff::jittered(Duration::from_secs(1), options.backoff_max);
    let mut connections: u64 = 0;
    loop {
        if connections > 0 {
            telemetry.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        connections += 1;
        let mut delivered = false;
        let ended = connect_once(
            &client,
            &options,
            &mut last_id,
            &mut backoff,
            &mut delivered,
            &out,
            &telemetry,
            &shutdown,
        )
        .await;
        telemetry.upstream_connected.store(false, Ordering::Relaxed);
        match ended {
            Ended::Shutdown | Ended::PipelineGone => return Ok(()),
            Ended::Failed(reason) => {
                if delivered {
                    backoff.reset();
                }
                let delay = backoff.next_delay();
                tracing::warn!(%reason, retry_in_ms = delay.as_millis() as u64, "upstream connection ended");
                telemetry.set_last_error(Some(reason));
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn connect_once(
    client: &reqwest::Client,
    options: &ClientOptions,
    last_id: &mut Option<String>,
    backoff: &mut Backoff,
    delivered: &mut bool,
    out: &mpsc::Sender<Vec<SseItem>>,
    telemetry: &Telemetry,
    shutdown: &CancellationToken,
) -> Ended {
    let mut url = match url::Url::parse(&options.url) {
        Ok(u) => u,
        Err(e) => return Ended::Failed(format!("invalid upstream URL {}: {e}", options.url)),
    };
    if let (None, Some(since)) = (last_id.as_deref(), options.since_ms) {
        url.query_pairs_mut()
            .append_pair("since", &since.to_string());
    }
    let mut request = client
        .get(url)
        .header(reqwest::header::ACCEPT, "text/event-stream");
    if let Some(id) = last_id.as_deref() {
        request = request.header("Last-Event-ID", id);
    }
    let response = tokio::select! {
        _ = shutdown.cancelled() => return Ended::Shutdown,
        r = request.send() => match r {
            Ok(r) => r,
            Err(e) => return Ended::Failed(format!("cannot connect to {}: {e}", options.url)),
        },
    };
    let status = response.status();
    if !status.is_success() {
        let body = tokio::time::timeout(Duration::from_secs(5), response.text())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let body: String = body.chars().take(300).collect();
        return Ended::Failed(format!("upstream answered HTTP {status}: {body}"));
    }
    telemetry.upstream_connected.store(true, Ordering::Relaxed);
    telemetry.set_last_error(None);
    tracing::info!(url = %options.url, resume = last_id.is_some(), "connected to upstream");

    let mut parser = SseParser::new(options.max_event_bytes);
    let mut body = response.bytes_stream();
    loop {
        let chunk = tokio::select! {
            _ = shutdown.cancelled() => return Ended::Shutdown,
            c = tokio::time::timeout(options.idle_timeout, body.next()) => c,
        };
        let bytes = match chunk {
            Err(_) => {
                return Ended::Failed(format!(
                    "no bytes for {} s; reconnecting",
                    options.idle_timeout.as_secs()
                ));
            }
            Ok(None) => return Ended::Failed("upstream closed the stream".into()),
            Ok(Some(Err(e))) => return Ended::Failed(format!("reading the stream failed: {e}")),
            Ok(Some(Ok(b))) => b,
        };
        let mut items = Vec::new();
        parser.feed(&bytes, &mut items);
        if items.is_empty() {
            continue;
        }
        for item in &items {
            match item {
                SseItem::Retry(ms) => backoff.set_base(Duration::from_millis((*ms).max(100))),
                SseItem::Event(e) => {
                    *delivered = true;
                    if e.id.is_some() {
                        last_id.clone_from(&e.id);
                    }
                }
                SseItem::Oversized { id, .. } => {
                    if id.is_some() {
                        last_id.clone_from(id);
                    }
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ended::Shutdown,
            sent = out.send(items) => if sent.is_err() { return Ended::PipelineGone },
        }
    }
}
