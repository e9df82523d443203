//! The link query engine's interface: validated query types, row types and
//! the [`LinkQueries`] trait every backend implements.
//!
//! One engine answers the JSON API, the pages, the exports and the feeds.
//! Totals are computed from the `link_events` log at query time, so every
//! filter (namespace, bots, editor kind, provenance, …) applies to every view
//! and a collection pattern added later shows its full history. The one
//! exception is a plain report on one registrable domain, which the
//! per-domain rollups answer with the same result (see `link_rollup`).
//!
//! The SQL `WHERE` clause is built here ([`LinkFilter::where_sql`]) in a form
//! both SQLite and PostgreSQL run (`?N` or `$N` placeholders, no
//! backend-specific functions), so a backend only supplies its connections.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{LinkAction, StoreError};
use crate::extract::EditorKind;

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

fn invalid(parameter: &'static str, message: impl Into<String>) -> InvalidParam {
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

/// A bound SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Int(i64),
    Text(String),
}

/// Placeholder style of the backend.
#[derive(Debug, Clone, Copy)]
pub enum Placeholders {
    /// `?1`
    Sqlite,
    /// `$1`
    Postgres,
}

/// Builds a WHERE clause and its parameters.
pub struct SqlBuilder {
    style: Placeholders,
    pub params: Vec<SqlValue>,
}

impl SqlBuilder {
    pub fn new(style: Placeholders) -> Self {
        SqlBuilder {
            style,
            params: Vec::new(),
        }
    }
    /// Binds `v` and returns its placeholder.
    pub fn bind(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        let n = self.params.len();
        match self.style {
            Placeholders::Sqlite => format!("?{n}"),
            Placeholders::Postgres => format!("${n}"),
        }
    }
    pub fn text(&mut self, s: impl Into<String>) -> String {
        self.bind(SqlValue::Text(s.into()))
    }
    pub fn int(&mut self, n: i64) -> String {
        self.bind(SqlValue::Int(n))
    }
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The reversed-host range covering `host` and its subdomains:
/// `rhost >= 'org.apa.' AND rhost < 'org.apa/'` (`/` sorts right after `.`).
fn rhost_subtree(b: &mut SqlBuilder, col: &str, host: &str) -> String {
    let r = crate::extract::reversed_host(host);
    let mut upper = r.clone();
    upper.pop();
    upper.push('/');
    let lo = b.text(r);
    let hi = b.text(upper);
    format!("({col}.rhost >= {lo} AND {col}.rhost < {hi})")
}

const DAY_MS: i64 = 86_400_000;

impl LinkFilter {
    /// The SQL condition on the link-matching part only (matchers and
    /// wrappers), for the `page_links` ⋈ `link_events` present count.
    pub fn match_sql(&self, b: &mut SqlBuilder, col: &str) -> Vec<String> {
        let mut conds = Vec::new();
        if !self.matchers.is_empty() {
            let mut alts = Vec::new();
            for m in &self.matchers {
                alts.push(match m {
                    LinkMatch::Domain {
                        domain,
                        registrable: true,
                    } => format!("{col}.domain = {}", b.text(domain.clone())),
                    LinkMatch::Domain { domain, .. } => rhost_subtree(b, col, domain),
                    LinkMatch::Host { host } => format!(
                        "{col}.rhost = {}",
                        b.text(crate::extract::reversed_host(host))
                    ),
                    LinkMatch::Prefix { host, prefix } => {
                        let r = b.text(crate::extract::reversed_host(host));
                        let n = b.int(prefix.chars().count() as i64);
                        let p = b.text(prefix.clone());
                        // substr's length is a 32-bit integer on PostgreSQL; the
                        // inner cast makes the parameter a bigint there (an i64).
                        format!(
                            "({col}.rhost = {r} AND substr(COALESCE({col}.target, {col}.url), 1, CAST(CAST({n} AS BIGINT) AS INTEGER)) = {p})"
                        )
                    }
                    LinkMatch::Pattern {
                        host,
                        subdomains,
                        scheme,
                        path,
                    } => {
                        let mut c = vec![if *subdomains {
                            rhost_subtree(b, col, host)
                        } else {
                            format!(
                                "{col}.rhost = {}",
                                b.text(crate::extract::reversed_host(host))
                            )
                        }];
                        if let Some(s) = scheme {
                            let p = b.text(format!("{}://%", like_escape(s)));
                            c.push(format!(
                                "COALESCE({col}.target, {col}.url) LIKE {p} ESCAPE '\\'"
                            ));
                        }
                        if let Some(path) = path {
                            let p = b.text(format!("%{}{}%", like_escape(host), like_escape(path)));
                            c.push(format!(
                                "COALESCE({col}.target, {col}.url) LIKE {p} ESCAPE '\\'"
                            ));
                        }
                        format!("({})", c.join(" AND "))
                    }
                });
            }
            conds.push(format!("({})", alts.join(" OR ")));
        }
        match self.wrappers {
            Tristate::Include => {}
            Tristate::Exclude => conds.push(format!("{col}.wrapper_kind IS NULL")),
            Tristate::Only => conds.push(format!("{col}.wrapper_kind IS NOT NULL")),
        }
        if !self.wikis.is_empty() {
            conds.push(self.wiki_sql(b, &format!("{col}.wiki")));
        }
        if !self.namespaces.is_empty() {
            let list: Vec<String> = self.namespaces.iter().map(|n| b.int(*n)).collect();
            conds.push(format!("{col}.page_namespace IN ({})", list.join(", ")));
        }
        conds
    }

    fn wiki_sql(&self, b: &mut SqlBuilder, column: &str) -> String {
        let mut alts = Vec::new();
        for w in &self.wikis {
            if w.contains('*') {
                let p = b.text(like_escape(w).replace('*', "%"));
                alts.push(format!("{column} LIKE {p} ESCAPE '\\'"));
            } else {
                alts.push(format!("{column} = {}", b.text(w.clone())));
            }
        }
        format!("({})", alts.join(" OR "))
    }

    /// Every condition of the filter on `link_events` aliased as `col`.
    pub fn where_sql(&self, b: &mut SqlBuilder, col: &str) -> Vec<String> {
        let mut conds = self.match_sql(b, col);
        if !self.actions.is_empty() {
            let list: Vec<String> = self.actions.iter().map(|a| b.text(a.as_str())).collect();
            conds.push(format!("{col}.action IN ({})", list.join(", ")));
        }
        if !self.provenances.is_empty() {
            let list: Vec<String> = self
                .provenances
                .iter()
                .map(|p| b.text(p.as_str()))
                .collect();
            conds.push(format!("{col}.provenance IN ({})", list.join(", ")));
        }
        if !self.users.is_empty() {
            let list: Vec<String> = self.users.iter().map(|u| b.text(u.clone())).collect();
            conds.push(format!("{col}.performer IN ({})", list.join(", ")));
        }
        match self.bots {
            Tristate::Include => {}
            Tristate::Exclude => conds.push(format!("COALESCE({col}.performer_bot, 0) = 0")),
            Tristate::Only => conds.push(format!("{col}.performer_bot = 1")),
        }
        if !self.editor_kinds.is_empty() {
            let list: Vec<String> = self
                .editor_kinds
                .iter()
                .map(|k| b.text(k.as_str()))
                .collect();
            conds.push(format!("{col}.editor_kind IN ({})", list.join(", ")));
        }
        if let Some(d) = self.min_account_age_days {
            let v = b.int(d * DAY_MS);
            conds.push(format!(
                "({col}.time_ms - {col}.performer_registration_ms) >= {v}"
            ));
        }
        if let Some(d) = self.max_account_age_days {
            let v = b.int(d * DAY_MS);
            conds.push(format!(
                "({col}.time_ms - {col}.performer_registration_ms) < {v}"
            ));
        }
        if let Some(n) = self.min_edit_count {
            conds.push(format!("{col}.performer_edit_count >= {}", b.int(n)));
        }
        if let Some(n) = self.max_edit_count {
            conds.push(format!("{col}.performer_edit_count <= {}", b.int(n)));
        }
        if let Some(t) = self.from_ms {
            conds.push(format!("{col}.time_ms >= {}", b.int(t)));
        }
        if let Some(t) = self.until_ms {
            conds.push(format!("{col}.time_ms < {}", b.int(t)));
        }
        if let Some((wiki, title)) = &self.page {
            let w = b.text(wiki.clone());
            let t = b.text(title.clone());
            conds.push(format!("{col}.wiki = {w} AND {col}.page_title = {t}"));
        }
        conds
    }
}

/// `WHERE a AND b` or an empty string.
pub fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

/// Position in a newest-first listing: the last row's `(time_ms, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub time_ms: i64,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.time_ms, self.id)
    }
    pub fn decode(s: &str) -> Result<Cursor, InvalidParam> {
        let bad = || {
            invalid(
                "cursor",
                "not a cursor from this API; pass next_cursor back unchanged",
            )
        };
        let (t, i) = s.split_once('_').ok_or_else(bad)?;
        Ok(Cursor {
            time_ms: t.parse().map_err(|_| bad())?,
            id: i.parse().map_err(|_| bad())?,
        })
    }
}

/// One stored link event.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LinkEventRow {
    pub id: i64,
    pub meta_id: String,
    pub action: String,
    pub time: String,
    pub time_ms: i64,
    pub wiki: String,
    pub wiki_domain: String,
    pub page_id: i64,
    pub page_title: String,
    pub page_namespace: i64,
    pub rev_id: Option<i64>,
    pub rc_id: Option<i64>,
    pub provenance: Option<String>,
    pub performer: Option<String>,
    pub performer_id: Option<i64>,
    pub performer_bot: Option<bool>,
    pub editor_kind: Option<String>,
    pub performer_registration_ms: Option<i64>,
    pub performer_edit_count: Option<i64>,
    /// As delivered (percent-encoded).
    pub raw: String,
    /// Decoded once.
    pub url: String,
    /// The archived or proxied URL for wrapped links, else `url`.
    pub target: String,
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub domain: Option<String>,
    pub wrapper_kind: Option<String>,
    pub wrapper_host: Option<String>,
}

/// Columns of [`LinkEventRow`] in order, on alias `le`.
pub const EVENT_COLUMNS: &str = "le.id, le.meta_id, le.action, le.time_ms, le.wiki, le.wiki_domain, le.page_id,
    le.page_title, le.page_namespace, le.rev_id, le.rc_id, le.provenance, le.performer, le.performer_id,
    le.performer_bot, le.editor_kind, le.performer_registration_ms, le.performer_edit_count, le.raw,
    le.url, COALESCE(le.target, le.url), le.scheme, le.host, le.domain, le.wrapper_kind, le.wrapper_host";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TopBy {
    Domain,
    User,
    Wiki,
    Page,
}

impl TopBy {
    pub fn parse(s: &str) -> Option<TopBy> {
        match s {
            "domain" => Some(TopBy::Domain),
            "user" => Some(TopBy::User),
            "wiki" => Some(TopBy::Wiki),
            "page" => Some(TopBy::Page),
            _ => None,
        }
    }
}

/// One entry of a ranked list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TopRow {
    /// The domain, user or wiki (`wiki:title` for pages).
    pub key: String,
    pub wiki: Option<String>,
    pub added: i64,
    pub removed: i64,
    pub net: i64,
}

impl TopRow {
    pub fn new(key: String, wiki: Option<String>, added: i64, removed: i64) -> TopRow {
        TopRow {
            key,
            wiki,
            added,
            removed,
            net: added - removed,
        }
    }
}

/// Per-day counts (day = epoch day, UTC).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct DayCount {
    pub day: i64,
    pub added: i64,
    pub removed: i64,
}

/// Signals of possible link spam for the additions a filter selects.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SpamSignals {
    pub additions: i64,
    pub users: i64,
    pub wikis: i64,
    pub top_user: Option<String>,
    pub top_user_additions: i64,
    pub top_user_share: f64,
    /// Additions by IP editors or temporary accounts.
    pub ip_or_temp_additions: i64,
    /// Additions by accounts under 7 days old or with under 10 edits at the time.
    pub new_account_additions: i64,
    /// Additions whose link was later removed from the same page.
    pub later_removed: i64,
    /// Names of the signals raised.
    pub flags: Vec<String>,
}

impl SpamSignals {
    /// Sets `top_user_share` and `flags` from the counts.
    pub fn finish(&mut self) {
        self.flags.clear();
        if self.additions == 0 {
            return;
        }
        let n = self.additions as f64;
        self.top_user_share = self.top_user_additions as f64 / n;
        if self.users >= 3 && self.wikis >= 3 {
            self.flags.push(format!(
                "added by {} users on {} wikis",
                self.users, self.wikis
            ));
        }
        if self.top_user_share > 0.66 && self.additions >= 3 {
            self.flags.push(format!(
                "one editor made {:.0}% of the additions",
                self.top_user_share * 100.0
            ));
        }
        if self.ip_or_temp_additions == self.additions {
            self.flags
                .push("added only by IP editors or temporary accounts".into());
        }
        if self.new_account_additions * 2 > self.additions {
            self.flags
                .push("most additions by accounts under 7 days old or with under 10 edits".into());
        }
        if self.later_removed * 2 > self.additions {
            self.flags.push("most additions were later removed".into());
        }
    }
}

/// A report over the events a filter selects.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LinkReport {
    pub added: i64,
    pub removed: i64,
    pub net: i64,
    /// Links present now on live pages, by the match part of the filter
    /// (matchers, wrappers, wikis, namespaces).
    pub present: i64,
    pub first_seen_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
    /// Days with events, ascending (zero-filling is the caller's choice of range).
    pub days: Vec<DayCount>,
    pub top_users: Vec<TopRow>,
    pub top_wikis: Vec<TopRow>,
    pub top_pages: Vec<TopRow>,
    pub signals: SpamSignals,
    /// `rollups` when the per-domain rollups answered, `log` when the
    /// events were read (see `link_rollup`).
    pub computed_from: &'static str,
}

/// One row of a report scan: the columns every section of a report needs,
/// with whether the row passes the whole filter (`pass`) and the filter of
/// the spam signals (`signal`: the same filter with action `added` only).
/// A scan reads the rows matching the link part of the filter once, so the
/// removals that "later removed" looks for are in it whatever the other
/// filters say.
#[derive(Debug, Clone, Copy)]
pub struct ScanRow<'a> {
    pub id: i64,
    pub time_ms: i64,
    pub action: &'a str,
    pub performer: Option<&'a str>,
    pub wiki: &'a str,
    pub page_id: i64,
    pub page_title: &'a str,
    pub raw: &'a str,
    pub editor_kind: Option<&'a str>,
    pub registration_ms: Option<i64>,
    pub edit_count: Option<i64>,
    pub pass: bool,
    pub signal: bool,
}

/// Added and removed counts of one key.
#[derive(Debug, Default, Clone, Copy)]
struct AddRem {
    added: i64,
    removed: i64,
}

/// A 128-bit digest of `(wiki, page_id, raw)`: pairs an addition with a later
/// removal of the same link on the same page without keeping every URL in
/// memory (a collision among a million links has odds of about 1 in 10^27).
fn link_key(wiki: &str, page_id: i64, raw: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut h1 = std::collections::hash_map::DefaultHasher::new();
    (0u8, wiki, page_id, raw).hash(&mut h1);
    let mut h2 = std::collections::hash_map::DefaultHasher::new();
    (1u8, raw, page_id, wiki).hash(&mut h2);
    (u128::from(h1.finish()) << 64) | u128::from(h2.finish())
}

/// Builds a [`LinkReport`] from one pass over the scanned rows, in any order
/// and in any number of parts ([`ReportAgg::merge`]), so a backend can read
/// a large domain once (or in parallel parts) instead of once per section.
/// Orders and ties follow the SQL of the per-section queries exactly.
#[derive(Debug, Default)]
pub struct ReportAgg {
    days: std::collections::BTreeMap<i64, AddRem>,
    first: Option<i64>,
    last: Option<i64>,
    users: std::collections::HashMap<String, AddRem>,
    wikis: std::collections::HashMap<String, AddRem>,
    /// wiki → title → counts (two lookups by `&str`, no allocation per row).
    pages: std::collections::HashMap<String, std::collections::HashMap<String, AddRem>>,
    sig_additions: i64,
    sig_users: std::collections::HashMap<String, i64>,
    sig_wikis: std::collections::HashSet<String>,
    sig_ip_or_temp: i64,
    sig_new_accounts: i64,
    /// Signal additions, to be checked against `removals`.
    sig_added: Vec<(u128, i64)>,
    /// The highest id of a `removed` event per link on a page.
    removals: std::collections::HashMap<u128, i64>,
}

/// Counts one event of `key` in a map keyed by `String`, allocating the key
/// only the first time it is seen.
fn bump(map: &mut std::collections::HashMap<String, AddRem>, key: &str, added: bool) {
    let e = match map.get_mut(key) {
        Some(e) => e,
        None => map.entry(key.to_owned()).or_default(),
    };
    if added {
        e.added += 1;
    } else {
        e.removed += 1;
    }
}

impl ReportAgg {
    pub fn add(&mut self, r: &ScanRow<'_>) {
        if r.action == "removed" {
            let k = link_key(r.wiki, r.page_id, r.raw);
            let e = self.removals.entry(k).or_insert(r.id);
            *e = (*e).max(r.id);
        }
        if r.pass {
            let added = matches!(r.action, "added" | "page_restored");
            let removed = matches!(r.action, "removed" | "page_deleted");
            let d = self.days.entry(r.time_ms / DAY_MS).or_default();
            if added {
                d.added += 1;
            } else if removed {
                d.removed += 1;
            }
            self.first = Some(self.first.map_or(r.time_ms, |f| f.min(r.time_ms)));
            self.last = Some(self.last.map_or(r.time_ms, |l| l.max(r.time_ms)));
            if added || removed {
                if let Some(u) = r.performer {
                    bump(&mut self.users, u, added);
                }
                bump(&mut self.wikis, r.wiki, added);
                let titles = match self.pages.get_mut(r.wiki) {
                    Some(t) => t,
                    None => self.pages.entry(r.wiki.to_owned()).or_default(),
                };
                bump(titles, r.page_title, added);
            }
        }
        if r.signal {
            self.sig_additions += 1;
            if let Some(u) = r.performer {
                match self.sig_users.get_mut(u) {
                    Some(n) => *n += 1,
                    None => {
                        self.sig_users.insert(u.to_owned(), 1);
                    }
                }
            }
            if !self.sig_wikis.contains(r.wiki) {
                self.sig_wikis.insert(r.wiki.to_owned());
            }
            if matches!(r.editor_kind, Some("ip" | "temp")) {
                self.sig_ip_or_temp += 1;
            }
            let young = r
                .registration_ms
                .is_some_and(|reg| r.time_ms - reg < 7 * DAY_MS);
            if young || r.edit_count.is_some_and(|n| n < 10) {
                self.sig_new_accounts += 1;
            }
            self.sig_added
                .push((link_key(r.wiki, r.page_id, r.raw), r.id));
        }
    }

    /// Adds another part's rows (parts never share a row).
    pub fn merge(&mut self, o: ReportAgg) {
        fn sum<K: std::hash::Hash + Eq>(
            a: &mut std::collections::HashMap<K, AddRem>,
            b: std::collections::HashMap<K, AddRem>,
        ) {
            for (k, v) in b {
                let e = a.entry(k).or_default();
                e.added += v.added;
                e.removed += v.removed;
            }
        }
        for (d, v) in o.days {
            let e = self.days.entry(d).or_default();
            e.added += v.added;
            e.removed += v.removed;
        }
        self.first = match (self.first, o.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, o.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        sum(&mut self.users, o.users);
        sum(&mut self.wikis, o.wikis);
        for (w, titles) in o.pages {
            sum(self.pages.entry(w).or_default(), titles);
        }
        self.sig_additions += o.sig_additions;
        for (u, n) in o.sig_users {
            *self.sig_users.entry(u).or_default() += n;
        }
        self.sig_wikis.extend(o.sig_wikis);
        self.sig_ip_or_temp += o.sig_ip_or_temp;
        self.sig_new_accounts += o.sig_new_accounts;
        self.sig_added.extend(o.sig_added);
        for (k, id) in o.removals {
            let e = self.removals.entry(k).or_insert(id);
            *e = (*e).max(id);
        }
    }

    /// The report; `present` comes from its own query.
    pub fn finish(self, top: usize, present: i64) -> LinkReport {
        /// `ORDER BY added DESC, net DESC, key, wiki LIMIT n`.
        fn ranked(rows: Vec<TopRow>, n: usize) -> Vec<TopRow> {
            let mut rows = rows;
            rows.sort_by(|a, b| {
                b.added
                    .cmp(&a.added)
                    .then(b.net.cmp(&a.net))
                    .then_with(|| a.key.cmp(&b.key))
                    .then_with(|| a.wiki.cmp(&b.wiki))
            });
            rows.truncate(n);
            rows
        }
        let row = |key: String, wiki: Option<String>, v: AddRem| {
            TopRow::new(key, wiki, v.added, v.removed)
        };
        let days: Vec<DayCount> = self
            .days
            .iter()
            .map(|(d, v)| DayCount {
                day: *d,
                added: v.added,
                removed: v.removed,
            })
            .collect();
        let added: i64 = days.iter().map(|d| d.added).sum();
        let removed: i64 = days.iter().map(|d| d.removed).sum();
        let top_users = ranked(
            self.users
                .into_iter()
                .map(|(k, v)| row(k, None, v))
                .collect(),
            top,
        );
        let top_wikis = ranked(
            self.wikis
                .into_iter()
                .map(|(k, v)| row(k, None, v))
                .collect(),
            top,
        );
        let top_pages = ranked(
            self.pages
                .into_iter()
                .flat_map(|(w, titles)| titles.into_iter().map(move |(t, v)| (w.clone(), t, v)))
                .map(|(w, t, v)| row(t, Some(w), v))
                .collect(),
            top,
        );
        let removals = self.removals;
        let later_removed = self
            .sig_added
            .iter()
            .filter(|(k, id)| removals.get(k).is_some_and(|r| r > id))
            .count() as i64;
        let top_user = self
            .sig_users
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(u, n)| (u.clone(), *n));
        let mut signals = SpamSignals {
            additions: self.sig_additions,
            users: self.sig_users.len() as i64,
            wikis: self.sig_wikis.len() as i64,
            top_user_additions: top_user.as_ref().map_or(0, |t| t.1),
            top_user: top_user.map(|t| t.0),
            ip_or_temp_additions: self.sig_ip_or_temp,
            new_account_additions: self.sig_new_accounts,
            later_removed,
            ..Default::default()
        };
        signals.finish();
        LinkReport {
            added,
            removed,
            net: added - removed,
            present,
            first_seen_ms: self.first,
            last_seen_ms: self.last,
            days,
            top_users,
            top_wikis,
            top_pages,
            signals,
            computed_from: "log",
        }
    }
}

/// The conditions of a report scan: `scan` selects the rows to read (the link
/// part of the filter: matchers and wrappers, which every event of the same
/// link on the same page shares), `pass` and `signal` classify each row.
/// `None` when the filter has no matcher (a scan would read the whole log).
pub fn report_scan_sql(
    filter: &LinkFilter,
    b: &mut SqlBuilder,
) -> Option<(Vec<String>, String, String)> {
    if filter.matchers.is_empty() {
        return None;
    }
    let link_only = LinkFilter {
        matchers: filter.matchers.clone(),
        wrappers: filter.wrappers,
        ..Default::default()
    };
    let scan = link_only.match_sql(b, "le");
    let pass = filter.where_sql(b, "le");
    let mut sig = filter.clone();
    sig.actions = vec![LinkAction::Added];
    let signal = sig.where_sql(b, "le");
    let and = |c: Vec<String>| {
        if c.is_empty() {
            "1".to_owned()
        } else {
            format!("CASE WHEN {} THEN 1 ELSE 0 END", c.join(" AND "))
        }
    };
    Some((scan, and(pass), and(signal)))
}

/// One domain a user added or removed on one wiki.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserDomainRow {
    pub wiki: String,
    pub domain: Option<String>,
    pub added: i64,
    pub removed: i64,
    pub first_ms: i64,
    pub last_ms: i64,
}

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
        self.patterns
            .iter()
            .map(|p| LinkMatch::collection_pattern(p).map_err(|e| invalid("patterns", e.message)))
            .collect()
    }
}

/// Link queries; every backend implements them over its own connections.
#[async_trait]
pub trait LinkQueries: Send + Sync {
    /// Newest first, after `cursor`, at most `limit` rows.
    async fn link_events(
        &self,
        filter: &LinkFilter,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<LinkEventRow>, StoreError>;

    /// Oldest first by id, with `id > after_id`, for the feeds. With
    /// `first_seen_only`, only additions of a target URL never added before.
    async fn link_events_after(
        &self,
        filter: &LinkFilter,
        after_id: i64,
        limit: usize,
        first_seen_only: bool,
    ) -> Result<Vec<LinkEventRow>, StoreError>;

    /// The highest link event id (0 when there is none).
    async fn link_max_id(&self) -> Result<i64, StoreError>;

    /// The id before the first event at or after `time_ms`.
    async fn link_id_before_time(&self, time_ms: i64) -> Result<i64, StoreError>;

    async fn link_report(&self, filter: &LinkFilter, top: usize) -> Result<LinkReport, StoreError>;

    async fn link_top(
        &self,
        filter: &LinkFilter,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError>;

    /// Per wiki and domain, for the users in the filter.
    async fn link_user_domains(
        &self,
        filter: &LinkFilter,
    ) -> Result<Vec<UserDomainRow>, StoreError>;

    /// Collections stored through the admin API.
    async fn link_collections(&self) -> Result<Vec<CollectionDef>, StoreError>;

    async fn put_link_collection(&self, c: &CollectionDef) -> Result<(), StoreError>;

    /// Returns whether it existed.
    async fn delete_link_collection(&self, name: &str) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_parse() {
        assert_eq!(
            LinkMatch::pattern("*.Example.org/path").unwrap(),
            LinkMatch::Pattern {
                host: "example.org".into(),
                subdomains: true,
                scheme: None,
                path: Some("/path".into())
            }
        );
        assert!(LinkMatch::pattern("ex*ample.org").is_err());
        assert!(LinkMatch::domain("apa.org/x").is_err());
        assert!(matches!(
            LinkMatch::domain("www.apa.org").unwrap(),
            LinkMatch::Domain {
                registrable: false,
                ..
            }
        ));
        assert_eq!(
            LinkMatch::domain("Bücher.example").unwrap(),
            LinkMatch::Domain {
                domain: "xn--bcher-kva.example".into(),
                registrable: true
            }
        );
    }

    #[test]
    fn domain_range_is_on_label_boundaries() {
        let f = LinkFilter {
            matchers: vec![LinkMatch::domain("www.apa.org").unwrap()],
            ..Default::default()
        };
        let mut b = SqlBuilder::new(Placeholders::Sqlite);
        let c = f.where_sql(&mut b, "le");
        assert_eq!(c, vec!["((le.rhost >= ?1 AND le.rhost < ?2))"]);
        assert_eq!(
            b.params,
            vec![
                SqlValue::Text("org.apa.www.".into()),
                SqlValue::Text("org.apa.www/".into())
            ]
        );
    }

    #[test]
    fn cursor_round_trips_and_rejects_junk() {
        let c = Cursor { time_ms: 5, id: 7 };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("x").is_err());
    }

    #[test]
    fn signals_flag_a_dominant_editor() {
        let mut s = SpamSignals {
            additions: 10,
            users: 2,
            wikis: 1,
            top_user_additions: 9,
            ip_or_temp_additions: 0,
            ..Default::default()
        };
        s.finish();
        assert!(s.flags.iter().any(|f| f.contains("one editor")));
    }
}
