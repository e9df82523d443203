//! EventStreams-compatible SSE feeds of the link log:
//!
//! - `/v2/stream/links`: every link event the filters select;
//! - `/v2/stream/new-urls`: each target URL (wrappers unwrapped) the first
//!   time it is added anywhere.
//!
//! Framing is EventStreams': `event: message`, `id: [{"topic":…,
//! "partition":0,"offset":N}]`, `data: {json}`. The offset is the link event's
//! id in the store, so `Last-Event-ID` resumes from the store for as far back
//! as it holds. `?granularity=link` (default) sends one message per link,
//! `?granularity=edit` one per source event with its links grouped. The feeds
//! follow the store, so they carry exactly what is committed, in commit
//! order: each feed reads it when this process's ingest announces a
//! committed batch ([`crate::commits::Commits::committed`]), and every
//! second anyway (a standby process sharing a PostgreSQL database hears no
//! announcement from the ingesting one).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::links::{Params, parse_filter};
use super::{ApiError, AppState};
use crate::links::filter::LinkFilter;
use crate::links::report::LinkEventRow;

/// How often a feed reads the store when no commit is announced.
const POLL: Duration = Duration::from_secs(1);
const PAGE: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Granularity {
    Link,
    Edit,
}

fn topic(first_seen: bool) -> &'static str {
    if first_seen {
        "wikiwatch.new-urls"
    } else {
        "wikiwatch.links"
    }
}

fn event_id(first_seen: bool, offset: i64) -> String {
    json!([{"topic": topic(first_seen), "partition": 0, "offset": offset}]).to_string()
}

/// The store offset in a `Last-Event-ID`: our JSON form, or a bare number.
fn parse_last_event_id(v: &str) -> Result<i64, ApiError> {
    let v = v.trim();
    if let Ok(n) = v.parse::<i64>() {
        return Ok(n);
    }
    let bad = || {
        ApiError::bad(
            "Last-Event-ID",
            "not an id from this feed: pass the id: line of the last message unchanged",
        )
    };
    let parsed: Value = serde_json::from_str(v).map_err(|_| bad())?;
    parsed
        .as_array()
        .and_then(|a| a.iter().find_map(|e| e.get("offset")?.as_i64()))
        .ok_or_else(bad)
}

fn meta(row: &LinkEventRow, first_seen: bool) -> Value {
    json!({
        "id": format!("{}-{}", row.meta_id, row.id),
        "dt": row.time,
        "domain": row.wiki_domain,
        "stream": topic(first_seen),
        "topic": topic(first_seen),
        "partition": 0,
        "offset": row.id,
    })
}

fn link_message(row: &LinkEventRow, first_seen: bool) -> Value {
    let mut v = serde_json::to_value(row).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.insert("$schema".into(), json!("/wikiwatch/link-event/1.0.0"));
        o.insert("meta".into(), meta(row, first_seen));
        o.insert("source_meta_id".into(), json!(row.meta_id));
    }
    v
}

fn link_brief(row: &LinkEventRow) -> Value {
    json!({
        "action": row.action,
        "link": row.url,
        "raw": row.raw,
        "target": row.target,
        "host": row.host,
        "domain": row.domain,
        "wrapper_kind": row.wrapper_kind,
    })
}

/// One message per source event (rows of one event are consecutive ids).
fn edit_message(rows: &[LinkEventRow], first_seen: bool) -> Option<Value> {
    let first = rows.first()?;
    let last = rows.last()?;
    let added: Vec<Value> = rows
        .iter()
        .filter(|r| r.action == "added" || r.action == "page_restored")
        .map(link_brief)
        .collect();
    let removed: Vec<Value> = rows
        .iter()
        .filter(|r| r.action == "removed" || r.action == "page_deleted")
        .map(link_brief)
        .collect();
    let kind = match first.action.as_str() {
        "page_deleted" | "page_restored" => first.action.as_str(),
        _ => "edit",
    };
    Some(json!({
        "$schema": "/wikiwatch/link-change/1.0.0",
        "meta": meta(last, first_seen),
        "source_meta_id": first.meta_id,
        "kind": kind,
        "wiki": first.wiki,
        "page_id": first.page_id,
        "page_title": first.page_title,
        "page_namespace": first.page_namespace,
        "rev_id": first.rev_id,
        "rc_id": first.rc_id,
        "provenance": first.provenance,
        "performer": first.performer,
        "performer_bot": first.performer_bot,
        "editor_kind": first.editor_kind,
        "added_links": added,
        "removed_links": removed,
    }))
}

struct FeedState {
    state: AppState,
    filter: LinkFilter,
    first_seen: bool,
    granularity: Granularity,
    after: i64,
    ready: VecDeque<(i64, Value)>,
    /// Wakes after each batch this process commits.
    commits: tokio::sync::watch::Receiver<u64>,
}

impl FeedState {
    /// Fetches the next committed rows into `ready`.
    async fn fill(&mut self) -> Result<(), ApiError> {
        // Ids become visible in increasing order (one writer), so when the
        // page is not full, nothing at or below `max` is left to send.
        let max = self.state.store.link_max_id().await?;
        let rows = self
            .state
            .store
            .link_events_after(&self.filter, self.after, PAGE, self.first_seen)
            .await?;
        let Some(last) = rows.last() else {
            self.after = self.after.max(max);
            return Ok(());
        };
        match self.granularity {
            Granularity::Link => {
                self.after = last.id;
                for r in &rows {
                    self.ready
                        .push_back((r.id, link_message(r, self.first_seen)));
                }
                if rows.len() < PAGE {
                    self.after = self.after.max(max);
                }
            }
            Granularity::Edit => {
                let full = rows.len() == PAGE;
                let mut groups: Vec<&[LinkEventRow]> =
                    rows.chunk_by(|a, b| a.meta_id == b.meta_id).collect();
                // A full page may have cut the last event's rows; fetch them next time.
                if full && groups.len() > 1 {
                    groups.pop();
                }
                for g in groups {
                    if let Some(m) = edit_message(g, self.first_seen)
                        && let Some(l) = g.last()
                    {
                        self.after = l.id;
                        self.ready.push_back((l.id, m));
                    }
                }
            }
        }
        Ok(())
    }
}

async fn feed(
    state: AppState,
    headers: HeaderMap,
    q: Option<String>,
    first_seen: bool,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let mut filter = parse_filter(&p)?;
    // Feeds carry every provenance unless asked otherwise.
    if !p.has("provenance") {
        filter.provenances.clear();
    }
    let granularity = match p.one("granularity").unwrap_or("link") {
        "link" => Granularity::Link,
        "edit" => Granularity::Edit,
        v => {
            return Err(ApiError::bad(
                "granularity",
                format!("{v:?}: use link or edit"),
            ));
        }
    };
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| p.one("last_event_id").map(str::to_owned));
    let after = if let Some(id) = last_id {
        parse_last_event_id(&id)?
    } else if let Some(since) = p.one("since") {
        let ms = crate::config::parse_since(since)
            .map_err(|_| ApiError::bad("since", "use an ISO-8601 time or epoch milliseconds"))?;
        state.store.link_id_before_time(ms).await?
    } else {
        state.store.link_max_id().await?
    };
    let mut commits = state.commits.subscribe();
    commits.mark_unchanged();
    let st = FeedState {
        state,
        commits,
        filter,
        first_seen,
        granularity,
        after,
        ready: VecDeque::new(),
    };
    let stream = futures_util::stream::unfold(st, move |mut st| async move {
        loop {
            if let Some((id, msg)) = st.ready.pop_front() {
                let ev = SseEvent::default()
                    .event("message")
                    .id(event_id(st.first_seen, id))
                    .data(msg.to_string());
                return Some((Ok::<_, Infallible>(ev), st));
            }
            if let Err(e) = st.fill().await {
                tracing::warn!(error = %e, "link feed query failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            if st.ready.is_empty() {
                // Seen before the next read, so a commit landing during it
                // wakes the feed again rather than being missed.
                let _ = tokio::time::timeout(POLL, st.commits.changed()).await;
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// `GET /v2/stream/links`
pub async fn links(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    feed(state, headers, q, false).await
}

/// `GET /v2/stream/new-urls`
pub async fn new_urls(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    feed(state, headers, q, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_event_ids_round_trip() {
        assert_eq!(parse_last_event_id(&event_id(false, 42)).unwrap(), 42);
        assert_eq!(parse_last_event_id("7").unwrap(), 7);
        assert!(parse_last_event_id("[{}]").is_err());
    }
}
