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
//! order ([`crate::http::store_feed`]).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::filter::{link_params, parse_filter};
use crate::http::error::ApiError;
use crate::http::params::Choices;
use crate::http::state::AppState;
use crate::http::store_feed::{Source, follow};
use crate::links::filter::LinkFilter;
use crate::links::report::LinkEventRow;
use crate::store::{Store, StoreError};

const PAGE: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Granularity {
    Link,
    Edit,
}

const GRANULARITIES: Choices<Granularity> = Choices {
    entries: &[
        (&["link"], Granularity::Link),
        (&["edit"], Granularity::Edit),
    ],
    fold_case: false,
};

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

/// The link rows after a store id, as feed messages.
struct LinkSource {
    store: Arc<dyn Store>,
    filter: LinkFilter,
    first_seen: bool,
    granularity: Granularity,
    after: i64,
}

impl Source for LinkSource {
    type Item = (i64, Value);

    async fn fill(&mut self, ready: &mut VecDeque<(i64, Value)>) -> Result<(), StoreError> {
        // Ids become visible in increasing order (one writer), so when the
        // page is not full, nothing at or below `max` is left to send.
        let max = self.store.link_max_id().await?;
        let rows = self
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
                    ready.push_back((r.id, link_message(r, self.first_seen)));
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
                        ready.push_back((l.id, m));
                    }
                }
            }
        }
        Ok(())
    }
}

async fn feed(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    q: Option<String>,
    first_seen: bool,
) -> Result<Response, ApiError> {
    let p = link_params(q.as_deref())?;
    let mut filter = parse_filter(&p)?;
    // Feeds carry every provenance unless asked otherwise.
    if !p.has("provenance") {
        filter.provenances.clear();
    }
    let granularity = p
        .choice("granularity", &GRANULARITIES)?
        .unwrap_or(Granularity::Link);
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
    let source = LinkSource {
        store: Arc::clone(&state.store),
        filter,
        first_seen,
        granularity,
        after,
    };
    let place = state.live.admit(peer.ip())?;
    let stream = follow(&state.commits, source, place).map(move |(id, msg)| {
        Ok::<_, Infallible>(
            SseEvent::default()
                .event("message")
                .id(event_id(first_seen, id))
                .data(msg.to_string()),
        )
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// `GET /v2/stream/links`
pub async fn links(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    feed(state, peer, headers, q, false).await
}

/// `GET /v2/stream/new-urls`
pub async fn new_urls(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    feed(state, peer, headers, q, true).await
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
