//! `GET /api/live/stats`: per-minute counts, shares, top pages and editors.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::state::AppState;

/// `GET /api/live/stats?limit=N`.
pub async fn stats(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::decode(q.as_deref());
    if let Some(other) = p.unknown(&[&["limit"]]) {
        return Err(ApiError::bad(
            other.to_owned(),
            format!("unknown parameter {other:?}; known: limit"),
        ));
    }
    let limit = p.limit(10, 100)?;
    Ok(Json(state.live.stats(limit)).into_response())
}
