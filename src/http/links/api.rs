//! The external-link JSON API (`/api/links/…`): events, domain, user, page
//! and collection reports, top lists; exports go through
//! [`super::export`].

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::collections::{all_collections, collections_filter, find_collections};
use super::export::{export_events, report_csv};
use super::filter::{link_params, parse_filter};
use super::report::{build_report, build_user, events_page};
use crate::http::error::ApiError;
use crate::http::export::Format;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::links::filter::{LinkFilter, LinkMatch};
use crate::links::report::TopBy;

/// `GET /api/links/events`
pub async fn events(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = link_params(q.as_deref())?;
    let filter = parse_filter(&p)?;
    match Format::from_params(&p)? {
        Format::Json => Ok(Json(events_page(&state, &filter, &p).await?).into_response()),
        fmt => {
            let max = p.int("limit")?.map(|n| n.max(0) as usize);
            Ok(export_events(
                Arc::clone(&state.store),
                filter,
                fmt,
                max,
                "link-events",
            ))
        }
    }
}

async fn report_response(
    state: &AppState,
    subject: String,
    filter: LinkFilter,
    p: &Params,
    name: &str,
) -> Result<Response, ApiError> {
    match Format::from_params(p)? {
        Format::Json => Ok(Json(build_report(state, subject, &filter, p).await?).into_response()),
        fmt => {
            let table = p.one("table").unwrap_or("events");
            if table == "events" {
                return Ok(export_events(
                    Arc::clone(&state.store),
                    filter,
                    fmt,
                    None,
                    name,
                ));
            }
            if fmt == Format::Ndjson {
                return Err(ApiError::bad(
                    "format",
                    "ndjson is for table=events; use csv or json for the other tables",
                ));
            }
            let view = build_report(state, subject, &filter, p).await?;
            report_csv(&view, table, name)
        }
    }
}

/// `GET /api/links/domains/{domain}`
pub async fn domain_report(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = link_params(q.as_deref())?;
    let mut filter = parse_filter(&p)?;
    let m = LinkMatch::domain(&domain)?;
    let name = match &m {
        LinkMatch::Domain { domain, .. } => domain.clone(),
        _ => domain.clone(),
    };
    filter.matchers = vec![m];
    report_response(&state, name.clone(), filter, &p, &name).await
}

/// `GET /api/links/users/{user}`
pub async fn user_report(
    State(state): State<AppState>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = link_params(q.as_deref())?;
    Ok(Json(build_user(&state, &user, &p).await?).into_response())
}

/// `GET /api/links/pages/{wiki}/{title}`
pub async fn page_history(
    State(state): State<AppState>,
    Path((wiki, title)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = link_params(q.as_deref())?;
    let mut filter = parse_filter(&p)?;
    filter.page = Some((wiki, title.replace('_', " ")));
    match Format::from_params(&p)? {
        Format::Json => Ok(Json(events_page(&state, &filter, &p).await?).into_response()),
        fmt => Ok(export_events(
            Arc::clone(&state.store),
            filter,
            fmt,
            None,
            "page-links",
        )),
    }
}

/// `24h`, `7d`, `30d`, `all` → a start time.
fn window_start(v: &str, now: i64) -> Result<Option<i64>, ApiError> {
    if v == "all" {
        return Ok(None);
    }
    let bad = || ApiError::bad("window", format!("{v:?}: use Nh, Nd or all (e.g. 24h, 7d)"));
    let (n, unit_ms) = if let Some(n) = v.strip_suffix('h') {
        (n, 3_600_000)
    } else if let Some(n) = v.strip_suffix('d') {
        (n, 86_400_000)
    } else {
        return Err(bad());
    };
    let n: i64 = n.parse().map_err(|_| bad())?;
    if n <= 0 {
        return Err(bad());
    }
    // A window longer than the clock reaches back is everything.
    Ok(n.checked_mul(unit_ms)
        .and_then(|ms| now.checked_sub(ms))
        .filter(|start| *start > 0))
}

/// `GET /api/links/top?by=domain|user|wiki|page&window=7d`
pub async fn top(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = link_params(q.as_deref())?;
    let mut filter = parse_filter(&p)?;
    let by_text = p.one("by").unwrap_or("domain");
    let by = TopBy::parse(by_text).ok_or_else(|| {
        ApiError::bad("by", format!("{by_text:?}: use domain, user, wiki or page"))
    })?;
    let window = p.one("window").unwrap_or("7d").to_owned();
    if filter.from_ms.is_none() {
        filter.from_ms = window_start(&window, crate::clock::now_ms())?;
    }
    let n = p.limit(25, 1000)?;
    let rows = state.store.link_top(&filter, by, n).await?;
    Ok(Json(json!({"by": by, "window": window, "rows": rows})).into_response())
}

/// `GET /api/links/collections`
pub async fn list_collections(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(json!({"collections": all_collections(&state).await?})).into_response())
}

/// `GET /api/links/collections/{name}` — a collection's dashboard.
pub async fn collection_report(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    collections_report(&state, &name, false, q.as_deref()).await
}

/// `GET /api/links/collection-groups/{group}` — all collections of a group.
pub async fn group_report(
    State(state): State<AppState>,
    Path(group): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    collections_report(&state, &group, true, q.as_deref()).await
}

/// The report of the collection `name`, or of every collection in the group.
async fn collections_report(
    state: &AppState,
    name: &str,
    group: bool,
    q: Option<&str>,
) -> Result<Response, ApiError> {
    let p = link_params(q)?;
    let cols = find_collections(state, name, group).await?;
    let (filter, _) = collections_filter(&cols, &p)?;
    report_response(state, name.to_owned(), filter, &p, name).await
}
