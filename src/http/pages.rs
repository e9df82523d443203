//! Server-rendered pages (askama templates in `templates/`, auto-escaped).

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::{ApiError, AppState, Status, status};

/// How far behind ingest may fall before pages say so.
pub const STALE_AFTER_SECS: f64 = 300.0;

/// The banner every page shows above its content when ingest is behind
/// (`base.html` renders it): organisers were hurt most by late data they
/// could not see was late.
pub fn ingest_note(state: &AppState) -> Option<String> {
    match state.telemetry.lag_seconds() {
        Some(l) if l <= STALE_AFTER_SECS => None,
        Some(l) => Some(format!(
            "Ingest is behind: the newest event is {} old. Counts and lists may be incomplete until it catches up.",
            human_duration(l)
        )),
        None => Some("No events ingested yet: counts and lists are empty or incomplete.".into()),
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    ingest_note: Option<String>,
    trending: Vec<crate::hashtags::query::TrendingRow>,
    status: Status,
    lag: String,
}

pub(super) fn human_duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

pub async fn home(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let status = status::collect(&state).await?;
    let lag = status
        .lag_seconds
        .map(human_duration)
        .unwrap_or_else(|| "no events yet".into());
    let trending = super::hashtags::home_trending(&state).await;
    Ok(Html(
        Home {
            ingest_note: ingest_note(&state),
            trending,
            status,
            lag,
        }
        .render()?,
    ))
}
