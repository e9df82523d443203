//! [`LinkQueries`] for SQLite: it runs the shared queries of
//! `crate::store::links` on the store's pool of read connections (a report
//! scan in parts on several) and reads their rows.
//! Collection writes (rare, from the admin API) use a short-lived connection
//! of their own; SQLite's busy timeout queues them behind the ingest writer.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::{SqliteStore, StoreError};
use crate::clock::now_ms;
use crate::links::filter::{CollectionDef, LinkFilter};
use crate::links::report::{
    Cursor, LinkEventRow, LinkReport, ReportAgg, RollupDay, RollupRows, ScanRow, SpamSignals,
    TopBy, TopRow, UserDomainRow,
};
use crate::links::rollup::{RollupDim, RollupPlan};
use crate::store::links::{
    LinkQueries, RollupSql, SCAN_PARTS, days_sql, events_after_sql, events_sql, log_report,
    present_sql, scan_part_sql, signal_filter, signals_sql, spam_signals, top_sql,
    user_domains_sql,
};
use crate::store::sql::{Dialect, Query};

const D: Dialect = Dialect::Sqlite;

fn event_row(r: &Row<'_>) -> rusqlite::Result<LinkEventRow> {
    let time_ms: i64 = r.get(3)?;
    Ok(LinkEventRow {
        id: r.get(0)?,
        meta_id: r.get(1)?,
        action: r.get(2)?,
        time: crate::event::format_ms(time_ms),
        time_ms,
        wiki: r.get(4)?,
        wiki_domain: r.get(5)?,
        page_id: r.get(6)?,
        page_title: r.get(7)?,
        page_namespace: r.get(8)?,
        rev_id: r.get(9)?,
        rc_id: r.get(10)?,
        provenance: r.get(11)?,
        performer: r.get(12)?,
        performer_id: r.get(13)?,
        performer_bot: r.get(14)?,
        editor_kind: r.get(15)?,
        performer_registration_ms: r.get(16)?,
        performer_edit_count: r.get(17)?,
        raw: r.get(18)?,
        url: r.get(19)?,
        target: r.get(20)?,
        scheme: r.get(21)?,
        host: r.get(22)?,
        domain: r.get(23)?,
        wrapper_kind: r.get(24)?,
        wrapper_host: r.get(25)?,
    })
}

/// Every row of `q`, each read by `read`.
fn rows<T>(
    c: &Connection,
    q: &Query,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = c.prepare_cached(&q.sql)?;
    let rows = stmt.query_map(params_from_iter(q.params.iter()), read)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The one-column count of `q`.
fn count(c: &Connection, q: &Query) -> Result<i64, StoreError> {
    Ok(c.prepare_cached(&q.sql)?
        .query_row(params_from_iter(q.params.iter()), |r| r.get(0))?)
}

/// A row of `key, wiki, added, removed`.
fn top_row(r: &Row<'_>) -> rusqlite::Result<TopRow> {
    Ok(TopRow::new(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn top_rows(
    c: &Connection,
    filter: &LinkFilter,
    by: TopBy,
    limit: usize,
) -> Result<Vec<TopRow>, StoreError> {
    rows(c, &top_sql(D, filter, by, limit), top_row)
}

fn signals(c: &Connection, filter: &LinkFilter) -> Result<SpamSignals, StoreError> {
    let q = signals_sql(D, filter);
    let row = c
        .prepare_cached(&q.sql)?
        .query_row(params_from_iter(q.params.iter()), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
    let top = top_rows(c, &signal_filter(filter), TopBy::User, 1)?;
    Ok(spam_signals(row, top.into_iter().next()))
}

/// A report of the whole log: the per-section queries use their own indexes.
fn report(c: &Connection, filter: &LinkFilter, top: usize) -> Result<LinkReport, StoreError> {
    let days = rows(c, &days_sql(D, filter), |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })?;
    let present = count(c, &present_sql(D, filter))?;
    let tops = [
        top_rows(c, filter, TopBy::User, top)?,
        top_rows(c, filter, TopBy::Wiki, top)?,
        top_rows(c, filter, TopBy::Page, top)?,
    ];
    Ok(log_report(days, present, tops, signals(c, filter)?))
}

/// One part of a single-pass report scan (see [`ReportAgg`]); `None` when
/// the filter has no matcher.
fn scan_part(
    c: &Connection,
    filter: &LinkFilter,
    part: i64,
) -> Result<Option<ReportAgg>, StoreError> {
    let Some(q) = scan_part_sql(D, filter, part) else {
        return Ok(None);
    };
    let mut stmt = c.prepare_cached(&q.sql)?;
    let mut rows = stmt.query(params_from_iter(q.params.iter()))?;
    let mut agg = ReportAgg::default();
    while let Some(r) = rows.next()? {
        let text = |i: usize| -> rusqlite::Result<&str> {
            r.get_ref(i)?.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        };
        let opt_text = |i: usize| -> rusqlite::Result<Option<&str>> {
            r.get_ref(i)?.as_str_or_null().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        };
        agg.add(&ScanRow {
            id: r.get(0)?,
            time_ms: r.get(1)?,
            action: text(2)?,
            performer: opt_text(3)?,
            wiki: text(4)?,
            page_id: r.get(5)?,
            page_title: text(6)?,
            raw: text(7)?,
            editor_kind: opt_text(8)?,
            registration_ms: r.get(9)?,
            edit_count: r.get(10)?,
            pass: r.get::<_, i64>(11)? != 0,
            signal: r.get::<_, i64>(12)? != 0,
        });
    }
    Ok(Some(agg))
}

/// A domain report from the rollups (see [`RollupPlan`]).
fn rollup_report(c: &Connection, plan: &RollupPlan, top: usize) -> Result<LinkReport, StoreError> {
    let plan = RollupSql { plan, dialect: D };
    let days = rows(c, &plan.days(), |r| {
        Ok(RollupDay {
            day: r.get(0)?,
            added: r.get(1)?,
            removed: r.get(2)?,
            first_ms: r.get(3)?,
            last_ms: r.get(4)?,
            signal_additions: r.get(5)?,
            ip_or_temp: r.get(6)?,
            new_account: r.get(7)?,
            later_removed: r.get(8)?,
        })
    })?;
    let top_adder = {
        let q = plan.top_adder();
        c.prepare_cached(&q.sql)?
            .query_row(params_from_iter(q.params.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()?
    };
    let rollup_top = |dim| rows(c, &plan.top(dim, top), top_row);
    Ok(RollupRows {
        days,
        top_users: rollup_top(RollupDim::User)?,
        top_wikis: rollup_top(RollupDim::Wiki)?,
        top_pages: rollup_top(RollupDim::Page)?,
        adders: count(c, &plan.adders(RollupDim::User))?,
        adder_wikis: count(c, &plan.adders(RollupDim::Wiki))?,
        top_adder,
        present: count(c, &plan.present())?,
    }
    .finish())
}

fn write_conn(store: &SqliteStore) -> Result<Connection, StoreError> {
    let c = Connection::open(&store.path)?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(c)
}

#[async_trait]
impl LinkQueries for SqliteStore {
    async fn link_events(
        &self,
        filter: &LinkFilter,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<LinkEventRow>, StoreError> {
        let q = events_sql(D, filter, cursor, limit);
        self.read(move |c| rows(c, &q, event_row)).await
    }

    async fn link_events_after(
        &self,
        filter: &LinkFilter,
        after_id: i64,
        limit: usize,
        first_seen_only: bool,
    ) -> Result<Vec<LinkEventRow>, StoreError> {
        let q = events_after_sql(D, filter, after_id, limit, first_seen_only);
        self.read(move |c| rows(c, &q, event_row)).await
    }

    async fn link_max_id(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT COALESCE(MAX(id), 0) FROM link_events", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }

    async fn link_id_before_time(&self, time_ms: i64) -> Result<i64, StoreError> {
        self.read(move |c| {
            let id: Option<i64> = c.query_row(
                "SELECT MIN(id) FROM link_events WHERE time_ms >= ?1",
                [time_ms],
                |r| r.get(0),
            )?;
            match id {
                Some(id) => Ok(id - 1),
                None => Ok(c.query_row(
                    "SELECT COALESCE(MAX(id), 0) FROM link_events",
                    [],
                    |r| r.get(0),
                )?),
            }
        })
        .await
    }

    async fn link_report(&self, filter: &LinkFilter, top: usize) -> Result<LinkReport, StoreError> {
        if let Some(plan) = RollupPlan::for_filter(filter) {
            return self.read(move |c| rollup_report(c, &plan, top)).await;
        }
        if filter.matchers.is_empty() {
            // The whole log: the per-section queries use their own indexes.
            let filter = filter.clone();
            return self.read(move |c| report(c, &filter, top)).await;
        }
        // One pass over the matching rows, split in parts read in parallel,
        // beside the present count.
        let parts = (0..SCAN_PARTS).map(|k| {
            let f = filter.clone();
            self.read(move |c| scan_part(c, &f, k))
        });
        let pf = filter.clone();
        let present = self.read(move |c| count(c, &present_sql(D, &pf)));
        let (parts, present) =
            futures_util::future::join(futures_util::future::join_all(parts), present).await;
        let mut agg = ReportAgg::default();
        for p in parts {
            if let Some(p) = p? {
                agg.merge(p);
            }
        }
        Ok(agg.finish(top, present?))
    }

    async fn link_top(
        &self,
        filter: &LinkFilter,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| top_rows(c, &filter, by, limit)).await
    }

    async fn link_user_domains(
        &self,
        filter: &LinkFilter,
    ) -> Result<Vec<UserDomainRow>, StoreError> {
        let q = user_domains_sql(D, filter);
        self.read(move |c| {
            rows(c, &q, |r| {
                Ok(UserDomainRow {
                    wiki: r.get(0)?,
                    domain: r.get(1)?,
                    added: r.get(2)?,
                    removed: r.get(3)?,
                    first_ms: r.get(4)?,
                    last_ms: r.get(5)?,
                })
            })
        })
        .await
    }

    async fn link_collections(&self) -> Result<Vec<CollectionDef>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, grp, description, patterns, users FROM link_collections ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| {
                let patterns: String = r.get(3)?;
                let users: String = r.get(4)?;
                Ok(CollectionDef {
                    name: r.get(0)?,
                    group: r.get(1)?,
                    description: r.get(2)?,
                    patterns: serde_json::from_str(&patterns).unwrap_or_default(),
                    users: serde_json::from_str(&users).unwrap_or_default(),
                    source: "api".into(),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn put_link_collection(&self, col: &CollectionDef) -> Result<(), StoreError> {
        let conn = write_conn(self)?;
        let col = col.clone();
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            conn.execute(
                "INSERT INTO link_collections (name, grp, description, patterns, users, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (name) DO UPDATE SET grp = excluded.grp,
                    description = excluded.description, patterns = excluded.patterns,
                    users = excluded.users, updated_ms = excluded.updated_ms",
                params![
                    col.name,
                    col.group,
                    col.description,
                    serde_json::to_string(&col.patterns).unwrap_or_else(|_| "[]".into()),
                    serde_json::to_string(&col.users).unwrap_or_else(|_| "[]".into()),
                    now_ms()
                ],
            )?;
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn delete_link_collection(&self, name: &str) -> Result<bool, StoreError> {
        let conn = write_conn(self)?;
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || -> Result<bool, StoreError> {
            Ok(conn.execute("DELETE FROM link_collections WHERE name = ?1", [name])? > 0)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}
