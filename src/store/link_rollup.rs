//! Domain reports from the per-domain rollups (`link_domain_days`,
//! `link_domain_keys`, `link_domain_present`, `link_domain_adders`), which
//! triggers keep in step with `link_events` on both backends (SQLite
//! migrations 7 and 8, PostgreSQL 8 and 9).
//!
//! A report over one registrable domain reads a few thousand rollup rows and
//! walks one index for each ranked list, instead of every event of the
//! domain (a large publisher has millions). The rollups only know the
//! domain, the day, the provenance, whether the link was wrapped, and the
//! user, wiki and page; a filter on anything else (action, wiki, namespace,
//! user, bots, editor kind, account age, edit count, dates, page) returns
//! `None` from [`RollupPlan::for_filter`] and the backend scans the log, so
//! no filter is ever lost to the pre-aggregation. The answer is the same
//! either way; `tests/links_rollup.rs` checks that on both backends.

use super::link_queries::{
    DayCount, LinkFilter, LinkMatch, LinkReport, Placeholders, Provenance, SpamSignals, SqlBuilder,
    SqlValue, Tristate,
};

/// One query of a rollup report, ready to run.
#[derive(Debug, Clone)]
pub struct RollupQuery {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

/// The rollup queries a report filter can be answered by.
#[derive(Debug, Clone)]
pub struct RollupPlan {
    domain: String,
    /// `None`: every provenance (the `*` rows of `link_domain_keys`).
    provenances: Option<Vec<Provenance>>,
    wrappers: Tristate,
    style: Placeholders,
}

/// Which ranked list of `link_domain_keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupDim {
    User,
    Wiki,
    Page,
}

impl RollupDim {
    fn code(self) -> &'static str {
        match self {
            RollupDim::User => "u",
            RollupDim::Wiki => "w",
            RollupDim::Page => "p",
        }
    }
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
    pub top_users: Vec<super::link_queries::TopRow>,
    pub top_wikis: Vec<super::link_queries::TopRow>,
    pub top_pages: Vec<super::link_queries::TopRow>,
    pub adders: i64,
    pub adder_wikis: i64,
    pub top_adder: Option<(String, i64)>,
    pub present: i64,
}

impl RollupPlan {
    /// The plan for `filter`, or `None` when the rollups cannot answer it
    /// exactly (the caller scans the log instead).
    pub fn for_filter(filter: &LinkFilter, style: Placeholders) -> Option<RollupPlan> {
        let [
            LinkMatch::Domain {
                domain,
                registrable: true,
            },
        ] = filter.matchers.as_slice()
        else {
            return None;
        };
        let plain = filter.actions.is_empty()
            && filter.wikis.is_empty()
            && filter.namespaces.is_empty()
            && filter.users.is_empty()
            && filter.bots == Tristate::Include
            && filter.editor_kinds.is_empty()
            && filter.min_account_age_days.is_none()
            && filter.max_account_age_days.is_none()
            && filter.min_edit_count.is_none()
            && filter.max_edit_count.is_none()
            && filter.from_ms.is_none()
            && filter.until_ms.is_none()
            && filter.page.is_none();
        plain.then(|| RollupPlan {
            domain: domain.clone(),
            provenances: (!filter.provenances.is_empty()).then(|| filter.provenances.clone()),
            wrappers: filter.wrappers,
            style,
        })
    }

    /// The `provenance` condition on a rollup table; `keys` tables hold the
    /// all-provenance sum under `*`.
    fn provenance_sql(&self, b: &mut SqlBuilder, keys: bool) -> Option<String> {
        match &self.provenances {
            None if keys => Some("provenance = '*'".into()),
            None => None,
            Some(list) => {
                let list: Vec<String> = list.iter().map(|p| b.text(p.as_str())).collect();
                Some(format!("provenance IN ({})", list.join(", ")))
            }
        }
    }

    /// One row per key when a single provenance (or all) is asked for: the
    /// ranking index then gives the order without grouping.
    fn one_row_per_key(&self) -> bool {
        self.provenances.as_ref().is_none_or(|p| p.len() == 1)
    }

    /// The columns of `link_domain_keys` holding the chosen wrapped cells,
    /// as a sum expression per count (`a`, `r` or `s`).
    fn cells(&self, count: char) -> String {
        match self.wrappers {
            Tristate::Include => format!("{count}0 + {count}1"),
            Tristate::Exclude => format!("{count}0"),
            Tristate::Only => format!("{count}1"),
        }
    }

    fn builder(&self) -> SqlBuilder {
        SqlBuilder::new(self.style)
    }

    /// Day series with the spam-signal counts, ascending.
    pub fn days(&self) -> RollupQuery {
        let mut b = self.builder();
        let mut conds = vec![format!("domain = {}", b.text(self.domain.clone()))];
        conds.extend(self.provenance_sql(&mut b, false));
        match self.wrappers {
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
        RollupQuery {
            sql,
            params: b.params,
        }
    }

    /// The first `limit` keys of `dim` by added, net, key and wiki (the
    /// order of the scan's ranked lists). Columns: key, wiki, added, removed.
    pub fn top(&self, dim: RollupDim, limit: usize) -> RollupQuery {
        let mut b = self.builder();
        let d = b.text(self.domain.clone());
        let prov = self.provenance_sql(&mut b, true).unwrap_or_default();
        let (a, r) = (self.cells('a'), self.cells('r'));
        let lim = b.int(limit as i64);
        // The dim is a literal so the planner can match the index.
        let dim = dim.code();
        // Written out in full: the ORDER BY must be the ranking index's expressions.
        let net = match self.wrappers {
            Tristate::Include => "a0 + a1 - r0 - r1",
            Tristate::Exclude => "a0 - r0",
            Tristate::Only => "a1 - r1",
        };
        let sql = if self.one_row_per_key() {
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
        RollupQuery {
            sql,
            params: b.params,
        }
    }

    /// How many users (`User`) or wikis (`Wiki`) made signal additions.
    /// One column.
    pub fn adders(&self, dim: RollupDim) -> RollupQuery {
        let mut b = self.builder();
        let d = b.text(self.domain.clone());
        let prov = self.provenance_sql(&mut b, true).unwrap_or_default();
        let s = self.cells('s');
        let dim = dim.code();
        let sql = if self.one_row_per_key() {
            // Kept as a count by triggers (`link_domain_adders`).
            let wrapped = match self.wrappers {
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
        RollupQuery {
            sql,
            params: b.params,
        }
    }

    /// The user with the most signal additions (ties: the first name).
    /// Columns: key, additions.
    pub fn top_adder(&self) -> RollupQuery {
        let mut b = self.builder();
        let d = b.text(self.domain.clone());
        let prov = self.provenance_sql(&mut b, true).unwrap_or_default();
        let s = self.cells('s');
        let sql = if self.one_row_per_key() {
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
        RollupQuery {
            sql,
            params: b.params,
        }
    }

    /// Links present now. One column.
    pub fn present(&self) -> RollupQuery {
        let mut b = self.builder();
        let d = b.text(self.domain.clone());
        let wrapped = match self.wrappers {
            Tristate::Include => String::new(),
            Tristate::Exclude => " AND wrapped = 0".into(),
            Tristate::Only => " AND wrapped = 1".into(),
        };
        RollupQuery {
            sql: format!(
                "SELECT CAST(COALESCE(SUM(present), 0) AS BIGINT) FROM link_domain_present
                 WHERE domain = {d}{wrapped}"
            ),
            params: b.params,
        }
    }
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
        let unkeyed = |rows: Vec<super::link_queries::TopRow>| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn domain_filter() -> LinkFilter {
        LinkFilter {
            matchers: vec![LinkMatch::domain("jstor.org").expect("valid")],
            ..Default::default()
        }
    }

    #[test]
    fn only_plain_registrable_domain_filters_use_rollups() {
        let f = domain_filter();
        assert!(RollupPlan::for_filter(&f, Placeholders::Sqlite).is_some());
        let mut sub = f.clone();
        sub.matchers = vec![LinkMatch::domain("www.jstor.org").expect("valid")];
        assert!(RollupPlan::for_filter(&sub, Placeholders::Sqlite).is_none());
        let mut ns = f.clone();
        ns.namespaces = vec![0];
        assert!(RollupPlan::for_filter(&ns, Placeholders::Sqlite).is_none());
        let mut dated = f.clone();
        dated.from_ms = Some(0);
        assert!(RollupPlan::for_filter(&dated, Placeholders::Sqlite).is_none());
        let mut two = f;
        two.matchers
            .push(LinkMatch::domain("doi.org").expect("valid"));
        assert!(RollupPlan::for_filter(&two, Placeholders::Sqlite).is_none());
    }

    #[test]
    fn single_provenance_ranks_by_the_index_expression() {
        let mut f = domain_filter();
        f.provenances = vec![Provenance::Edit];
        let plan = RollupPlan::for_filter(&f, Placeholders::Sqlite).expect("plan");
        let q = plan.top(RollupDim::Page, 10);
        assert!(q.sql.contains(
            "ORDER BY (a0 + a1) DESC, (a0 + a1 - r0 - r1) DESC, substr(key, 1, 200), key, wiki"
        ));
        assert!(!q.sql.contains("GROUP BY"));
        f.provenances.push(Provenance::Propagated);
        let plan = RollupPlan::for_filter(&f, Placeholders::Sqlite).expect("plan");
        assert!(
            plan.top(RollupDim::Page, 10)
                .sql
                .contains("GROUP BY key, wiki")
        );
    }
}
