//! [`LinkQueries`] for PostgreSQL: it runs the shared queries of
//! `crate::store::links` (`$N` placeholders) on pooled connections, a
//! report's sections at once, and reads their rows.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{PostgresStore, StoreError};
use crate::clock::now_ms;
use crate::links::filter::{CollectionDef, LinkFilter};
use crate::links::report::{
    Cursor, LinkEventRow, LinkReport, RollupDay, RollupRows, SpamSignals, TopBy, TopRow,
    UserDomainRow,
};
use crate::links::rollup::{RollupDim, RollupPlan};
use crate::store::links::{
    LinkQueries, RollupSql, days_sql, events_after_sql, events_sql, log_report, present_sql,
    signal_filter, signals_sql, spam_signals, top_sql, user_domains_sql,
};
use crate::store::sql::{Dialect, Query, SqlValue, pg_params};

const D: Dialect = Dialect::Postgres;

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
        let plan = RollupSql { plan, dialect: D };
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

    async fn rows(&self, q: &Query) -> Result<Vec<Row>, StoreError> {
        self.query_rows(&q.sql, &q.params).await
    }

    async fn top_rows(
        &self,
        filter: &LinkFilter,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError> {
        Ok(self
            .rows(&top_sql(D, filter, by, limit))
            .await?
            .iter()
            .map(top_row)
            .collect())
    }

    async fn signals(&self, filter: &LinkFilter) -> Result<SpamSignals, StoreError> {
        let rows = self.rows(&signals_sql(D, filter)).await?;
        let row = rows.first().map_or((0, 0, 0, None, None, None), |r| {
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))
        });
        let top = self
            .top_rows(&signal_filter(filter), TopBy::User, 1)
            .await?;
        Ok(spam_signals(row, top.into_iter().next()))
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
        Ok(self
            .rows(&events_sql(D, filter, cursor, limit))
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
        Ok(self
            .rows(&events_after_sql(
                D,
                filter,
                after_id,
                limit,
                first_seen_only,
            ))
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
        let (days_q, present_q) = (days_sql(D, filter), present_sql(D, filter));
        // The sections are independent queries: run them at once on
        // separate pooled connections.
        let (series, present, top_users, top_wikis, top_pages, signals) = tokio::try_join!(
            self.rows(&days_q),
            self.rows(&present_q),
            self.top_rows(filter, TopBy::User, top),
            self.top_rows(filter, TopBy::Wiki, top),
            self.top_rows(filter, TopBy::Page, top),
            self.signals(filter),
        )?;
        let days = series
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect();
        let present = present.first().map_or(0, |r| r.get(0));
        Ok(log_report(
            days,
            present,
            [top_users, top_wikis, top_pages],
            signals,
        ))
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
        Ok(self
            .rows(&user_domains_sql(D, filter))
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
