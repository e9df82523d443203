//! What an analysed link is: [`LinkInfo`] and its [`Wrapper`], the target
//! behind a wrapper ([`Unwrapped`]), and the configurable [`LinkRules`].

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WrapperKind {
    Proxy,
    Archive,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wrapper {
    pub kind: WrapperKind,
    /// Host of the wrapper itself (`web.archive.org`, `wikipedialibrary.idm.oclc.org`).
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkInfo {
    pub raw: String,
    pub url: String,
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub domain: Option<String>,
    pub wrapper: Option<Wrapper>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LinkRules {
    pub proxy_suffixes: Vec<String>,
}

/// Proxy host suffixes recognised unless the configuration says otherwise.
pub const DEFAULT_PROXY_SUFFIXES: &[&str] = &["wikipedialibrary.idm.oclc.org"];

impl Default for LinkRules {
    fn default() -> Self {
        LinkRules {
            proxy_suffixes: DEFAULT_PROXY_SUFFIXES.iter().map(|s| (*s).into()).collect(),
        }
    }
}

/// The target behind a wrapped URL, from [`unwrap_url`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unwrapped {
    pub kind: WrapperKind,
    /// Host of the wrapper itself.
    pub wrapper_host: String,
    /// The archived or proxied URL. For a proxy this is rebuilt from the
    /// wrapper URL's scheme, the decoded host and the path as written.
    pub target: String,
    /// Host of `target`, normalised as [`LinkInfo::host`].
    pub target_host: String,
}
