//! The HTTP side of the replay server: `GET /v2/stream/{streams}` as
//! EventStreams answers it, with pacing and injected faults.
//!
//! Each connection gets its own producer task that merges the requested
//! topics in time order and writes framed events into a bounded channel that
//! feeds the response body, so a slow client only slows itself.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::assignment::{self, Assigned, AssignmentError, Seek};
use super::corpus::{Corpus, DATACENTERS, Entry, canonical_stream};
use super::faults::{canary_event, oversized_event};
use super::options::{Pace, ReplayOptions};
use super::synth::Synth;
use crate::address_cap::AddressCap;

struct Shared {
    corpus: Arc<Corpus>,
    options: ReplayOptions,
    /// Synthetic live feed and its epoch (wall-clock ms of its event 0).
    live: Option<(Synth, i64, Instant)>,
    connections: AtomicU64,
    events_sent: AtomicU64,
    oversized_sent: AtomicBool,
    per_ip: Arc<AddressCap>,
    shutdown: CancellationToken,
}

/// Serves EventStreams over `corpus` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    corpus: Arc<Corpus>,
    options: ReplayOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = CancellationToken::new();
    let live = options.synth.map(|feed| {
        let start_ms = crate::clock::now_ms();
        (
            Synth::new(feed.seed, start_ms, feed.rate),
            start_ms,
            Instant::now(),
        )
    });
    let shared = Arc::new(Shared {
        corpus,
        per_ip: AddressCap::new(options.per_ip_limit.unwrap_or(usize::MAX)),
        options,
        live,
        connections: AtomicU64::new(0),
        events_sent: AtomicU64::new(0),
        oversized_sent: AtomicBool::new(false),
        shutdown: token.clone(),
    });
    let app = Router::new()
        .route("/", get(index))
        .route("/_info", get(index))
        .route("/v2/stream/{streams}", get(stream))
        .fallback(not_found)
        .with_state(shared);
    let stop = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { token.cancelled().await })
    .await
}

fn problem(status: StatusCode, kind: &str, title: &str, detail: String) -> Response {
    let body = serde_json::json!({
        "status": status.as_u16(),
        "type": kind,
        "title": title,
        "detail": detail,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    let streams: Vec<_> = shared
        .corpus
        .per_stream()
        .into_iter()
        .map(|(s, n)| serde_json::json!({"stream": s, "events": n}))
        .collect();
    axum::Json(serde_json::json!({
        "service": "wikiwatch replay-server",
        "routes": ["/v2/stream/{streams}"],
        "recorded": streams,
        "live_feed": shared.options.synth.map(|f| f.rate),
    }))
    .into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "not_found",
        "Not Found",
        format!("no route {}; streams are at /v2/stream/{{a,b}}", uri.path()),
    )
}

async fn stream(
    State(shared): State<Arc<Shared>>,
    Path(streams): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    // 1. Streams, by alias or canonical name.
    let mut canonical = Vec::new();
    let mut invalid = Vec::new();
    for name in streams.split(',').filter(|s| !s.is_empty()) {
        match canonical_stream(name) {
            Some(c) if !canonical.contains(&c) => canonical.push(c),
            Some(_) => {}
            None => invalid.push(name),
        }
    }
    if !invalid.is_empty() || canonical.is_empty() {
        return problem(
            StatusCode::BAD_REQUEST,
            "not_found",
            "Stream Not Found",
            format!("Invalid streams: {}", invalid.join(",")),
        );
    }

    // 2. Injected rejection.
    let n = shared.connections.fetch_add(1, Ordering::Relaxed) + 1;
    let faults = &shared.options.faults;
    if let Some(every) = faults.reject_every
        && every > 0
        && n % every == 0
    {
        let status =
            StatusCode::from_u16(faults.reject_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return problem(
            status,
            if status == StatusCode::TOO_MANY_REQUESTS {
                "too_many_requests"
            } else {
                "injected_fault"
            },
            status.canonical_reason().unwrap_or("Error"),
            format!("connection {n} rejected by --reject-every {every}"),
        );
    }

    // 3. Concurrent connections per client IP.
    let slot = match shared.per_ip.admit(peer.ip()) {
        Ok(slot) => slot,
        Err(count) => {
            return problem(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too Many Concurrent Connections From Your Client IP",
                format!("{} already has {count} connections open", peer.ip()),
            );
        }
    };

    // 4. Where to start: Last-Event-ID wins over since; otherwise "latest",
    // which for a replay is the start of the recording.
    let allowed: Vec<String> = canonical
        .iter()
        .flat_map(|s| DATACENTERS.iter().map(move |dc| format!("{dc}.{s}")))
        .collect();
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let assigned = if let Some(id) = last_event_id {
        match assignment::parse_last_event_id(id, &allowed) {
            Ok(a) => a,
            Err(e @ AssignmentError::Invalid(_)) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "invalid_assignment",
                    "Invalid Last-Event-ID",
                    e.to_string(),
                );
            }
            Err(e @ AssignmentError::TopicNotAvailable(_)) => {
                return problem(
                    StatusCode::NOT_FOUND,
                    "topic_not_available",
                    "Topic Not Available",
                    e.to_string(),
                );
            }
        }
    } else {
        let seek = match query.get("since") {
            Some(v) => match crate::event::parse_time_or_epoch_ms(v) {
                Some(ms) => Seek::Timestamp(ms),
                None => {
                    return problem(
                        StatusCode::BAD_REQUEST,
                        "invalid_timestamp",
                        "Invalid timestamp",
                        format!(
                            "since timestamp is not a UTC milliseconds unix epoch and was not parseable: '{v}'"
                        ),
                    );
                }
            },
            None => Seek::Offset(-1),
        };
        allowed
            .iter()
            .map(|topic| Assigned {
                topic: topic.clone(),
                partition: 0,
                seek,
            })
            .collect()
    };

    // 5. Framing, from Accept as KafkaSSE decides it.
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let ndjson = accept.is_some_and(|a| a.trim_start().starts_with("application/json"));
    let content_type = if ndjson {
        "application/json; charset=utf-8"
    } else if accept.is_some() {
        "text/event-stream; charset=utf-8"
    } else {
        "text/event-stream"
    };

    let (tx, mut rx) = mpsc::channel::<Bytes>(8);
    let producer = Producer::new(Arc::clone(&shared), assigned, ndjson);
    tokio::spawn(async move {
        let _slot = slot;
        producer.run(tx).await;
    });
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|b| b.map(Ok::<_, std::io::Error>))
    }));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// Writes one connection's events.
struct Producer {
    shared: Arc<Shared>,
    assigned: Vec<Assigned>,
    /// Each assignment element's JSON, updated as events go out.
    id_parts: Vec<String>,
    /// Next index per assigned topic, in the corpus.
    cursors: Vec<usize>,
    /// The initial seeks, used to place the live feed.
    initial: Vec<Assigned>,
    ndjson: bool,
    buf: Vec<u8>,
    sent: u64,
    prev_ts: Option<i64>,
    target: Instant,
}

/// Why a producer stopped writing.
enum Stop {
    ClientGone,
    Fault,
}

const FLUSH_BYTES: usize = 64 * 1024;

impl Producer {
    fn new(shared: Arc<Shared>, assigned: Vec<Assigned>, ndjson: bool) -> Producer {
        let cursors = assigned
            .iter()
            .map(|a| a.start_index(shared.corpus.topic(&a.topic)))
            .collect();
        let id_parts = assigned
            .iter()
            .map(|a| {
                let mut s = String::new();
                a.write_json(&mut s);
                s
            })
            .collect();
        Producer {
            shared,
            initial: assigned.clone(),
            assigned,
            id_parts,
            cursors,
            ndjson,
            buf: Vec::with_capacity(FLUSH_BYTES * 2),
            sent: 0,
            prev_ts: None,
            target: Instant::now(),
        }
    }

    fn id(&self) -> String {
        let mut s =
            String::with_capacity(self.id_parts.iter().map(|p| p.len() + 1).sum::<usize>() + 2);
        s.push('[');
        for (i, p) in self.id_parts.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(p);
        }
        s.push(']');
        s
    }

    async fn flush(&mut self, tx: &mpsc::Sender<Bytes>) -> Result<(), Stop> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(FLUSH_BYTES * 2),
        ));
        tokio::select! {
            r = tx.send(chunk) => r.map_err(|_| Stop::ClientGone),
            _ = self.shared.shutdown.cancelled() => Err(Stop::ClientGone),
        }
    }

    fn write(&mut self, event: &str, data: &[u8]) {
        if self.ndjson {
            self.buf.extend_from_slice(data);
            self.buf.push(b'\n');
        } else {
            let id = self.id();
            crate::sse::write_event(&mut self.buf, event, Some(&id), data);
        }
    }

    async fn run(mut self, tx: mpsc::Sender<Bytes>) {
        if self.ndjson {
            self.buf.push(b'\n');
        } else {
            self.buf.extend_from_slice(b":ok\n\n");
            if let Some(ms) = self.shared.options.faults.retry_ms {
                self.buf
                    .extend_from_slice(format!("retry: {ms}\n\n").as_bytes());
            }
        }
        let result = self.produce(&tx).await;
        if matches!(result, Err(Stop::Fault)) || result.is_ok() {
            let _ = self.flush(&tx).await;
        }
        if let Err(Stop::Fault) = result
            && self.shared.options.faults.stall_after_events.is_some()
            && self.stalled()
        {
            // Headers and bytes so far delivered; now silence until the
            // client gives up.
            tokio::select! {
                _ = tx.closed() => {}
                _ = self.shared.shutdown.cancelled() => {}
            }
        }
    }

    fn stalled(&self) -> bool {
        self.shared
            .options
            .faults
            .stall_after_events
            .is_some_and(|n| self.sent >= n)
    }

    /// The assigned topic whose next recorded event is earliest.
    fn next_recorded(&self) -> Option<(usize, &Entry)> {
        let mut best: Option<(usize, &Entry)> = None;
        for (k, a) in self.assigned.iter().enumerate() {
            if let Some(e) = self.shared.corpus.topic(&a.topic).get(self.cursors[k])
                && best.is_none_or(|(_, b)| e.ts_ms < b.ts_ms)
            {
                best = Some((k, e));
            }
        }
        best
    }

    async fn produce(&mut self, tx: &mpsc::Sender<Bytes>) -> Result<(), Stop> {
        while let Some((k, entry)) = self.next_recorded() {
            let (ts, stream, data) = (entry.ts_ms, entry.stream, entry.data.clone());
            self.before_event(tx, stream, ts).await?;
            self.cursors[k] += 1;
            self.assigned[k].seek = Seek::Timestamp(ts + 1);
            self.id_parts[k].clear();
            let part = &mut self.id_parts[k];
            self.assigned[k].write_json(part);
            self.write("message", &data);
            self.after_event(tx).await?;
        }
        if self.shared.live.is_some() {
            self.produce_live(tx).await?;
        }
        // Like the real service: the connection stays open, waiting for
        // events that a recording will never have.
        self.flush(tx).await?;
        tokio::select! {
            _ = tx.closed() => {}
            _ = self.shared.shutdown.cancelled() => {}
        }
        Ok(())
    }

    async fn produce_live(&mut self, tx: &mpsc::Sender<Bytes>) -> Result<(), Stop> {
        let shared = Arc::clone(&self.shared);
        let Some((synth, start_ms, epoch)) = shared.live.as_ref() else {
            return Ok(());
        };
        let (start_ms, epoch) = (*start_ms, *epoch);
        // Synthetic offsets continue each topic's recorded ones.
        let recorded_len: Vec<i64> = self
            .assigned
            .iter()
            .map(|a| self.shared.corpus.topic(&a.topic).len() as i64)
            .collect();
        let earliest_ts = self
            .initial
            .iter()
            .map(|a| match a.seek {
                Seek::Timestamp(t) => t,
                Seek::Offset(_) => i64::MIN,
            })
            .min()
            .unwrap_or(i64::MIN);
        let mut j = synth.first_at_or_after(earliest_ts);
        loop {
            let ev = synth.event(j);
            j += 1;
            let Some(k) = self.assigned.iter().position(|a| a.topic == ev.topic) else {
                continue;
            };
            let wanted = match self.initial[k].seek {
                Seek::Timestamp(t) => ev.dt_ms >= t,
                Seek::Offset(o) => o < 0 || ev.offset as i64 + recorded_len[k] >= o,
            };
            if !wanted {
                continue;
            }
            let due = epoch + Duration::from_millis((ev.dt_ms - start_ms).max(0) as u64);
            if due > Instant::now() {
                self.flush(tx).await?;
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => {}
                    _ = tx.closed() => return Err(Stop::ClientGone),
                    _ = self.shared.shutdown.cancelled() => return Err(Stop::ClientGone),
                }
            }
            self.before_event(tx, ev.stream, ev.dt_ms).await?;
            self.assigned[k].seek = Seek::Timestamp(ev.dt_ms + 1);
            self.id_parts[k].clear();
            let part = &mut self.id_parts[k];
            self.assigned[k].write_json(part);
            self.write("message", ev.json.as_bytes());
            self.after_event(tx).await?;
        }
    }

    /// Pacing and the faults that come before an event.
    async fn before_event(
        &mut self,
        tx: &mpsc::Sender<Bytes>,
        stream: &str,
        ts: i64,
    ) -> Result<(), Stop> {
        let faults = self.shared.options.faults.clone();
        if faults.close_after_events.is_some_and(|n| self.sent >= n) || self.stalled() {
            return Err(Stop::Fault);
        }
        if faults.error_after_events.is_some_and(|n| self.sent >= n) {
            let data = serde_json::json!({
                "message": "injected error (--error-after-events)",
                "status": 500,
            })
            .to_string();
            self.write("error", data.as_bytes());
            return Err(Stop::Fault);
        }
        // Counted over the whole server, so short connections still see them.
        let total = self.shared.events_sent.load(Ordering::Relaxed);
        if total > 0 && self.sent > 0 {
            if faults
                .canary_every
                .is_some_and(|n| n > 0 && total.is_multiple_of(n))
            {
                let canary = canary_event(stream, ts, total);
                self.write("message", canary.as_bytes());
            }
            if faults
                .malformed_every
                .is_some_and(|n| n > 0 && total.is_multiple_of(n))
            {
                self.write(
                    "message",
                    br#"{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"domain":"broken.example","id":"#,
                );
            }
        }
        if let Some(at) = faults.oversized_at
            && self.shared.events_sent.load(Ordering::Relaxed) >= at
            && !self.shared.oversized_sent.swap(true, Ordering::Relaxed)
        {
            let big = oversized_event(ts, faults.oversized_bytes);
            self.write("message", big.as_bytes());
        }
        // Pacing.
        let wait = match self.shared.options.pace {
            Pace::AsFastAsPossible => None,
            Pace::Scaled(f) => self.prev_ts.map(|prev| {
                let gap = Duration::from_millis((ts - prev).max(0) as u64)
                    .min(self.shared.options.max_gap);
                gap.div_f64(f)
            }),
            Pace::Rate(r) => Some(Duration::from_secs_f64(1.0 / r)),
        };
        self.prev_ts = Some(ts);
        if let Some(wait) = wait {
            let now = Instant::now();
            self.target = (self.target + wait).max(now - Duration::from_millis(100));
            if self.target > now {
                self.flush(tx).await?;
                tokio::select! {
                    _ = tokio::time::sleep_until(self.target) => {}
                    _ = tx.closed() => return Err(Stop::ClientGone),
                    _ = self.shared.shutdown.cancelled() => return Err(Stop::ClientGone),
                }
            }
        }
        Ok(())
    }

    async fn after_event(&mut self, tx: &mpsc::Sender<Bytes>) -> Result<(), Stop> {
        self.sent += 1;
        self.shared.events_sent.fetch_add(1, Ordering::Relaxed);
        if self.buf.len() >= FLUSH_BYTES {
            self.flush(tx).await?;
        }
        Ok(())
    }
}
