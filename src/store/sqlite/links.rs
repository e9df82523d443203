//! [`LinkQueries`] for SQLite, on the store's pool of read connections.
//! Collection writes (rare, from the admin API) use a short-lived connection
//! of their own; SQLite's busy timeout queues them behind the ingest writer.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::{LinkAction, SqliteStore, StoreError};
use crate::clock::now_ms;
use crate::links::filter::{CollectionDef, LinkFilter};
use crate::links::report::{
    Cursor, DayCount, LinkEventRow, LinkReport, ReportAgg, RollupDay, RollupRows, ScanRow,
    SpamSignals, TopBy, TopRow, UserDomainRow,
};
use crate::links::rollup::{RollupDim, RollupPlan};
use crate::store::links::{
    EVENT_COLUMNS, LinkQueries, RollupSql, SCAN_PARTS, match_sql, report_scan_sql, where_sql,
};
use crate::store::sql::{Dialect, Query, SqlBuilder, SqlValue, where_clause};

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

fn query_events(
    c: &Connection,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<LinkEventRow>, StoreError> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), event_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// `SUM(CASE …)` of additions and removals.
const ADDED: &str = "SUM(CASE WHEN le.action IN ('added', 'page_restored') THEN 1 ELSE 0 END)";
const REMOVED: &str = "SUM(CASE WHEN le.action IN ('removed', 'page_deleted') THEN 1 ELSE 0 END)";

fn top_rows(
    c: &Connection,
    filter: &LinkFilter,
    by: TopBy,
    limit: usize,
) -> Result<Vec<TopRow>, StoreError> {
    let mut b = SqlBuilder::new(Dialect::Sqlite);
    let mut conds = where_sql(filter, &mut b, "le");
    let (key, wiki, group) = match by {
        TopBy::Domain => {
            conds.push("le.domain IS NOT NULL".into());
            ("le.domain", "NULL", "le.domain")
        }
        TopBy::User => {
            conds.push("le.performer IS NOT NULL".into());
            ("le.performer", "NULL", "le.performer")
        }
        TopBy::Wiki => ("le.wiki", "NULL", "le.wiki"),
        TopBy::Page => ("le.page_title", "le.wiki", "le.wiki, le.page_title"),
    };
    let lim = b.int(limit as i64);
    let sql = format!(
        "SELECT {key}, {wiki}, {ADDED} AS a, {REMOVED} AS r FROM link_events le {}
         GROUP BY {group} ORDER BY a DESC, a - r DESC, {key} LIMIT {lim}",
        where_clause(&conds)
    );
    query_top(c, &sql, &b.params)
}

/// Rows of `key, wiki, added, removed`.
fn query_top(c: &Connection, sql: &str, params: &[SqlValue]) -> Result<Vec<TopRow>, StoreError> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
        Ok(TopRow::new(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn signals(c: &Connection, filter: &LinkFilter) -> Result<SpamSignals, StoreError> {
    let mut f = filter.clone();
    f.actions = vec![LinkAction::Added];
    let mut b = SqlBuilder::new(Dialect::Sqlite);
    let conds = where_sql(&f, &mut b, "le");
    let week = b.int(7 * 86_400_000);
    let sql = format!(
        "SELECT COUNT(*), COUNT(DISTINCT le.performer), COUNT(DISTINCT le.wiki),
            SUM(CASE WHEN le.editor_kind IN ('ip', 'temp') THEN 1 ELSE 0 END),
            SUM(CASE WHEN (le.performer_registration_ms IS NOT NULL
                           AND le.time_ms - le.performer_registration_ms < {week})
                       OR le.performer_edit_count < 10 THEN 1 ELSE 0 END),
            SUM(CASE WHEN EXISTS (SELECT 1 FROM link_events r
                   WHERE r.wiki = le.wiki AND r.page_id = le.page_id AND r.raw = le.raw
                     AND r.action = 'removed' AND r.id > le.id) THEN 1 ELSE 0 END)
         FROM link_events le {}",
        where_clause(&conds)
    );
    let mut s = c
        .prepare_cached(&sql)?
        .query_row(params_from_iter(b.params.iter()), |r| {
            Ok(SpamSignals {
                additions: r.get(0)?,
                users: r.get(1)?,
                wikis: r.get(2)?,
                ip_or_temp_additions: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                new_account_additions: r.get::<_, Option<i64>>(4)?.unwrap_or(0),
                later_removed: r.get::<_, Option<i64>>(5)?.unwrap_or(0),
                ..Default::default()
            })
        })?;
    if let Some(top) = top_rows(c, &f, TopBy::User, 1)?.into_iter().next() {
        s.top_user = Some(top.key);
        s.top_user_additions = top.added;
    }
    s.finish();
    Ok(s)
}

fn report(c: &Connection, filter: &LinkFilter, top: usize) -> Result<LinkReport, StoreError> {
    let mut b = SqlBuilder::new(Dialect::Sqlite);
    let conds = where_sql(filter, &mut b, "le");
    let sql = format!(
        "SELECT le.time_ms / 86400000 AS d, {ADDED}, {REMOVED}, MIN(le.time_ms), MAX(le.time_ms)
         FROM link_events le {} GROUP BY d ORDER BY d",
        where_clause(&conds)
    );
    let mut days = Vec::new();
    let (mut first, mut last): (Option<i64>, Option<i64>) = (None, None);
    {
        let mut stmt = c.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(b.params.iter()))?;
        while let Some(r) = rows.next()? {
            days.push(DayCount {
                day: r.get(0)?,
                added: r.get(1)?,
                removed: r.get(2)?,
            });
            let lo: i64 = r.get(3)?;
            let hi: i64 = r.get(4)?;
            first = Some(first.map_or(lo, |f| f.min(lo)));
            last = Some(last.map_or(hi, |l| l.max(hi)));
        }
    }
    let added = days.iter().map(|d| d.added).sum();
    let removed = days.iter().map(|d| d.removed).sum();

    let mut pb = SqlBuilder::new(Dialect::Sqlite);
    let mut pconds = match_sql(filter, &mut pb, "le");
    pconds.push("pl.deleted = 0".into());
    let psql = format!(
        "SELECT COUNT(*) FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id {}",
        where_clause(&pconds)
    );
    let present: i64 = c
        .prepare_cached(&psql)?
        .query_row(params_from_iter(pb.params.iter()), |r| r.get(0))?;

    Ok(LinkReport {
        added,
        removed,
        net: added - removed,
        present,
        first_seen_ms: first,
        last_seen_ms: last,
        days,
        top_users: top_rows(c, filter, TopBy::User, top)?,
        top_wikis: top_rows(c, filter, TopBy::Wiki, top)?,
        top_pages: top_rows(c, filter, TopBy::Page, top)?,
        signals: signals(c, filter)?,
        computed_from: "log",
    })
}

/// Links present now on live pages, by the match part of the filter.
fn present_count(c: &Connection, filter: &LinkFilter) -> Result<i64, StoreError> {
    let mut pb = SqlBuilder::new(Dialect::Sqlite);
    let mut pconds = match_sql(filter, &mut pb, "le");
    pconds.push("pl.deleted = 0".into());
    // With `page_links_last_event` (migration 0005) SQLite starts from the
    // events the matcher picks by index; without it, it read every page_links row.
    let psql = format!(
        "SELECT COUNT(*) FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id {}",
        where_clause(&pconds)
    );
    Ok(c.prepare_cached(&psql)?
        .query_row(params_from_iter(pb.params.iter()), |r| r.get(0))?)
}

/// One part of a single-pass report scan (see [`ReportAgg`]); `None` when
/// the filter has no matcher.
fn scan_part(
    c: &Connection,
    filter: &LinkFilter,
    part: i64,
) -> Result<Option<ReportAgg>, StoreError> {
    let mut b = SqlBuilder::new(Dialect::Sqlite);
    let Some((mut scan, pass, signal)) = report_scan_sql(filter, &mut b) else {
        return Ok(None);
    };
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
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(b.params.iter()))?;
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

fn rollup_count(c: &Connection, q: &Query) -> Result<i64, StoreError> {
    Ok(c.prepare_cached(&q.sql)?
        .query_row(params_from_iter(q.params.iter()), |r| r.get(0))?)
}

/// A domain report from the rollups (see [`RollupPlan`]).
fn rollup_report(c: &Connection, plan: &RollupPlan, top: usize) -> Result<LinkReport, StoreError> {
    let plan = RollupSql {
        plan,
        dialect: Dialect::Sqlite,
    };
    let days = {
        let q = plan.days();
        let mut stmt = c.prepare_cached(&q.sql)?;
        let rows = stmt.query_map(params_from_iter(q.params.iter()), |r| {
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
        rows.collect::<Result<Vec<_>, _>>()?
    };
    let top_adder = {
        let q = plan.top_adder();
        c.prepare_cached(&q.sql)?
            .query_row(params_from_iter(q.params.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()?
    };
    let rollup_top = |dim| {
        let q = plan.top(dim, top);
        query_top(c, &q.sql, &q.params)
    };
    Ok(RollupRows {
        days,
        top_users: rollup_top(RollupDim::User)?,
        top_wikis: rollup_top(RollupDim::Wiki)?,
        top_pages: rollup_top(RollupDim::Page)?,
        adders: rollup_count(c, &plan.adders(RollupDim::User))?,
        adder_wikis: rollup_count(c, &plan.adders(RollupDim::Wiki))?,
        top_adder,
        present: rollup_count(c, &plan.present())?,
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
        let mut b = SqlBuilder::new(Dialect::Sqlite);
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
        self.read(move |c| query_events(c, &sql, &b.params)).await
    }

    async fn link_events_after(
        &self,
        filter: &LinkFilter,
        after_id: i64,
        limit: usize,
        first_seen_only: bool,
    ) -> Result<Vec<LinkEventRow>, StoreError> {
        let mut b = SqlBuilder::new(Dialect::Sqlite);
        let mut conds = where_sql(filter, &mut b, "le");
        conds.push(format!("le.id > {}", b.int(after_id)));
        if first_seen_only {
            conds.push("le.action = 'added'".into());
            conds.push(
                "NOT EXISTS (SELECT 1 FROM link_events p
                   WHERE COALESCE(p.target, p.url) = COALESCE(le.target, le.url)
                     AND p.action = 'added' AND p.id < le.id)"
                    .into(),
            );
        }
        let lim = b.int(limit as i64);
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM link_events le {} ORDER BY le.id LIMIT {lim}",
            where_clause(&conds)
        );
        self.read(move |c| query_events(c, &sql, &b.params)).await
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
        let present = self.read(move |c| present_count(c, &pf));
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
        let mut b = SqlBuilder::new(Dialect::Sqlite);
        let conds = where_sql(filter, &mut b, "le");
        let sql = format!(
            "SELECT le.wiki, le.domain, {ADDED} AS a, {REMOVED}, MIN(le.time_ms), MAX(le.time_ms)
             FROM link_events le {} GROUP BY le.wiki, le.domain ORDER BY a DESC, le.wiki, le.domain",
            where_clause(&conds)
        );
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(b.params.iter()), |r| {
                Ok(UserDomainRow {
                    wiki: r.get(0)?,
                    domain: r.get(1)?,
                    added: r.get(2)?,
                    removed: r.get(3)?,
                    first_ms: r.get(4)?,
                    last_ms: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
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
