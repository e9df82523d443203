//! Server-rendered pages (askama templates in `templates/`, auto-escaped).

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::{ApiError, AppState, Status, status};

/// How far behind ingest may fall before pages say so.
pub const STALE_AFTER_SECS: f64 = 300.0;

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    trending: Vec<crate::store::hashtag_queries::TrendingRow>,
    status: Status,
    stale: bool,
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
    let stale = status.lag_seconds.is_none_or(|l| l > STALE_AFTER_SECS);
    let lag = status
        .lag_seconds
        .map(human_duration)
        .unwrap_or_else(|| "no events yet".into());
    let trending = super::hashtags::home_trending(&state).await;
    Ok(Html(
        Home {
            trending,
            status,
            stale,
            lag,
        }
        .render()?,
    ))
}
