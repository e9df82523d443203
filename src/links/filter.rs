//! The link filter: which link events a query is about, validated at the
//! edge. Domains, hosts, URL prefixes and Special:LinkSearch patterns
//! (hosts are matched on label boundaries: `apa.org` never matches
//! `iaapa.org`), wrappers, actions, provenance, wikis, namespaces, users,
//! bots, editor kind, account age, edit count, dates and page, and the named
//! collections built from the same patterns. No SQL: the store turns a
//! [`LinkFilter`] into conditions (`crate::store::links`).

use serde::{Deserialize, Serialize};

use crate::extract::EditorKind;

/// How a link event came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    Added,
    Removed,
    PageDeleted,
    PageRestored,
}

impl LinkAction {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::Added => "added",
            LinkAction::Removed => "removed",
            LinkAction::PageDeleted => "page_deleted",
            LinkAction::PageRestored => "page_restored",
        }
    }
}

/// How a link event came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// Paired with a recentchange of the same wiki, revision and user: a
    /// direct edit (page deletions and restorations by a user count here too).
    Edit,
    /// No matching recentchange: a links refresh after a template or module
    /// edit, or a purge, credited to whoever triggered it.
    Propagated,
    /// The event has no performer.
    System,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Edit => "edit",
            Provenance::Propagated => "propagated",
            Provenance::System => "system",
        }
    }
    pub fn parse(s: &str) -> Option<Provenance> {
        match s {
            "edit" => Some(Provenance::Edit),
            "propagated" => Some(Provenance::Propagated),
            "system" => Some(Provenance::System),
            _ => None,
        }
    }
}

pub fn parse_action(s: &str) -> Option<LinkAction> {
    match s {
        "added" => Some(LinkAction::Added),
        "removed" => Some(LinkAction::Removed),
        "page_deleted" => Some(LinkAction::PageDeleted),
        "page_restored" => Some(LinkAction::PageRestored),
        _ => None,
    }
}

/// Which links a query is about. Hosts are stored reversed
/// (`org.apa.www.`), so a domain with its subdomains is a prefix range on
/// label boundaries: `apa.org` never matches `iaapa.org`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkMatch {
    /// The domain and its subdomains (of the effective target host).
    Domain {
        domain: String,
        /// Set when `domain` is itself a registrable domain, so the stored
        /// `domain` column answers the same question through its index.
        registrable: bool,
    },
    /// Exactly this host.
    Host { host: String },
    /// Targets starting with this URL (scheme and host included).
    Prefix { host: String, prefix: String },
    /// A Special:LinkSearch pattern: `*.example.org/path`, `example.org`,
    /// `https://*.example.org/path`.
    Pattern {
        host: String,
        subdomains: bool,
        scheme: Option<String>,
        path: Option<String>,
    },
}

/// A query parameter that could not be used; HTTP turns it into a 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidParam {
    pub parameter: &'static str,
    pub message: String,
}

pub(super) fn invalid(parameter: &'static str, message: impl Into<String>) -> InvalidParam {
    InvalidParam {
        parameter,
        message: message.into(),
    }
}

/// Lower-cases, converts an internationalised name to punycode and checks
/// the name is a plausible host.
pub fn normalize_host(parameter: &'static str, s: &str) -> Result<String, InvalidParam> {
    let t = s.trim().trim_end_matches('.');
    if t.is_empty() {
        return Err(invalid(parameter, "a host or domain name is required"));
    }
    if t.contains(['/', ' ', '*', '?', '#', '@', ':']) && t.parse::<std::net::IpAddr>().is_err() {
        return Err(invalid(
            parameter,
            format!(
                "{s:?} is not a host name (write it without scheme, path or wildcard, like example.org)"
            ),
        ));
    }
    match url::Host::parse(t) {
        Ok(url::Host::Domain(d)) => {
            if d.split('.').any(str::is_empty) {
                Err(invalid(parameter, format!("{s:?} has an empty label")))
            } else {
                Ok(d)
            }
        }
        Ok(url::Host::Ipv4(a)) => Ok(a.to_string()),
        Ok(url::Host::Ipv6(a)) => Ok(a.to_string()),
        Err(e) => Err(invalid(parameter, format!("{s:?} is not a host name: {e}"))),
    }
}

impl LinkMatch {
    pub fn domain(s: &str) -> Result<LinkMatch, InvalidParam> {
        let domain = normalize_host("domain", s)?;
        let registrable = psl::domain_str(&domain) == Some(domain.as_str());
        Ok(LinkMatch::Domain {
            domain,
            registrable,
        })
    }

    pub fn host(s: &str) -> Result<LinkMatch, InvalidParam> {
        Ok(LinkMatch::Host {
            host: normalize_host("host", s)?,
        })
    }

    /// `https://www.jstor.org/stable/` — scheme and host are required.
    pub fn prefix(s: &str) -> Result<LinkMatch, InvalidParam> {
        let s = s.trim();
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(invalid(
                "prefix",
                "a URL prefix starts with a scheme and host, like https://www.jstor.org/stable/",
            ));
        };
        let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let host = normalize_host("prefix", &rest[..host_end])?;
        Ok(LinkMatch::Prefix {
            host: host.clone(),
            prefix: format!(
                "{}://{}{}",
                scheme.to_ascii_lowercase(),
                host,
                &rest[host_end..]
            ),
        })
    }

    /// A Special:LinkSearch pattern.
    pub fn pattern(s: &str) -> Result<LinkMatch, InvalidParam> {
        let mut t = s.trim();
        let mut scheme = None;
        if let Some((sc, rest)) = t.split_once("://") {
            scheme = Some(sc.to_ascii_lowercase());
            t = rest;
        }
        let host_end = t.find(['/', '?', '#']).unwrap_or(t.len());
        let (mut host, path) = t.split_at(host_end);
        let subdomains = if let Some(h) = host.strip_prefix("*.") {
            host = h;
            true
        } else {
            false
        };
        if host.contains('*') || path.contains('*') {
            return Err(invalid(
                "pattern",
                "a wildcard is allowed only as the first label (*.example.org/path)",
            ));
        }
        Ok(LinkMatch::Pattern {
            host: normalize_host("pattern", host)?,
            subdomains,
            scheme,
            path: (!path.is_empty()).then(|| path.to_owned()),
        })
    }

    /// A collection pattern: a URL prefix when it has a scheme, a
    /// LinkSearch pattern otherwise (`jstor.org` is the domain with its
    /// subdomains, like `*.jstor.org`).
    pub fn collection_pattern(s: &str) -> Result<LinkMatch, InvalidParam> {
        let s = s.trim();
        if s.contains("://") {
            return Self::prefix(s);
        }
        match Self::pattern(s)? {
            LinkMatch::Pattern {
                host,
                path: None,
                scheme: None,
                ..
            } => Self::domain(&host),
            LinkMatch::Pattern {
                host, path, scheme, ..
            } => Ok(LinkMatch::Pattern {
                host,
                subdomains: true,
                scheme,
                path,
            }),
            other => Ok(other),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tristate {
    /// Both kinds (the default).
    #[default]
    Include,
    Exclude,
    Only,
}

impl Tristate {
    pub fn parse(s: &str) -> Option<Tristate> {
        match s {
            "include" | "" => Some(Tristate::Include),
            "exclude" => Some(Tristate::Exclude),
            "only" => Some(Tristate::Only),
            _ => None,
        }
    }
}

/// Every filter a link query can take. Empty lists mean "any".
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkFilter {
    /// Alternatives (OR); empty matches every link.
    pub matchers: Vec<LinkMatch>,
    /// Links through a library proxy or a web archive (counted for their target).
    pub wrappers: Tristate,
    pub actions: Vec<LinkAction>,
    pub provenances: Vec<Provenance>,
    /// Database names; `*` is a wildcard (`*wiki`, `en*`).
    pub wikis: Vec<String>,
    pub namespaces: Vec<i64>,
    pub users: Vec<String>,
    pub bots: Tristate,
    pub editor_kinds: Vec<EditorKind>,
    pub min_account_age_days: Option<i64>,
    pub max_account_age_days: Option<i64>,
    pub min_edit_count: Option<i64>,
    pub max_edit_count: Option<i64>,
    /// Inclusive start, epoch ms.
    pub from_ms: Option<i64>,
    /// Exclusive end, epoch ms (an inclusive end date is turned into the next midnight).
    pub until_ms: Option<i64>,
    /// `(wiki, title)` with spaces.
    pub page: Option<(String, String)>,
}

/// Patterns and users one collection may hold: each becomes a bound value of
/// every query over the collection, and the backends bind at most a few
/// thousand values at a time.
pub const MAX_COLLECTION_PATTERNS: usize = 500;
pub const MAX_COLLECTION_USERS: usize = 1000;

/// A named set of URL patterns (a partner's website), with an optional list
/// of usernames (the partner's users).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct CollectionDef {
    pub name: String,
    /// Collections sharing a group make a group dashboard (an organisation or program).
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub description: String,
    /// `jstor.org` (domain and subdomains), `*.example.org/path` or a URL prefix.
    pub patterns: Vec<String>,
    #[serde(default)]
    pub users: Vec<String>,
    /// `config` or `api`; set by the server.
    #[serde(default)]
    pub source: String,
}

impl CollectionDef {
    /// Checks the name and patterns.
    pub fn validate(&self) -> Result<Vec<LinkMatch>, InvalidParam> {
        let n = self.name.trim();
        if n.is_empty() || n.len() > 100 || n.contains('/') {
            return Err(invalid(
                "name",
                "a collection name is 1–100 characters without '/'",
            ));
        }
        if self.patterns.is_empty() {
            return Err(invalid(
                "patterns",
                "a collection needs at least one pattern",
            ));
        }
        if self.patterns.len() > MAX_COLLECTION_PATTERNS {
            return Err(invalid(
                "patterns",
                format!(
                    "a collection holds at most {MAX_COLLECTION_PATTERNS} patterns, not {}; split it into collections that share a group",
                    self.patterns.len()
                ),
            ));
        }
        if self.users.len() > MAX_COLLECTION_USERS {
            return Err(invalid(
                "users",
                format!(
                    "a collection holds at most {MAX_COLLECTION_USERS} users, not {}",
                    self.users.len()
                ),
            ));
        }
        self.patterns
            .iter()
            .map(|p| LinkMatch::collection_pattern(p).map_err(|e| invalid("patterns", e.message)))
            .collect()
    }
}
