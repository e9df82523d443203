//! Site-wide pages: the home page (status, lag, trending tags).

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::banner::{human_duration, ingest_note};
use super::error::ApiError;
use super::hashtags::home_trending;
use super::state::AppState;
use super::status::{self, Status};

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    ingest_note: Option<String>,
    trending: Vec<crate::hashtags::query::TrendingRow>,
    status: Status,
    lag: String,
}

/// `GET /`
pub async fn home(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let status = status::collect(&state).await?;
    let lag = status
        .lag_seconds
        .map(human_duration)
        .unwrap_or_else(|| "no events yet".into());
    let trending = home_trending(&state).await;
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
