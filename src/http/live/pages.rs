//! The live page (`GET /live` without a WebSocket upgrade).

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use crate::http::banner::ingest_note;
use crate::http::error::ApiError;
use crate::http::state::AppState;

#[derive(Template)]
#[template(path = "live.html")]
struct LivePage {
    ingest_note: Option<String>,
}

/// The live page.
pub fn live_page(state: &AppState) -> Response {
    let page = LivePage {
        ingest_note: ingest_note(state),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
