//! Link reports and rows: what a link query returns (events, ranked lists,
//! day series, spam signals, reports) and the in-memory aggregation that
//! builds a report from one pass over scanned rows ([`ReportAgg`]) or from
//! the per-domain rollups ([`RollupRows`]). No SQL.

use serde::Serialize;

const DAY_MS: i64 = 86_400_000;

pub use crate::cursor::Cursor;

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
    /// events were read (see `crate::links::rollup`).
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

/// One row of the day series query, in column order.
#[derive(Debug, Clone, Copy, Default)]
pub struct RollupDay {
    pub day: i64,
    pub added: i64,
    pub removed: i64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub signal_additions: i64,
    pub ip_or_temp: i64,
    pub new_account: i64,
    pub later_removed: i64,
}

/// What the backend read for a rollup report.
#[derive(Debug, Clone, Default)]
pub struct RollupRows {
    pub days: Vec<RollupDay>,
    pub top_users: Vec<TopRow>,
    pub top_wikis: Vec<TopRow>,
    pub top_pages: Vec<TopRow>,
    pub adders: i64,
    pub adder_wikis: i64,
    pub top_adder: Option<(String, i64)>,
    pub present: i64,
}

impl RollupRows {
    /// The report, as the scan would have built it.
    pub fn finish(self) -> LinkReport {
        let mut first: Option<i64> = None;
        let mut last: Option<i64> = None;
        let mut signals = SpamSignals {
            users: self.adders,
            wikis: self.adder_wikis,
            ..Default::default()
        };
        let mut days = Vec::with_capacity(self.days.len());
        for d in &self.days {
            if let Some(f) = d.first_ms {
                first = Some(first.map_or(f, |x| x.min(f)));
            }
            if let Some(l) = d.last_ms {
                last = Some(last.map_or(l, |x| x.max(l)));
            }
            signals.additions += d.signal_additions;
            signals.ip_or_temp_additions += d.ip_or_temp;
            signals.new_account_additions += d.new_account;
            signals.later_removed += d.later_removed;
            days.push(DayCount {
                day: d.day,
                added: d.added,
                removed: d.removed,
            });
        }
        if let Some((user, n)) = self.top_adder {
            signals.top_user = Some(user);
            signals.top_user_additions = n;
        }
        signals.finish();
        let added: i64 = days.iter().map(|d| d.added).sum();
        let removed: i64 = days.iter().map(|d| d.removed).sum();
        let unkeyed = |rows: Vec<TopRow>| {
            rows.into_iter()
                .map(|mut r| {
                    r.wiki = None;
                    r
                })
                .collect()
        };
        LinkReport {
            added,
            removed,
            net: added - removed,
            present: self.present,
            first_seen_ms: first,
            last_seen_ms: last,
            days,
            top_users: unkeyed(self.top_users),
            top_wikis: unkeyed(self.top_wikis),
            top_pages: self.top_pages,
            signals,
            computed_from: "rollups",
        }
    }
}
