//! The web server: operational endpoints now, the API, pages and feeds as
//! they are built. It reads the store and telemetry; it never drives ingest.
//!
//! [`Application::build`] binds the listener (port 0 picks a free port, which
//! is how tests run it) and [`Application::run`] serves until shutdown.

// The shared CSV writer, export path and parameter parser, not yet used by
// the feature routes (the split of hashtags/links/live is unfinished).
#[allow(dead_code)]
mod csv;
mod error;
#[allow(dead_code)]
mod export;
mod feeds_links;
mod hashtags;
pub mod links;
mod links_pages;
pub mod live;
mod openapi;
mod pages;
#[allow(dead_code)]
mod params;
pub mod serve;
mod status;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;
pub use status::Status;

use crate::store::Store;
use crate::telemetry::Telemetry;
pub use serve::ServerLimits;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub telemetry: Arc<Telemetry>,
    /// Upstream URL as configured (shown in status).
    pub upstream: String,
    /// Link collections from the configuration and the admin token.
    pub links: Arc<links::LinksConfig>,
    /// The live-feed hub (issue 5).
    pub live: Arc<crate::live::Hub>,
    /// Committed batches and the stream position, from the ingest writer.
    pub commits: Arc<crate::commits::Commits>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/healthz", get(status::healthz))
        .route("/api/status", get(status::status))
        .route("/metrics", get(status::metrics))
        .route("/api/openapi.json", get(openapi::serve))
        .merge(hashtags_routes())
        .merge(links_router())
        .merge(live_router())
        .fallback(not_found)
        .with_state(state)
}

fn hashtags_routes() -> Router<AppState> {
    use hashtags as h;
    Router::new()
        .route("/api/hashtags/edits", get(h::api_edits))
        .route("/api/hashtags/stats", get(h::api_stats))
        .route("/api/hashtags/timeseries", get(h::api_timeseries))
        .route("/api/hashtags/top", get(h::api_top))
        .route("/api/hashtags/trending", get(h::api_trending))
        .route("/api/hashtags/tags", get(h::api_tags))
        .route("/hashtags", get(h::search_page))
        .route("/hashtags/tags", get(h::tags_page))
        .route("/hashtags/tag/{tag}", get(h::tag_page))
        .route("/hashtags/feed.atom", get(h::atom))
        .route("/hashtags/live", get(h::live))
        .route("/docs/hashtags", get(h::docs_page))
        .route("/static/{name}", get(h::static_file))
}

/// The external-link API, feeds and pages (issue 4).
fn links_router() -> Router<AppState> {
    use axum::routing::put;
    Router::new()
        .route("/api/links/events", get(links::events))
        .route("/api/links/domains/{domain}", get(links::domain_report))
        .route("/api/links/users/{user}", get(links::user_report))
        .route("/api/links/pages/{wiki}/{title}", get(links::page_history))
        .route("/api/links/top", get(links::top))
        .route("/api/links/collections", get(links::list_collections))
        .route(
            "/api/links/collections/{name}",
            get(links::collection_report),
        )
        .route(
            "/api/links/collection-groups/{group}",
            get(links::group_report),
        )
        .route(
            "/api/admin/links/collections/{name}",
            put(links::put_collection).delete(links::delete_collection),
        )
        .route("/v2/stream/links", get(feeds_links::links))
        .route("/v2/stream/new-urls", get(feeds_links::new_urls))
        .route("/links", get(links_pages::search))
        .route("/links/docs", get(links_pages::docs))
        .route("/links/domain/{domain}", get(links_pages::domain))
        .route("/links/user/{user}", get(links_pages::user))
        .route("/links/page/{wiki}/{title}", get(links_pages::page))
        .route("/links/collections", get(links_pages::collections))
        .route("/links/collections/{name}", get(links_pages::collection))
        .route("/links/groups/{group}", get(links_pages::group))
}

/// The live feeds, WikiMon v2 and the live page (issue 5). `/v2/{lang}` has
/// two segments, so it never shadows the three-segment `/v2/stream/…` feeds.
fn live_router() -> Router<AppState> {
    Router::new()
        .route("/live", get(live::live))
        .route("/live/live.js", get(live::script))
        .route("/api/live/stats", get(live::stats))
        .route("/v2/stream/recentchange", get(live::sse))
        .route("/v2/", get(live::wikimon_default))
        .route("/v2/{lang}", get(live::wikimon_lang))
        .route("/v2/{lang}/", get(live::wikimon_lang))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such page or endpoint: {}", uri.path()))
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
}

impl Application {
    /// Binds `addr` and prepares the routes.
    pub async fn build(addr: SocketAddr, state: AppState) -> std::io::Result<Application> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Application {
            listener,
            router: router(state),
            limits: ServerLimits::default(),
        })
    }

    /// Replaces the default connection limits.
    pub fn with_limits(mut self, limits: ServerLimits) -> Application {
        self.limits = limits;
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) -> std::io::Result<()> {
        serve::serve(self.listener, self.router, self.limits, shutdown).await
    }
}
