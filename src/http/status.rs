//! Operational endpoints: `/healthz`, `/api/status` and `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use super::error::ApiError;
use super::state::AppState;
use crate::clock::now_ms;
use crate::store::TableCount;
use crate::telemetry::StreamStatus;

pub async fn healthz() -> &'static str {
    "ok\n"
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub version: &'static str,
    pub backend: &'static str,
    /// `ingesting`, or `standby` while another process holds the ingest lease.
    pub role: &'static str,
    pub upstream: UpstreamStatus,
    /// The SSE id ingest would resume from.
    pub position: Option<String>,
    pub newest_event_time: Option<String>,
    pub lag_seconds: Option<f64>,
    pub events_per_second: f64,
    pub streams: Vec<StreamStatus>,
    pub counters: Counters,
    pub rows: Vec<TableCount>,
    /// Why the store could not be read just now (a database outage), if so;
    /// the status still answers, with the rows of the last good reading.
    pub store_error: Option<String>,
    pub started_at: String,
    pub uptime_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct UpstreamStatus {
    pub url: String,
    pub connected: bool,
    pub reconnects: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Counters {
    pub events: u64,
    pub malformed: u64,
    pub oversized: u64,
    pub canaries: u64,
    pub duplicates: u64,
    pub hashtags_too_long: u64,
    pub batches_written: u64,
    pub events_committed: u64,
    pub store_errors: u64,
    pub handler_panics: u64,
    pub requests_shed: u64,
}

pub async fn collect(state: &AppState) -> Result<Status, ApiError> {
    let t = &state.telemetry;
    let started = t.started_ms.load(Ordering::Relaxed);
    // An outage must show here, not turn the status page into an error.
    let (rows, store_error) = match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.store.table_counts(),
    )
    .await
    {
        Ok(Ok(rows)) => (rows, None),
        Ok(Err(e)) => (Vec::new(), Some(e.to_string())),
        Err(_) => (
            Vec::new(),
            Some("the store did not answer within 5 s".into()),
        ),
    };
    Ok(Status {
        version: env!("CARGO_PKG_VERSION"),
        backend: state.store.backend(),
        role: if t.ingesting.load(Ordering::Relaxed) {
            "ingesting"
        } else {
            "standby"
        },
        upstream: UpstreamStatus {
            url: state.upstream.clone(),
            connected: t.upstream_connected.load(Ordering::Relaxed),
            reconnects: t.reconnects.load(Ordering::Relaxed),
            last_error: t.last_error(),
        },
        position: state.commits.position(),
        newest_event_time: t.newest_event_ms().map(crate::event::format_ms),
        lag_seconds: t.lag_seconds(),
        events_per_second: t.events_per_second(),
        streams: t.streams(),
        counters: Counters {
            events: t.total_events(),
            malformed: t.malformed.load(Ordering::Relaxed),
            oversized: t.oversized.load(Ordering::Relaxed),
            canaries: t.canaries.load(Ordering::Relaxed),
            duplicates: t.duplicates.load(Ordering::Relaxed),
            hashtags_too_long: t.hashtags_too_long.load(Ordering::Relaxed),
            batches_written: t.batches_written.load(Ordering::Relaxed),
            events_committed: t.events_committed.load(Ordering::Relaxed),
            store_errors: t.store_errors.load(Ordering::Relaxed),
            handler_panics: t.handler_panics.load(Ordering::Relaxed),
            requests_shed: t.requests_shed.load(Ordering::Relaxed),
        },
        rows,
        store_error,
        started_at: crate::event::format_ms(started),
        uptime_seconds: (now_ms() - started) as f64 / 1000.0,
    })
}

pub async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    Ok(Json(collect(&state).await?))
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let s = collect(&state).await?;
    let mut out = String::new();
    let streams: Vec<(String, f64)> = s
        .streams
        .iter()
        .map(|st| (format!("{{stream=\"{}\"}}", st.stream), st.events as f64))
        .collect();
    metric(
        &mut out,
        "wikiwatch_events_total",
        "counter",
        "Events received, by stream.",
        &streams,
    );
    let c = &s.counters;
    for (name, help, v) in [
        (
            "wikiwatch_malformed_events_total",
            "Events skipped because they were not valid JSON events.",
            c.malformed,
        ),
        (
            "wikiwatch_oversized_events_total",
            "Events skipped for exceeding the size cap.",
            c.oversized,
        ),
        (
            "wikiwatch_canary_events_total",
            "Canary events dropped.",
            c.canaries,
        ),
        (
            "wikiwatch_duplicate_events_total",
            "Events dropped as already seen (by meta.id).",
            c.duplicates,
        ),
        (
            "wikiwatch_hashtags_too_long_total",
            "Hashtag candidates rejected for length.",
            c.hashtags_too_long,
        ),
        (
            "wikiwatch_batches_written_total",
            "Batches committed to the store.",
            c.batches_written,
        ),
        (
            "wikiwatch_store_errors_total",
            "Failed store writes (each retried).",
            c.store_errors,
        ),
        (
            "wikiwatch_http_handler_panics_total",
            "HTTP requests whose handler panicked (each answered 500).",
            c.handler_panics,
        ),
        (
            "wikiwatch_http_requests_shed_total",
            "Heavy HTTP requests refused with 503 for want of read budget.",
            c.requests_shed,
        ),
        (
            "wikiwatch_upstream_reconnects_total",
            "Upstream connections opened after the first.",
            s.upstream.reconnects,
        ),
    ] {
        metric(
            &mut out,
            name,
            "counter",
            help,
            &[(String::new(), v as f64)],
        );
    }
    metric(
        &mut out,
        "wikiwatch_upstream_connected",
        "gauge",
        "1 while connected to the upstream.",
        &[(String::new(), if s.upstream.connected { 1.0 } else { 0.0 })],
    );
    if let Some(lag) = s.lag_seconds {
        metric(
            &mut out,
            "wikiwatch_lag_seconds",
            "gauge",
            "Seconds between now and the newest event ingested.",
            &[(String::new(), lag)],
        );
    }
    let rates: Vec<(String, f64)> = s
        .streams
        .iter()
        .map(|st| {
            (
                format!("{{stream=\"{}\"}}", st.stream),
                st.events_per_second,
            )
        })
        .collect();
    metric(
        &mut out,
        "wikiwatch_events_per_second",
        "gauge",
        "Events per second over the last minute, by stream.",
        &rates,
    );
    let rows: Vec<(String, f64)> = s
        .rows
        .iter()
        .map(|r| (format!("{{table=\"{}\"}}", r.table), r.rows as f64))
        .collect();
    metric(
        &mut out,
        "wikiwatch_rows",
        "gauge",
        "Rows stored, by table.",
        &rows,
    );
    live_metrics(&mut out, &state.live.counters());
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    ))
}

fn live_metrics(out: &mut String, c: &crate::live::LiveCounters) {
    for (name, kind, help, v) in [
        (
            "wikiwatch_live_subscribers",
            "gauge",
            "Live-feed subscribers connected (WebSocket, SSE and WikiMon).",
            c.subscribers as f64,
        ),
        (
            "wikiwatch_live_published_total",
            "counter",
            "Messages published to the live feeds.",
            c.published as f64,
        ),
        (
            "wikiwatch_live_dropped_messages_total",
            "counter",
            "Messages a subscriber missed because its queue was full.",
            c.dropped_messages as f64,
        ),
        (
            "wikiwatch_live_disconnected_slow_subscribers_total",
            "counter",
            "Subscribers disconnected for staying behind.",
            c.disconnected_slow_subscribers as f64,
        ),
        (
            "wikiwatch_live_hub_missed_events_total",
            "counter",
            "Events the live hub missed because it fell behind the ingest.",
            c.hub_missed_events as f64,
        ),
        (
            "wikiwatch_live_refused_per_ip_total",
            "counter",
            "Connections refused by the per-IP cap.",
            c.refused_per_ip as f64,
        ),
        (
            "wikiwatch_live_resume_window_messages",
            "gauge",
            "Messages held for resuming clients.",
            c.resume_window_messages as f64,
        ),
    ] {
        metric(out, name, kind, help, &[(String::new(), v)]);
    }
}
