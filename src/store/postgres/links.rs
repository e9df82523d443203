//! [`LinkQueries`] for PostgreSQL: the same query engine (`link_queries`
//! builds the WHERE clauses with `$N` placeholders) and the same answers as
//! SQLite. Where SQLite lets ORDER BY use expressions over output aliases,
//! these queries wrap the aggregate in a subquery.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{LinkAction, PostgresStore, StoreError};
use crate::clock::now_ms;
use crate::links::filter::{CollectionDef, LinkFilter};
use crate::links::report::{
    Cursor, DayCount, LinkEventRow, LinkReport, RollupDay, RollupRows, SpamSignals, TopBy, TopRow,
    UserDomainRow,
};
use crate::links::rollup::{RollupDim, RollupPlan};
use crate::store::links::{EVENT_COLUMNS, LinkQueries, RollupSql, match_sql, where_sql};
use crate::store::sql::{Dialect, Query, SqlBuilder, SqlValue, pg_params, where_clause};

/// A row of `key, wiki, added, removed`.
fn top_row(r: &Row) -> TopRow {
    TopRow::new(r.get(0), r.get(1), r.get(2), r.get(3))
}

fn event_row(r: &Row) -> LinkEventRow {
    let time_ms: i64 = r.get(3);
    LinkEventRow {
        id: r.get(0),
        meta_id: r.get(1),
        action: r.get(2),
        time: crate::event::format_ms(time_ms),
        time_ms,
        wiki: r.get(4),
        wiki_domain: r.get(5),
        page_id: r.get(6),
        page_title: r.get(7),
        page_namespace: r.get(8),
        rev_id: r.get(9),
        rc_id: r.get(10),
        provenance: r.get(11),
        performer: r.get(12),
        performer_id: r.get(13),
        performer_bot: r.get::<_, Option<i16>>(14).map(|b| b != 0),
        editor_kind: r.get(15),
        performer_registration_ms: r.get(16),
        performer_edit_count: r.get(17),
        raw: r.get(18),
        url: r.get(19),
        target: r.get(20),
        scheme: r.get(21),
        host: r.get(22),
        domain: r.get(23),
        wrapper_kind: r.get(24),
        wrapper_host: r.get(25),
    }
}

const ADDED: &str = "SUM(CASE WHEN le.action IN ('added', 'page_restored') THEN 1 ELSE 0 END)";
const REMOVED: &str = "SUM(CASE WHEN le.action IN ('removed', 'page_deleted') THEN 1 ELSE 0 END)";

impl PostgresStore {
    async fn rollup_rows(&self, q: Query) -> Result<Vec<Row>, StoreError> {
        self.query_rows(&q.sql, &q.params).await
    }

    async fn rollup_top(&self, q: Query) -> Result<Vec<TopRow>, StoreError> {
        Ok(self.rollup_rows(q).await?.iter().map(top_row).collect())
    }

    async fn rollup_count(&self, q: Query) -> Result<i64, StoreError> {
        Ok(self.rollup_rows(q).await?.first().map_or(0, |r| r.get(0)))
    }

    /// A domain report from the rollups (see [`RollupPlan`]), its queries
    /// run at once on pooled connections.
    async fn rollup_report(&self, plan: &RollupPlan, top: usize) -> Result<LinkReport, StoreError> {
        let plan = RollupSql {
            plan,
            dialect: Dialect::Postgres,
        };
        let (days, top_users, top_wikis, top_pages, adders, adder_wikis, top_adder, present) = tokio::try_join!(
            self.rollup_rows(plan.days()),
            self.rollup_top(plan.top(RollupDim::User, top)),
            self.rollup_top(plan.top(RollupDim::Wiki, top)),
            self.rollup_top(plan.top(RollupDim::Page, top)),
            self.rollup_count(plan.adders(RollupDim::User)),
            self.rollup_count(plan.adders(RollupDim::Wiki)),
            self.rollup_rows(plan.top_adder()),
            self.rollup_count(plan.present()),
        )?;
        Ok(RollupRows {
            days: days
                .iter()
                .map(|r| RollupDay {
                    day: r.get(0),
                    added: r.get(1),
                    removed: r.get(2),
                    first_ms: r.get(3),
                    last_ms: r.get(4),
                    signal_additions: r.get(5),
                    ip_or_temp: r.get(6),
                    new_account: r.get(7),
                    later_removed: r.get(8),
                })
                .collect(),
            top_users,
            top_wikis,
            top_pages,
            adders,
            adder_wikis,
            top_adder: top_adder.first().map(|r| (r.get(0), r.get(1))),
            present,
        }
        .finish())
    }

    async fn query_rows(&self, sql: &str, values: &[SqlValue]) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        client
            .query(sql, &pg_params(values))
            .await
            .map_err(|e| self.err(e))
    }

    async fn top_rows(
        &self,
        filter: &LinkFilter,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError> {
        let mut b = SqlBuilder::new(Dialect::Postgres);
        let mut conds = where_sql(filter, &mut b, "le");
        let (key, wiki, group) = match by {
            TopBy::Domain => {
                conds.push("le.domain IS NOT NULL".into());
                ("le.domain", "NULL::text", "le.domain")
            }
            TopBy::User => {
                conds.push("le.performer IS NOT NULL".into());
                ("le.performer", "NULL::text", "le.performer")
            }
            TopBy::Wiki => ("le.wiki", "NULL::text", "le.wiki"),
            TopBy::Page => ("le.page_title", "le.wiki", "le.wiki, le.page_title"),
        };
        let lim = b.int(limit as i64);
        let sql = format!(
            "SELECT k, w, a, r FROM (
                SELECT {key} AS k, {wiki} AS w, {ADDED} AS a, {REMOVED} AS r
                FROM link_events le {} GROUP BY {group}) t
             ORDER BY a DESC, a - r DESC, k LIMIT {lim}",
            where_clause(&conds)
        );
        Ok(self
            .query_rows(&sql, &b.params)
            .await?
            .iter()
            .map(top_row)
            .collect())
    }

    async fn signals(&self, filter: &LinkFilter) -> Result<SpamSignals, StoreError> {
        let mut f = filter.clone();
        f.actions = vec![LinkAction::Added];
        let mut b = SqlBuilder::new(Dialect::Postgres);
        let conds = where_sql(&f, &mut b, "le");
        let week = b.int(7 * 86_400_000);
        let sql = format!(
            "SELECT COUNT(*), COUNT(DISTINCT le.performer), COUNT(DISTINCT le.wiki),
                SUM(CASE WHEN le.editor_kind IN ('ip', 'temp') THEN 1 ELSE 0 END),
                SUM(CASE WHEN (le.performer_registration_ms IS NOT NULL
                               AND le.time_ms - le.performer_registration_ms < {week})
                           OR le.performer_edit_count < 10 THEN 1 ELSE 0 END),
                SUM(CASE WHEN EXISTS (SELECT 1 FROM link_events r
                       WHERE r.wiki = le.wiki AND r.page_id = le.page_id
                         AND md5(r.raw) = md5(le.raw) AND r.raw = le.raw
                         AND r.action = 'removed' AND r.id > le.id) THEN 1 ELSE 0 END)
             FROM link_events le {}",
            where_clause(&conds)
        );
        let rows = self.query_rows(&sql, &b.params).await?;
        let mut s = SpamSignals::default();
        if let Some(r) = rows.first() {
            s.additions = r.get(0);
            s.users = r.get(1);
            s.wikis = r.get(2);
            s.ip_or_temp_additions = r.get::<_, Option<i64>>(3).unwrap_or(0);
            s.new_account_additions = r.get::<_, Option<i64>>(4).unwrap_or(0);
            s.later_removed = r.get::<_, Option<i64>>(5).unwrap_or(0);
        }
        if let Some(top) = self.top_rows(&f, TopBy::User, 1).await?.into_iter().next() {
            s.top_user = Some(top.key);
            s.top_user_additions = top.added;
        }
        s.finish();
        Ok(s)
    }
}

#[async_trait]
impl LinkQueries for PostgresStore {
    async fn link_events(
        &self,
        filter: &LinkFilter,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<LinkEventRow>, StoreError> {
        let mut b = SqlBuilder::new(Dialect::Postgres);
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
        Ok(self
            .query_rows(&sql, &b.params)
            .await?
            .iter()
            .map(event_row)
            .collect())
    }

    async fn link_events_after(
        &self,
        filter: &LinkFilter,
        after_id: i64,
        limit: usize,
        first_seen_only: bool,
    ) -> Result<Vec<LinkEventRow>, StoreError> {
        let mut b = SqlBuilder::new(Dialect::Postgres);
        let mut conds = where_sql(filter, &mut b, "le");
        conds.push(format!("le.id > {}", b.int(after_id)));
        if first_seen_only {
            conds.push("le.action = 'added'".into());
            conds.push(
                "NOT EXISTS (SELECT 1 FROM link_events p
                   WHERE md5(COALESCE(p.target, p.url)) = md5(COALESCE(le.target, le.url))
                     AND COALESCE(p.target, p.url) = COALESCE(le.target, le.url)
                     AND p.action = 'added' AND p.id < le.id)"
                    .into(),
            );
        }
        let lim = b.int(limit as i64);
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM link_events le {} ORDER BY le.id LIMIT {lim}",
            where_clause(&conds)
        );
        Ok(self
            .query_rows(&sql, &b.params)
            .await?
            .iter()
            .map(event_row)
            .collect())
    }

    async fn link_max_id(&self) -> Result<i64, StoreError> {
        let rows = self
            .query_rows("SELECT COALESCE(MAX(id), 0) FROM link_events", &[])
            .await?;
        Ok(rows.first().map_or(0, |r| r.get(0)))
    }

    async fn link_id_before_time(&self, time_ms: i64) -> Result<i64, StoreError> {
        let rows = self
            .query_rows(
                "SELECT MIN(id) FROM link_events WHERE time_ms >= $1",
                &[SqlValue::Int(time_ms)],
            )
            .await?;
        match rows.first().and_then(|r| r.get::<_, Option<i64>>(0)) {
            Some(id) => Ok(id - 1),
            None => self.link_max_id().await,
        }
    }

    async fn link_report(&self, filter: &LinkFilter, top: usize) -> Result<LinkReport, StoreError> {
        if let Some(plan) = RollupPlan::for_filter(filter) {
            return self.rollup_report(&plan, top).await;
        }
        let mut b = SqlBuilder::new(Dialect::Postgres);
        let conds = where_sql(filter, &mut b, "le");
        let sql = format!(
            "SELECT le.time_ms / 86400000 AS d, {ADDED}, {REMOVED}, MIN(le.time_ms), MAX(le.time_ms)
             FROM link_events le {} GROUP BY d ORDER BY d",
            where_clause(&conds)
        );
        let mut pb = SqlBuilder::new(Dialect::Postgres);
        let mut pconds = match_sql(filter, &mut pb, "le");
        pconds.push("pl.deleted = 0".into());
        let psql = format!(
            "SELECT COUNT(*) FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id {}",
            where_clause(&pconds)
        );
        // The sections are independent queries: run them at once on
        // separate pooled connections.
        let (series, present, top_users, top_wikis, top_pages, signals) = tokio::try_join!(
            self.query_rows(&sql, &b.params),
            self.query_rows(&psql, &pb.params),
            self.top_rows(filter, TopBy::User, top),
            self.top_rows(filter, TopBy::Wiki, top),
            self.top_rows(filter, TopBy::Page, top),
            self.signals(filter),
        )?;
        let mut days = Vec::new();
        let (mut first, mut last): (Option<i64>, Option<i64>) = (None, None);
        for r in series {
            days.push(DayCount {
                day: r.get(0),
                added: r.get(1),
                removed: r.get(2),
            });
            let lo: i64 = r.get(3);
            let hi: i64 = r.get(4);
            first = Some(first.map_or(lo, |f| f.min(lo)));
            last = Some(last.map_or(hi, |l| l.max(hi)));
        }
        let added = days.iter().map(|d| d.added).sum();
        let removed = days.iter().map(|d| d.removed).sum();
        let present = present.first().map_or(0, |r| r.get(0));
        Ok(LinkReport {
            added,
            removed,
            net: added - removed,
            present,
            first_seen_ms: first,
            last_seen_ms: last,
            days,
            top_users,
            top_wikis,
            top_pages,
            signals,
            computed_from: "log",
        })
    }

    async fn link_top(
        &self,
        filter: &LinkFilter,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError> {
        self.top_rows(filter, by, limit).await
    }

    async fn link_user_domains(
        &self,
        filter: &LinkFilter,
    ) -> Result<Vec<UserDomainRow>, StoreError> {
        let mut b = SqlBuilder::new(Dialect::Postgres);
        let conds = where_sql(filter, &mut b, "le");
        let sql = format!(
            "SELECT le.wiki, le.domain, {ADDED} AS a, {REMOVED}, MIN(le.time_ms), MAX(le.time_ms)
             FROM link_events le {} GROUP BY le.wiki, le.domain ORDER BY a DESC, le.wiki, le.domain",
            where_clause(&conds)
        );
        Ok(self
            .query_rows(&sql, &b.params)
            .await?
            .iter()
            .map(|r| UserDomainRow {
                wiki: r.get(0),
                domain: r.get(1),
                added: r.get(2),
                removed: r.get(3),
                first_ms: r.get(4),
                last_ms: r.get(5),
            })
            .collect())
    }

    async fn link_collections(&self) -> Result<Vec<CollectionDef>, StoreError> {
        let rows = self
            .query_rows(
                "SELECT name, grp, description, patterns, users FROM link_collections ORDER BY name",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let patterns: String = r.get(3);
                let users: String = r.get(4);
                CollectionDef {
                    name: r.get(0),
                    group: r.get(1),
                    description: r.get(2),
                    patterns: serde_json::from_str(&patterns).unwrap_or_default(),
                    users: serde_json::from_str(&users).unwrap_or_default(),
                    source: "api".into(),
                }
            })
            .collect())
    }

    async fn put_link_collection(&self, col: &CollectionDef) -> Result<(), StoreError> {
        let client = self.client().await?;
        let patterns = serde_json::to_string(&col.patterns).unwrap_or_else(|_| "[]".into());
        let users = serde_json::to_string(&col.users).unwrap_or_else(|_| "[]".into());
        client
            .execute(
                "INSERT INTO link_collections (name, grp, description, patterns, users, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (name) DO UPDATE SET grp = excluded.grp,
                    description = excluded.description, patterns = excluded.patterns,
                    users = excluded.users, updated_ms = excluded.updated_ms",
                &[
                    &col.name,
                    &col.group,
                    &col.description,
                    &patterns,
                    &users,
                    &now_ms(),
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn delete_link_collection(&self, name: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let n = client
            .execute("DELETE FROM link_collections WHERE name = $1", &[&name])
            .await
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }
}
