//! The web server: the routes of every feature (hashtags, links, live), the
//! operational endpoints and the shared pieces they are built from (one
//! parameter parser, one CSV writer, one export path, one error shape). It
//! reads the store, telemetry and the hub; it never drives ingest.
//!
//! [`Application::build`] binds the listener (port 0 picks a free port, which
//! is how tests run it) and [`Application::run`] serves until shutdown.

mod banner;
mod buckets;
mod csv;
mod error;
mod export;
mod hashtags;
mod links;
mod live;
mod openapi;
mod pages;
mod params;
pub mod read_budget;
mod security_headers;
pub mod serve;
mod state;
mod static_files;
mod status;
mod store_feed;
mod xml;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;
pub use state::{AppState, LinksConfig};
pub use status::Status;

pub use serve::ServerLimits;

use crate::telemetry::Telemetry;

/// Every route: the operational endpoints, the site-wide pages and static
/// files, then each feature's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/healthz", get(status::healthz))
        .route("/api/status", get(status::status))
        .route("/metrics", get(status::metrics))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/static/{name}", get(static_files::static_file))
        .merge(hashtags::routes())
        .merge(links::routes())
        .merge(live::routes())
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such page or endpoint: {}", uri.path()))
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    telemetry: Arc<Telemetry>,
}

impl Application {
    /// Binds `addr` and prepares the routes.
    pub async fn build(addr: SocketAddr, state: AppState) -> std::io::Result<Application> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Application {
            listener,
            telemetry: Arc::clone(&state.telemetry),
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
        serve::serve(
            self.listener,
            self.router,
            self.limits,
            self.telemetry,
            shutdown,
        )
        .await
    }
}
