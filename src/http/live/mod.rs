//! The live feeds over HTTP: the native WebSocket and SSE feeds, WikiMon v2,
//! the live page and its statistics, all served from the hub
//! ([`crate::live::Hub`]).

mod api;
mod feeds;
mod pages;

use axum::Router;
use axum::routing::get;

use crate::http::state::AppState;
use crate::http::static_files;

/// The live routes. `/v2/{lang}` has two segments, so it never shadows the
/// three-segment `/v2/stream/…` feeds.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/live", get(feeds::live))
        .route("/live/live.js", get(static_files::live_script))
        .route("/api/live/stats", get(api::stats))
        .route("/v2/stream/recentchange", get(feeds::sse))
        .route("/v2/", get(feeds::wikimon_default))
        .route("/v2/{lang}", get(feeds::wikimon_lang))
        .route("/v2/{lang}/", get(feeds::wikimon_lang))
}
