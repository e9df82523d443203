//! Hashtag feeds: the Atom feed of the newest matching edits and the live
//! SSE feed of new ones.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;

use super::engine::queries;
use super::query::{describe, parse_query};
use super::rows::ApiEdit;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::store::hashtag_queries::EditRow;

#[derive(Template)]
#[template(path = "hashtags_feed.xml")]
struct AtomFeed {
    title: String,
    self_url: String,
    page_url: String,
    updated: String,
    entries: Vec<ApiEdit>,
}

pub async fn atom(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let q = parse_query(&p)?;
    let page = queries(&state)?.hashtag_edits(&q, None, 50).await?;
    let rest = p.without(&["cursor", "format", "limit"]);
    let entries: Vec<ApiEdit> = page.rows.into_iter().map(ApiEdit::from).collect();
    let updated = entries
        .first()
        .map(|e| e.time.clone())
        .unwrap_or_else(|| crate::event::format_ms(0));
    let xml = AtomFeed {
        title: format!("wikiwatch: edits tagged {}", describe(&q)),
        self_url: format!("/hashtags/feed.atom?{rest}"),
        page_url: format!("/hashtags?{rest}"),
        updated,
        entries,
    }
    .render()?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// Live feed of new matching edits as Server-Sent Events (`event: edit`,
/// JSON data), polling the store every second.
pub async fn live(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let p = Params(pairs);
    let q = parse_query(&p)?;
    let hq = queries(&state)?;
    let newest = hq.hashtag_edits(&q, None, 1).await?;
    let mark = newest.rows.first().map(EditRow::cursor);
    let store = Arc::clone(&state.store);
    let stream = futures_util::stream::unfold(
        (store, q, mark, Vec::<SseEvent>::new()),
        |(store, q, mut mark, mut pending)| async move {
            loop {
                if let Some(ev) = pending.pop() {
                    return Some((Ok(ev), (store, q, mark, pending)));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                let hq = store.hashtags()?;
                let mut q2 = q.clone();
                if let Some(m) = mark {
                    q2.from_ms = Some(q.from_ms.map_or(m.time_ms, |f| f.max(m.time_ms)));
                }
                let Ok(page) = hq.hashtag_edits(&q2, None, 500).await else {
                    continue;
                };
                // Newest first; keep those after the mark, send oldest first.
                let fresh: Vec<EditRow> = page
                    .rows
                    .into_iter()
                    .filter(|r| mark.is_none_or(|m| (r.time_ms, r.id) > (m.time_ms, m.id)))
                    .collect();
                if let Some(first) = fresh.first() {
                    mark = Some(first.cursor());
                }
                pending = fresh
                    .into_iter()
                    .map(|r| {
                        SseEvent::default()
                            .event("edit")
                            .data(serde_json::to_string(&ApiEdit::from(r)).unwrap_or_default())
                    })
                    .collect();
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
