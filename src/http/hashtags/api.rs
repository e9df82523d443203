//! The hashtag JSON API (`/api/hashtags/…`): edits, stats, time series, top
//! lists, trending and tags, each also as CSV or NDJSON.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::export::stream_edits;
use super::query::{TagList, cursor, parse_query};
use super::rows::ApiEdit;
use super::timeseries::{granularity, timeseries};
use super::trending::{trending, window};
use crate::hashtags::query::{HashtagStats, TagInfo, TopBy, TopRow, TrendingRow};
use crate::http::csv::Cell;
use crate::http::error::ApiError;
use crate::http::export::{self, Format};
use crate::http::params::{Choices, Params};
use crate::http::state::AppState;

pub async fn api_edits(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let q = parse_query(&p)?;
    let after = cursor(&p)?;
    let f = Format::from_params(&p)?;
    let hq = state.store.hashtags();
    if f != Format::Json {
        let body = Body::from_stream(stream_edits(Arc::clone(&state.store), q, after, f));
        return Ok(export::download(f, "hashtag-edits", body));
    }
    let limit = p.limit(50, 1000)?;
    let page = hq.hashtag_edits(&q, after, limit).await?;
    let next = page.next.map(|c| c.encode());
    let next_url = next.as_ref().map(|c| {
        let rest = p.without(&["cursor"]);
        format!("/api/hashtags/edits?{rest}&cursor={c}")
    });
    let rows: Vec<ApiEdit> = page.rows.into_iter().map(ApiEdit::from).collect();
    Ok(Json(json!({ "rows": rows, "next": next, "next_url": next_url })).into_response())
}

#[derive(Serialize)]
struct ApiStats {
    #[serde(flatten)]
    stats: HashtagStats,
    first: Option<String>,
    last: Option<String>,
}

pub async fn api_stats(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let q = parse_query(&p)?;
    let f = Format::from_params(&p)?;
    let stats = state.store.hashtags().hashtag_stats(&q).await?;
    let answer = ApiStats {
        first: stats.first_ms.map(crate::event::format_ms),
        last: stats.last_ms.map(crate::event::format_ms),
        stats,
    };
    if f != Format::Json {
        return Ok(export::small(
            f,
            "hashtag-stats",
            &[
                "edits",
                "pages",
                "users",
                "wikis",
                "bytes_added",
                "bytes_removed",
                "pages_created",
                "first",
                "last",
            ],
            std::slice::from_ref(&answer),
            |a, row| {
                let s = &a.stats;
                row(&[
                    Cell::Num(s.edits),
                    Cell::Num(s.pages),
                    Cell::Num(s.users),
                    Cell::Num(s.wikis),
                    Cell::Num(s.bytes_added),
                    Cell::Num(s.bytes_removed),
                    Cell::Num(s.pages_created),
                    Cell::Text(a.first.as_deref().unwrap_or_default()),
                    Cell::Text(a.last.as_deref().unwrap_or_default()),
                ])
            },
        ));
    }
    Ok(Json(answer).into_response())
}

pub async fn api_timeseries(
    State(state): State<AppState>,
    p: Params,
) -> Result<Response, ApiError> {
    let q = parse_query(&p)?;
    let chosen = granularity(&p)?;
    let f = Format::from_params(&p)?;
    let days = state.store.hashtags().hashtag_days(&q).await?;
    let (g, buckets) = timeseries(&q, &days, chosen)?;
    if f != Format::Json {
        return Ok(export::small(
            f,
            "hashtag-timeseries",
            &["period", "edits"],
            &buckets,
            |b, row| row(&[Cell::Text(&b.period), Cell::Num(b.edits)]),
        ));
    }
    Ok(Json(json!({ "granularity": g, "buckets": buckets })).into_response())
}

const TOP_BY: Choices<TopBy> = Choices {
    entries: &[
        (&["user"], TopBy::User),
        (&["wiki"], TopBy::Wiki),
        (&["page"], TopBy::Page),
    ],
    fold_case: true,
};

pub async fn api_top(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let q = parse_query(&p)?;
    let by = p.choice("by", &TOP_BY)?.unwrap_or(TopBy::User);
    let limit = p.limit(10, 10_000)?;
    let f = Format::from_params(&p)?;
    let rows = state.store.hashtags().hashtag_top(&q, by, limit).await?;
    if f != Format::Json {
        return Ok(export::small(
            f,
            "hashtag-top",
            &["key", "wiki", "edits"],
            &rows,
            |r: &TopRow, row| {
                row(&[
                    Cell::Text(&r.key),
                    Cell::Text(r.wiki.as_deref().unwrap_or_default()),
                    Cell::Num(r.edits),
                ])
            },
        ));
    }
    Ok(Json(json!({ "by": by, "rows": rows })).into_response())
}

pub async fn api_trending(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let (name, ms) = window(&p)?;
    let limit = p.limit(10, 1000)?;
    let f = Format::from_params(&p)?;
    let (until, rows) = trending(state.store.hashtags(), ms, limit).await?;
    if f != Format::Json {
        return Ok(export::small(
            f,
            "hashtag-trending",
            &["tag", "edits", "previous"],
            &rows,
            |r: &TrendingRow, row| {
                row(&[
                    Cell::Text(&r.tag),
                    Cell::Num(r.edits),
                    Cell::Num(r.previous),
                ])
            },
        ));
    }
    Ok(Json(json!({
        "window": name,
        "until": until.map(crate::event::format_ms),
        "rows": rows,
    }))
    .into_response())
}

pub async fn api_tags(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let TagList {
        prefix,
        order,
        limit,
    } = TagList::from_params(&p, 100)?;
    let f = Format::from_params(&p)?;
    let rows = state
        .store
        .hashtags()
        .hashtag_tags(&prefix, order, limit)
        .await?;
    if f != Format::Json {
        return Ok(export::small(
            f,
            "hashtag-tags",
            &["tag", "key", "first", "last", "uses"],
            &rows,
            |r: &TagInfo, row| {
                let (first, last) = (
                    crate::event::format_ms(r.first_ms),
                    crate::event::format_ms(r.last_ms),
                );
                row(&[
                    Cell::Text(&r.tag),
                    Cell::Text(&r.key),
                    Cell::Text(&first),
                    Cell::Text(&last),
                    Cell::Num(r.uses),
                ])
            },
        ));
    }
    Ok(Json(json!({ "rows": rows })).into_response())
}
