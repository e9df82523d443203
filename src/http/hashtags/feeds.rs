//! Hashtag feeds: the Atom feed of the newest matching edits and the live
//! SSE feed of new ones (store-backed, woken by committed batches).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};

use super::query::{describe, parse_query};
use super::rows::ApiEdit;
use crate::hashtags::query::{Cursor, EditRow, HashtagQuery};
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::http::store_feed::{Source, follow};
use crate::store::{Store, StoreError};

#[derive(Template)]
#[template(path = "hashtags_feed.xml")]
struct AtomFeed {
    title: String,
    self_url: String,
    page_url: String,
    updated: String,
    entries: Vec<ApiEdit>,
}

pub async fn atom(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let q = parse_query(&p)?;
    let page = state.store.hashtags().hashtag_edits(&q, None, 50).await?;
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
        crate::http::xml::without_forbidden_chars(xml),
    )
        .into_response())
}

/// The matching edits after a mark (the newest sent), as SSE events.
struct EditSource {
    store: Arc<dyn Store>,
    q: HashtagQuery,
    mark: Option<Cursor>,
}

impl Source for EditSource {
    type Item = SseEvent;

    async fn fill(&mut self, ready: &mut VecDeque<SseEvent>) -> Result<(), StoreError> {
        let hq = self.store.hashtags();
        let mut q = self.q.clone();
        if let Some(m) = self.mark {
            q.from_ms = Some(self.q.from_ms.map_or(m.time_ms, |f| f.max(m.time_ms)));
        }
        let page = hq.hashtag_edits(&q, None, LIVE_PAGE).await?;
        // Newest first; keep those after the mark, send oldest first.
        let mark = self.mark;
        let fresh: Vec<EditRow> = page
            .rows
            .into_iter()
            .filter(|r| mark.is_none_or(|m| (r.time_ms, r.id) > (m.time_ms, m.id)))
            .collect();
        if let Some(newest) = fresh.first() {
            self.mark = Some(newest.cursor());
        }
        ready.extend(fresh.into_iter().rev().map(|r| {
            SseEvent::default()
                .event("edit")
                .data(serde_json::to_string(&ApiEdit::from(r)).unwrap_or_default())
        }));
        Ok(())
    }
}

/// Most new edits a live feed reads at once.
const LIVE_PAGE: usize = 500;

/// Live feed of new matching edits as Server-Sent Events (`event: edit`,
/// JSON data), read as batches are committed ([`crate::http::store_feed`]).
pub async fn live(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    p: Params,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let q = parse_query(&p)?;
    let place = state.live.admit(peer.ip())?;
    let hq = state.store.hashtags();
    let newest = hq.hashtag_edits(&q, None, 1).await?;
    let source = EditSource {
        store: Arc::clone(&state.store),
        q,
        mark: newest.rows.first().map(EditRow::cursor),
    };
    let stream = follow(&state.commits, source, place).map(Ok);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
