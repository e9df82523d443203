//! External links over HTTP: the JSON API (`/api/links/…`) with its exports
//! (CSV, NDJSON, streamed page by page with keyset pagination, so memory
//! stays flat), the collections admin API, the EventStreams-style feeds and
//! the pages. Every view runs on the one query engine in
//! [`crate::links`].

mod admin;
mod api;
mod collections;
mod export;
mod feeds;
mod filter;
mod pages;
mod report;

use axum::Router;
use axum::routing::{get, put};

use crate::http::state::AppState;

/// The external-link API, feeds and pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/links/events", get(api::events))
        .route("/api/links/domains/{domain}", get(api::domain_report))
        .route("/api/links/users/{user}", get(api::user_report))
        .route("/api/links/pages/{wiki}/{title}", get(api::page_history))
        .route("/api/links/top", get(api::top))
        .route("/api/links/collections", get(api::list_collections))
        .route("/api/links/collections/{name}", get(api::collection_report))
        .route(
            "/api/links/collection-groups/{group}",
            get(api::group_report),
        )
        .route(
            "/api/admin/links/collections/{name}",
            put(admin::put_collection).delete(admin::delete_collection),
        )
        .route("/v2/stream/links", get(feeds::links))
        .route("/v2/stream/new-urls", get(feeds::new_urls))
        .route("/links", get(pages::search))
        .route("/links/docs", get(pages::docs))
        .route("/links/domain/{domain}", get(pages::domain))
        .route("/links/user/{user}", get(pages::user))
        .route("/links/page/{wiki}/{title}", get(pages::page))
        .route("/links/collections", get(pages::collections))
        .route("/links/collections/{name}", get(pages::collection))
        .route("/links/groups/{group}", get(pages::group))
}
