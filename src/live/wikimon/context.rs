//! What a WikiMon message needs beyond the event: the namespace registry and
//! the optional GeoIP database, built once and shared.

use std::sync::Arc;

use super::geoip::GeoIp;
use super::namespaces::NamespaceRegistry;

/// Everything `message` needs beyond the event: namespace names and GeoIP.
/// `Send + Sync`; share it in an `Arc`.
pub struct WikimonContext {
    namespaces: Arc<NamespaceRegistry>,
    geoip: Option<Arc<GeoIp>>,
}

impl WikimonContext {
    /// Built-in canonical namespace names only, no geolocation.
    pub fn builtin() -> Self {
        WikimonContext {
            namespaces: Arc::new(NamespaceRegistry::builtin()),
            geoip: None,
        }
    }

    /// With a namespace registry (e.g. one that learns from siteinfo, see
    /// [`NamespaceRegistry::with_learner`]) and an optional GeoIP database.
    pub fn new(namespaces: Arc<NamespaceRegistry>, geoip: Option<Arc<GeoIp>>) -> Self {
        WikimonContext { namespaces, geoip }
    }

    /// The same context with a GeoIP database.
    pub fn with_geoip(mut self, geoip: Arc<GeoIp>) -> Self {
        self.geoip = Some(geoip);
        self
    }

    pub fn namespaces(&self) -> &NamespaceRegistry {
        &self.namespaces
    }

    pub fn geoip(&self) -> Option<&GeoIp> {
        self.geoip.as_deref()
    }

    /// The credit (HTML) a page showing `geo_ip` data must carry, when the
    /// configured database's licence asks for one (DB-IP, GeoLite2).
    pub fn attribution(&self) -> Option<&str> {
        self.geoip.as_deref().and_then(GeoIp::attribution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<WikimonContext>();
    }
}
