//! External links. STUB: to be implemented.
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

impl Default for LinkRules {
    fn default() -> Self {
        LinkRules {
            proxy_suffixes: vec!["wikipedialibrary.idm.oclc.org".into()],
        }
    }
}

pub fn analyze_link(raw: &str, _rules: &LinkRules) -> LinkInfo {
    LinkInfo {
        raw: raw.into(),
        url: raw.into(),
        scheme: None,
        host: None,
        domain: None,
        wrapper: None,
        error: None,
    }
}

/// `www.example.org` → `org.example.www.`
pub fn reversed_host(host: &str) -> String {
    let mut s: String = host.split('.').rev().collect::<Vec<_>>().join(".");
    s.push('.');
    s
}
