//! The link read operations: the [`LinkQueries`] trait every backend
//! implements, and the SQL both backends run for it, written once with the
//! [`SqlBuilder`] (`?N` or `$N` placeholders, no backend-specific functions
//! but the md5 comparisons [`Dialect::same_long_text`] adds on PostgreSQL),
//! so a backend only supplies its connections and reads its rows.
//!
//! Totals are computed from the `link_events` log at query time, so every
//! filter (namespace, bots, editor kind, provenance, …) applies to every view
//! and a collection pattern added later shows its full history. The one
//! exception is a plain report on one registrable domain, which the
//! per-domain rollups answer with the same result ([`RollupSql`], planned by
//! `crate::links::rollup`).

use async_trait::async_trait;

use super::StoreError;
use super::sql::{Dialect, Query, SqlBuilder, like_escape, where_clause};
use crate::links::filter::{CollectionDef, LinkAction, LinkFilter, LinkMatch, Tristate};
use crate::links::report::{
    Cursor, LinkEventRow, LinkReport, SpamSignals, TopBy, TopRow, UserDomainRow,
};
use crate::links::rollup::{RollupDim, RollupPlan};

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

/// The SQL condition on the link-matching part only (matchers and
/// wrappers), for the `page_links` ⋈ `link_events` present count.
pub fn match_sql(f: &LinkFilter, b: &mut SqlBuilder, col: &str) -> Vec<String> {
    let mut conds = Vec::new();
    if !f.matchers.is_empty() {
        let mut alts = Vec::new();
        for m in &f.matchers {
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
    match f.wrappers {
        Tristate::Include => {}
        Tristate::Exclude => conds.push(format!("{col}.wrapper_kind IS NULL")),
        Tristate::Only => conds.push(format!("{col}.wrapper_kind IS NOT NULL")),
    }
    if !f.wikis.is_empty() {
        conds.push(wiki_sql(f, b, &format!("{col}.wiki")));
    }
    if !f.namespaces.is_empty() {
        let list: Vec<String> = f.namespaces.iter().map(|n| b.int(*n)).collect();
        conds.push(format!("{col}.page_namespace IN ({})", list.join(", ")));
    }
    conds
}

fn wiki_sql(f: &LinkFilter, b: &mut SqlBuilder, column: &str) -> String {
    let mut alts = Vec::new();
    for w in &f.wikis {
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
pub fn where_sql(f: &LinkFilter, b: &mut SqlBuilder, col: &str) -> Vec<String> {
    let mut conds = match_sql(f, b, col);
    if !f.actions.is_empty() {
        let list: Vec<String> = f.actions.iter().map(|a| b.text(a.as_str())).collect();
        conds.push(format!("{col}.action IN ({})", list.join(", ")));
    }
    if !f.provenances.is_empty() {
        let list: Vec<String> = f.provenances.iter().map(|p| b.text(p.as_str())).collect();
        conds.push(format!("{col}.provenance IN ({})", list.join(", ")));
    }
    if !f.users.is_empty() {
        let list: Vec<String> = f.users.iter().map(|u| b.text(u.clone())).collect();
        conds.push(format!("{col}.performer IN ({})", list.join(", ")));
    }
    match f.bots {
        Tristate::Include => {}
        Tristate::Exclude => conds.push(format!("COALESCE({col}.performer_bot, 0) = 0")),
        Tristate::Only => conds.push(format!("{col}.performer_bot = 1")),
    }
    if !f.editor_kinds.is_empty() {
        let list: Vec<String> = f.editor_kinds.iter().map(|k| b.text(k.as_str())).collect();
        conds.push(format!("{col}.editor_kind IN ({})", list.join(", ")));
    }
    if let Some(d) = f.min_account_age_days {
        let v = b.int(d * DAY_MS);
        conds.push(format!(
            "({col}.time_ms - {col}.performer_registration_ms) >= {v}"
        ));
    }
    if let Some(d) = f.max_account_age_days {
        let v = b.int(d * DAY_MS);
        conds.push(format!(
            "({col}.time_ms - {col}.performer_registration_ms) < {v}"
        ));
    }
    if let Some(n) = f.min_edit_count {
        conds.push(format!("{col}.performer_edit_count >= {}", b.int(n)));
    }
    if let Some(n) = f.max_edit_count {
        conds.push(format!("{col}.performer_edit_count <= {}", b.int(n)));
    }
    if let Some(t) = f.from_ms {
        conds.push(format!("{col}.time_ms >= {}", b.int(t)));
    }
    if let Some(t) = f.until_ms {
        conds.push(format!("{col}.time_ms < {}", b.int(t)));
    }
    if let Some((wiki, title)) = &f.page {
        let w = b.text(wiki.clone());
        let t = b.text(title.clone());
        conds.push(format!("{col}.wiki = {w} AND {col}.page_title = {t}"));
    }
    conds
}

/// Columns of [`LinkEventRow`] in order, on alias `le`.
pub const EVENT_COLUMNS: &str = "le.id, le.meta_id, le.action, le.time_ms, le.wiki, le.wiki_domain, le.page_id,
    le.page_title, le.page_namespace, le.rev_id, le.rc_id, le.provenance, le.performer, le.performer_id,
    le.performer_bot, le.editor_kind, le.performer_registration_ms, le.performer_edit_count, le.raw,
    le.url, COALESCE(le.target, le.url), le.scheme, le.host, le.domain, le.wrapper_kind, le.wrapper_host";

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
    let scan = match_sql(&link_only, b, "le");
    let pass = where_sql(filter, b, "le");
    let mut sig = filter.clone();
    sig.actions = vec![LinkAction::Added];
    let signal = where_sql(&sig, b, "le");
    let and = |c: Vec<String>| {
        if c.is_empty() {
            "1".to_owned()
        } else {
            format!("CASE WHEN {} THEN 1 ELSE 0 END", c.join(" AND "))
        }
    };
    Some((scan, and(pass), and(signal)))
}

/// `SUM(CASE …)` of additions and removals.
const ADDED: &str = "SUM(CASE WHEN le.action IN ('added', 'page_restored') THEN 1 ELSE 0 END)";
const REMOVED: &str = "SUM(CASE WHEN le.action IN ('removed', 'page_deleted') THEN 1 ELSE 0 END)";

/// Events newest first after `cursor`, columns [`EVENT_COLUMNS`].
pub fn events_sql(d: Dialect, filter: &LinkFilter, cursor: Option<Cursor>, limit: usize) -> Query {
    let mut b = SqlBuilder::new(d);
    let mut conds = where_sql(filter, &mut b, "le");
    if let Some(cur) = cursor {
        let t = b.int(cur.time_ms);
        let i = b.int(cur.id);
        conds.push(format!(
            "(le.time_ms < {t} OR (le.time_ms = {t} AND le.id < {i}))"
        ));
    }
    let lim = b.int(limit as i64);
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM link_events le {} ORDER BY le.time_ms DESC, le.id DESC LIMIT {lim}",
        where_clause(&conds)
    );
    b.query(sql)
}

/// Events oldest first by id after `after_id` (the feeds), columns
/// [`EVENT_COLUMNS`]; with `first_seen_only`, additions of a target never
/// added before.
pub fn events_after_sql(
    d: Dialect,
    filter: &LinkFilter,
    after_id: i64,
    limit: usize,
    first_seen_only: bool,
) -> Query {
    let mut b = SqlBuilder::new(d);
    let mut conds = where_sql(filter, &mut b, "le");
    conds.push(format!("le.id > {}", b.int(after_id)));
    if first_seen_only {
        conds.push("le.action = 'added'".into());
        conds.push(format!(
            "NOT EXISTS (SELECT 1 FROM link_events p
               WHERE {}
                 AND p.action = 'added' AND p.id < le.id)",
            d.same_long_text("COALESCE(p.target, p.url)", "COALESCE(le.target, le.url)")
        ));
    }
    let lim = b.int(limit as i64);
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM link_events le {} ORDER BY le.id LIMIT {lim}",
        where_clause(&conds)
    );
    b.query(sql)
}

/// The first `limit` keys of `by`, columns key, wiki, added, removed.
pub fn top_sql(d: Dialect, filter: &LinkFilter, by: TopBy, limit: usize) -> Query {
    let mut b = SqlBuilder::new(d);
    let mut conds = where_sql(filter, &mut b, "le");
    let (key, wiki, group) = match by {
        TopBy::Domain => {
            conds.push("le.domain IS NOT NULL".into());
            ("le.domain", "CAST(NULL AS TEXT)", "le.domain")
        }
        TopBy::User => {
            conds.push("le.performer IS NOT NULL".into());
            ("le.performer", "CAST(NULL AS TEXT)", "le.performer")
        }
        TopBy::Wiki => ("le.wiki", "CAST(NULL AS TEXT)", "le.wiki"),
        TopBy::Page => ("le.page_title", "le.wiki", "le.wiki, le.page_title"),
    };
    let lim = b.int(limit as i64);
    // The aggregate in a subquery: PostgreSQL's ORDER BY cannot compute
    // over output aliases.
    let sql = format!(
        "SELECT k, w, a, r FROM (
            SELECT {key} AS k, {wiki} AS w, {ADDED} AS a, {REMOVED} AS r
            FROM link_events le {} GROUP BY {group}) t
         ORDER BY a DESC, a - r DESC, k LIMIT {lim}",
        where_clause(&conds)
    );
    b.query(sql)
}

/// The filter of the spam signals: the additions the filter selects.
pub fn signal_filter(filter: &LinkFilter) -> LinkFilter {
    let mut f = filter.clone();
    f.actions = vec![LinkAction::Added];
    f
}

/// The spam-signal counts of `signal_filter(filter)`, one row: additions,
/// users, wikis, then (NULL when there is no row) IP or temporary account
/// additions, new account additions and later-removed additions.
pub fn signals_sql(d: Dialect, filter: &LinkFilter) -> Query {
    let f = signal_filter(filter);
    let mut b = SqlBuilder::new(d);
    let conds = where_sql(&f, &mut b, "le");
    let week = b.int(7 * 86_400_000);
    let sql = format!(
        "SELECT COUNT(*), COUNT(DISTINCT le.performer), COUNT(DISTINCT le.wiki),
            SUM(CASE WHEN le.editor_kind IN ('ip', 'temp') THEN 1 ELSE 0 END),
            SUM(CASE WHEN (le.performer_registration_ms IS NOT NULL
                           AND le.time_ms - le.performer_registration_ms < {week})
                       OR le.performer_edit_count < 10 THEN 1 ELSE 0 END),
            SUM(CASE WHEN EXISTS (SELECT 1 FROM link_events r
                   WHERE r.wiki = le.wiki AND r.page_id = le.page_id AND {}
                     AND r.action = 'removed' AND r.id > le.id) THEN 1 ELSE 0 END)
         FROM link_events le {}",
        d.same_long_text("r.raw", "le.raw"),
        where_clause(&conds)
    );
    b.query(sql)
}

/// The spam signals from the row of [`signals_sql`] and the first user of
/// `signal_filter(filter)` by additions.
pub fn spam_signals(
    row: (i64, i64, i64, Option<i64>, Option<i64>, Option<i64>),
    top_user: Option<TopRow>,
) -> SpamSignals {
    let (additions, users, wikis, ip, new, later) = row;
    let mut s = SpamSignals {
        additions,
        users,
        wikis,
        ip_or_temp_additions: ip.unwrap_or(0),
        new_account_additions: new.unwrap_or(0),
        later_removed: later.unwrap_or(0),
        ..Default::default()
    };
    if let Some(top) = top_user {
        s.top_user = Some(top.key);
        s.top_user_additions = top.added;
    }
    s.finish();
    s
}

/// The day series of a report: day, added, removed, first and last time.
pub fn days_sql(d: Dialect, filter: &LinkFilter) -> Query {
    let mut b = SqlBuilder::new(d);
    let conds = where_sql(filter, &mut b, "le");
    let sql = format!(
        "SELECT le.time_ms / 86400000 AS d, {ADDED}, {REMOVED}, MIN(le.time_ms), MAX(le.time_ms)
         FROM link_events le {} GROUP BY d ORDER BY d",
        where_clause(&conds)
    );
    b.query(sql)
}

/// Links present now on live pages, by the match part of the filter. One
/// column. With `page_links_last_event` (migration 0005) the count starts
/// from the events the matcher picks by index.
pub fn present_sql(d: Dialect, filter: &LinkFilter) -> Query {
    let mut b = SqlBuilder::new(d);
    let mut conds = match_sql(filter, &mut b, "le");
    conds.push("pl.deleted = 0".into());
    let sql = format!(
        "SELECT COUNT(*) FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id {}",
        where_clause(&conds)
    );
    b.query(sql)
}

/// Per wiki and domain: wiki, domain, added, removed, first and last time.
pub fn user_domains_sql(d: Dialect, filter: &LinkFilter) -> Query {
    let mut b = SqlBuilder::new(d);
    let conds = where_sql(filter, &mut b, "le");
    let sql = format!(
        "SELECT le.wiki, le.domain, {ADDED} AS a, {REMOVED}, MIN(le.time_ms), MAX(le.time_ms)
         FROM link_events le {} GROUP BY le.wiki, le.domain ORDER BY a DESC, le.wiki, le.domain",
        where_clause(&conds)
    );
    b.query(sql)
}

/// How many parts a report scan is split into, each on its own read
/// connection (`id % PARTS`, tested from the index before the row is read).
pub const SCAN_PARTS: i64 = 2;

/// One part of a single-pass report scan (see `ReportAgg`), columns as
/// `ScanRow` in order; `None` when the filter has no matcher.
pub fn scan_part_sql(d: Dialect, filter: &LinkFilter, part: i64) -> Option<Query> {
    let mut b = SqlBuilder::new(d);
    let (mut scan, pass, signal) = report_scan_sql(filter, &mut b)?;
    let n = b.int(SCAN_PARTS);
    let k = b.int(part);
    scan.push(format!("le.id % {n} = {k}"));
    let sql = format!(
        "SELECT le.id, le.time_ms, le.action, le.performer, le.wiki, le.page_id, le.page_title,
            le.raw, le.editor_kind, le.performer_registration_ms, le.performer_edit_count,
            {pass}, {signal}
         FROM link_events le {}",
        where_clause(&scan)
    );
    Some(b.query(sql))
}

/// A report's log sections from their rows (the rollups and the scan have
/// their own): the day series and the sections read by their own queries.
pub fn log_report(
    days: Vec<(i64, i64, i64, i64, i64)>,
    present: i64,
    top: [Vec<TopRow>; 3],
    signals: SpamSignals,
) -> LinkReport {
    let mut out = Vec::with_capacity(days.len());
    let (mut first, mut last): (Option<i64>, Option<i64>) = (None, None);
    for (day, added, removed, lo, hi) in days {
        out.push(crate::links::report::DayCount {
            day,
            added,
            removed,
        });
        first = Some(first.map_or(lo, |f| f.min(lo)));
        last = Some(last.map_or(hi, |l| l.max(hi)));
    }
    let added = out.iter().map(|d| d.added).sum();
    let removed = out.iter().map(|d| d.removed).sum();
    let [top_users, top_wikis, top_pages] = top;
    LinkReport {
        added,
        removed,
        net: added - removed,
        present,
        first_seen_ms: first,
        last_seen_ms: last,
        days: out,
        top_users,
        top_wikis,
        top_pages,
        signals,
        computed_from: "log",
    }
}

/// The queries of a rollup report (see [`RollupPlan`]).
pub struct RollupSql<'a> {
    pub plan: &'a RollupPlan,
    pub dialect: Dialect,
}

/// The code of a ranked list in `link_domain_keys.dim`.
fn dim_code(dim: RollupDim) -> &'static str {
    match dim {
        RollupDim::User => "u",
        RollupDim::Wiki => "w",
        RollupDim::Page => "p",
    }
}

impl RollupSql<'_> {
    /// The `provenance` condition on a rollup table; `keys` tables hold the
    /// all-provenance sum under `*`.
    fn provenance_sql(&self, b: &mut SqlBuilder, keys: bool) -> Option<String> {
        match &self.plan.provenances {
            None if keys => Some("provenance = '*'".into()),
            None => None,
            Some(list) => {
                let list: Vec<String> = list.iter().map(|p| b.text(p.as_str())).collect();
                Some(format!("provenance IN ({})", list.join(", ")))
            }
        }
    }

    /// The columns of `link_domain_keys` holding the chosen wrapped cells,
    /// as a sum expression per count (`a`, `r` or `s`).
    fn cells(&self, count: char) -> String {
        match self.plan.wrappers {
            Tristate::Include => format!("{count}0 + {count}1"),
            Tristate::Exclude => format!("{count}0"),
            Tristate::Only => format!("{count}1"),
        }
    }

    fn builder(&self) -> SqlBuilder {
        SqlBuilder::new(self.dialect)
    }

    /// Day series with the spam-signal counts, ascending.
    pub fn days(&self) -> Query {
        let mut b = self.builder();
        let mut conds = vec![format!("domain = {}", b.text(self.plan.domain.clone()))];
        conds.extend(self.provenance_sql(&mut b, false));
        match self.plan.wrappers {
            Tristate::Include => {}
            Tristate::Exclude => conds.push("wrapped = 0".into()),
            Tristate::Only => conds.push("wrapped = 1".into()),
        }
        let sum = |e: &str| format!("CAST(SUM({e}) AS BIGINT)");
        let sql = format!(
            "SELECT day, {}, {}, MIN(first_ms), MAX(last_ms), {}, {}, {}, {}
             FROM link_domain_days WHERE {} GROUP BY day
             HAVING SUM(added + restored + removed + deleted) > 0 ORDER BY day",
            sum("added + restored"),
            sum("removed + deleted"),
            sum("added"),
            sum("ip_or_temp"),
            sum("new_account"),
            sum("later_removed"),
            conds.join(" AND ")
        );
        b.query(sql)
    }

    /// The first `limit` keys of `dim` by added, net, key and wiki (the
    /// order of the scan's ranked lists). Columns: key, wiki, added, removed.
    pub fn top(&self, dim: RollupDim, limit: usize) -> Query {
        let mut b = self.builder();
        let d = b.text(self.plan.domain.clone());
        let prov = self.provenance_sql(&mut b, true).unwrap_or_default();
        let (a, r) = (self.cells('a'), self.cells('r'));
        let lim = b.int(limit as i64);
        // The dim is a literal so the planner can match the index.
        let dim = dim_code(dim);
        // Written out in full: the ORDER BY must be the ranking index's expressions.
        let net = match self.plan.wrappers {
            Tristate::Include => "a0 + a1 - r0 - r1",
            Tristate::Exclude => "a0 - r0",
            Tristate::Only => "a1 - r1",
        };
        let sql = if self.plan.one_row_per_key() {
            format!(
                "SELECT key, wiki, {a} AS added, {r} AS removed FROM link_domain_keys
                 WHERE domain = {d} AND dim = '{dim}' AND {prov} AND ({a}) + ({r}) > 0
                 ORDER BY ({a}) DESC, ({net}) DESC, substr(key, 1, 200), key, wiki LIMIT {lim}"
            )
        } else {
            format!(
                "SELECT key, wiki, CAST(SUM({a}) AS BIGINT) AS added,
                    CAST(SUM({r}) AS BIGINT) AS removed
                 FROM link_domain_keys WHERE domain = {d} AND dim = '{dim}' AND {prov}
                 GROUP BY key, wiki HAVING SUM({a}) + SUM({r}) > 0
                 ORDER BY SUM({a}) DESC, SUM({a}) - SUM({r}) DESC, substr(key, 1, 200), key, wiki LIMIT {lim}"
            )
        };
        b.query(sql)
    }

    /// How many users (`User`) or wikis (`Wiki`) made signal additions.
    /// One column.
    pub fn adders(&self, dim: RollupDim) -> Query {
        let mut b = self.builder();
        let d = b.text(self.plan.domain.clone());
        let prov = self.provenance_sql(&mut b, true).unwrap_or_default();
        let s = self.cells('s');
        let dim = dim_code(dim);
        let sql = if self.plan.one_row_per_key() {
            // Kept as a count by triggers (`link_domain_adders`).
            let wrapped = match self.plan.wrappers {
                Tristate::Include => "any",
                Tristate::Exclude => "plain",
                Tristate::Only => "wrapped",
            };
            format!(
                "SELECT CAST(COALESCE(SUM(adders), 0) AS BIGINT) FROM link_domain_adders
                 WHERE domain = {d} AND dim = '{dim}' AND {prov} AND wrapped = '{wrapped}'"
            )
        } else {
            format!(
                "SELECT COUNT(*) FROM (SELECT key FROM link_domain_keys
                   WHERE domain = {d} AND dim = '{dim}' AND {prov}
                   GROUP BY key HAVING SUM({s}) > 0) AS k"
            )
        };
        b.query(sql)
    }

    /// The user with the most signal additions (ties: the first name).
    /// Columns: key, additions.
    pub fn top_adder(&self) -> Query {
        let mut b = self.builder();
        let d = b.text(self.plan.domain.clone());
        let prov = self.provenance_sql(&mut b, true).unwrap_or_default();
        let s = self.cells('s');
        let sql = if self.plan.one_row_per_key() {
            format!(
                "SELECT key, {s} FROM link_domain_keys
                 WHERE domain = {d} AND dim = 'u' AND {prov} AND {s} > 0
                 ORDER BY ({s}) DESC, substr(key, 1, 200), key LIMIT 1"
            )
        } else {
            format!(
                "SELECT key, CAST(SUM({s}) AS BIGINT) FROM link_domain_keys
                 WHERE domain = {d} AND dim = 'u' AND {prov}
                 GROUP BY key HAVING SUM({s}) > 0 ORDER BY SUM({s}) DESC, key LIMIT 1"
            )
        };
        b.query(sql)
    }

    /// Links present now. One column.
    pub fn present(&self) -> Query {
        let mut b = self.builder();
        let d = b.text(self.plan.domain.clone());
        let wrapped = match self.plan.wrappers {
            Tristate::Include => String::new(),
            Tristate::Exclude => " AND wrapped = 0".into(),
            Tristate::Only => " AND wrapped = 1".into(),
        };
        b.query(format!(
            "SELECT CAST(COALESCE(SUM(present), 0) AS BIGINT) FROM link_domain_present
                 WHERE domain = {d}{wrapped}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::filter::Provenance;
    use crate::store::sql::SqlValue;

    #[test]
    fn domain_range_is_on_label_boundaries() {
        let f = LinkFilter {
            matchers: vec![LinkMatch::domain("www.apa.org").unwrap()],
            ..Default::default()
        };
        let mut b = SqlBuilder::new(Dialect::Sqlite);
        let c = where_sql(&f, &mut b, "le");
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
    fn single_provenance_ranks_by_the_index_expression() {
        let mut f = LinkFilter {
            matchers: vec![LinkMatch::domain("jstor.org").expect("valid")],
            ..Default::default()
        };
        f.provenances = vec![Provenance::Edit];
        let plan = RollupPlan::for_filter(&f).expect("plan");
        let sql = RollupSql {
            plan: &plan,
            dialect: Dialect::Sqlite,
        };
        let q = sql.top(RollupDim::Page, 10);
        assert!(q.sql.contains(
            "ORDER BY (a0 + a1) DESC, (a0 + a1 - r0 - r1) DESC, substr(key, 1, 200), key, wiki"
        ));
        assert!(!q.sql.contains("GROUP BY"));
        f.provenances.push(Provenance::Propagated);
        let plan = RollupPlan::for_filter(&f).expect("plan");
        let sql = RollupSql {
            plan: &plan,
            dialect: Dialect::Sqlite,
        };
        assert!(
            sql.top(RollupDim::Page, 10)
                .sql
                .contains("GROUP BY key, wiki")
        );
    }
}
