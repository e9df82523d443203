//! Hashtags over HTTP: the JSON API, streamed CSV/NDJSON exports, the Atom
//! and SSE feeds and the server-rendered pages, all over one query engine
//! ([`crate::store::HashtagQueries`]).
//!
//! Parameters are parsed into a validated query ([`query`]); a bad one is a
//! 400 naming it. The URL holds the whole query, so results can be shared.

mod api;
mod export;
mod feeds;
mod pages;
mod query;
mod rows;
mod timeseries;
mod trending;

use axum::Router;
use axum::routing::get;

pub use trending::home_trending;

use crate::http::state::AppState;

/// The hashtag routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/hashtags/edits", get(api::api_edits))
        .route("/api/hashtags/stats", get(api::api_stats))
        .route("/api/hashtags/timeseries", get(api::api_timeseries))
        .route("/api/hashtags/top", get(api::api_top))
        .route("/api/hashtags/trending", get(api::api_trending))
        .route("/api/hashtags/tags", get(api::api_tags))
        .route("/hashtags", get(pages::search_page))
        .route("/hashtags/tags", get(pages::tags_page))
        .route("/hashtags/tag/{tag}", get(pages::tag_page))
        .route("/hashtags/feed.atom", get(feeds::atom))
        .route("/hashtags/live", get(feeds::live))
        .route("/docs/hashtags", get(pages::docs_page))
}
