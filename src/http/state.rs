//! What every handler can reach: [`AppState`] (store, telemetry, hub, commit
//! bus) and the link settings of the configuration.

use std::sync::Arc;

use crate::links::filter::CollectionDef;
use crate::store::Store;
use crate::telemetry::Telemetry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub telemetry: Arc<Telemetry>,
    /// Upstream URL as configured (shown in status).
    pub upstream: String,
    /// Link collections from the configuration and the admin token.
    pub links: Arc<LinksConfig>,
    /// The live-feed hub.
    pub live: Arc<crate::live::Hub>,
    /// Committed batches and the stream position, from the ingest writer.
    pub commits: Arc<crate::commits::Commits>,
}

/// Link settings from the configuration.
#[derive(Debug, Clone, Default)]
pub struct LinksConfig {
    /// Collections from the configuration file (read-only through the API).
    pub collections: Vec<CollectionDef>,
    /// Token of the admin API; `None` disables it.
    pub admin_token: Option<String>,
}
