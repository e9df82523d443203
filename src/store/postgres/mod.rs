//! The PostgreSQL backend: the production store, with the same behaviour and
//! the same `dump` as SQLite.
//!
//! - Connections come from a pool (`pool_max`, default 8) for reads and
//!   batch writes; the ingest lease is a session advisory lock held on its own
//!   connection, so it goes away the moment the process or its connection dies.
//! - A batch is one transaction. Runs of hashtag and link operations are
//!   written set-wise (`INSERT … SELECT FROM UNNEST($1, $2, …)`): one statement
//!   per table per run instead of one per row. Page deletions and
//!   restorations, which must see every link written before them, are applied
//!   in order between runs.
//! - `link_events` is partitioned by month on `time_ms`; partitions are created
//!   ahead of the rows that need them, and `retention_months` drops whole old
//!   partitions.
//!
//! Options ride on the URL's query string, removed before connecting:
//! `pool_max`, `statement_timeout_ms`, `retention_months`, and `sslmode`
//! (`disable`, `prefer` — the default, as in libpq —, `require`, `verify-ca`,
//! `verify-full`) with `sslrootcert`; see `postgres_tls.rs`.

mod hashtags;
mod links;
mod tls;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::types::Type;
use tokio_postgres::{NoTls, Row, Transaction};
use tokio_util::sync::CancellationToken;

use super::{
    Batch, HashtagEdit, IngestLease, LinkAction, LinkChangeRow, Op, PageEventRow, Store,
    StoreError, TableCount, WriteOutcome,
};
use crate::clock::now_ms;
use tls::{RustlsConnect, SslMode};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    // Applied on its own to a database already at version 3: the migrator
    // checks every version, not just the highest.
    (2, include_str!("../migrations/postgres/0002_hashtags.sql")),
    (3, include_str!("../migrations/postgres/0003_links.sql")),
    (
        4,
        include_str!("../migrations/postgres/0004_wiki_namespaces.sql"),
    ),
    (6, include_str!("../migrations/postgres/0006_long_urls.sql")),
    (
        7,
        include_str!("../migrations/postgres/0007_hashtag_uses_wiki.sql"),
    ),
    (
        8,
        include_str!("../migrations/postgres/0008_link_rollups.sql"),
    ),
    (
        9,
        include_str!("../migrations/postgres/0009_link_adders.sql"),
    ),
];

/// Advisory lock keys ("wikiwatch" in two halves).
const MIGRATION_LOCK: i64 = 0x7769_6b69_7761_0001;
const INGEST_LOCK: i64 = 0x7769_6b69_7761_0002;

const MONTH_MS_APPROX: i64 = 31 * 86_400_000;

/// The URL with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "postgres://(unparseable URL)".into(),
    }
}

/// What the URL asks for beyond the connection itself.
#[derive(Debug, Clone)]
struct Options {
    pool_max: usize,
    statement_timeout_ms: Option<u64>,
    retention_months: Option<u32>,
    ssl: SslMode,
    rootcert: Option<std::path::PathBuf>,
}

/// Connects one client outside the pool (the ingest lock's connection), with
/// or without TLS, and returns it with its connection task.
type Connection =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

async fn connect_one(
    config: &tokio_postgres::Config,
    tls: &Option<RustlsConnect>,
) -> Result<(tokio_postgres::Client, Connection), tokio_postgres::Error> {
    match tls {
        Some(tls) => {
            let (client, conn) = config.connect(tls.clone()).await?;
            Ok((client, Box::pin(conn)))
        }
        None => {
            let (client, conn) = config.connect(NoTls).await?;
            Ok((client, Box::pin(conn)))
        }
    }
}

fn pg_err(url: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Postgres(format!("{} ({})", e, redact_url(url)))
}

fn split_options(url: &str) -> Result<(tokio_postgres::Config, Options), StoreError> {
    let mut parsed = url::Url::parse(url).map_err(|e| StoreError::Open {
        url: redact_url(url),
        reason: format!("not a URL: {e}"),
    })?;
    let mut options = Options {
        pool_max: 8,
        statement_timeout_ms: None,
        retention_months: None,
        ssl: SslMode::Prefer,
        rootcert: None,
    };
    let mut kept = Vec::new();
    let bad = |k: &str, v: &str| StoreError::Open {
        url: redact_url(url),
        reason: format!("invalid {k}={v:?}: expected a positive whole number"),
    };
    for (k, v) in parsed.query_pairs() {
        match k.as_ref() {
            "pool_max" => {
                options.pool_max = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad(&k, &v))?
            }
            "statement_timeout_ms" => {
                options.statement_timeout_ms = Some(v.parse().map_err(|_| bad(&k, &v))?)
            }
            "retention_months" => {
                options.retention_months = Some(
                    v.parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(&k, &v))?,
                )
            }
            "sslmode" => {
                options.ssl = SslMode::parse(&v).ok_or_else(|| StoreError::Open {
                    url: redact_url(url),
                    reason: format!(
                        "invalid sslmode={v:?}: expected disable, prefer, require, verify-ca or verify-full"
                    ),
                })?
            }
            "sslrootcert" => options.rootcert = Some(std::path::PathBuf::from(v.as_ref())),
            "sslcert" | "sslkey" => {
                return Err(StoreError::Open {
                    url: redact_url(url),
                    reason: format!(
                        "{k}: client certificates are not supported; authenticate with a password"
                    ),
                });
            }
            _ => kept.push((k.into_owned(), v.into_owned())),
        }
    }
    parsed.set_query(None);
    if !kept.is_empty() {
        let mut q = parsed.query_pairs_mut();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
    }
    let mut config: tokio_postgres::Config =
        parsed.as_str().parse().map_err(|e| StoreError::Open {
            url: redact_url(url),
            reason: format!("{e}"),
        })?;
    config.ssl_mode(options.ssl.driver_mode());
    config.application_name("wikiwatch");
    if let Some(ms) = options.statement_timeout_ms {
        config.options(format!("-c statement_timeout={ms}"));
    }
    config.connect_timeout(Duration::from_secs(10));
    config.keepalives_idle(Duration::from_secs(30));
    Ok((config, options))
}

pub struct PostgresStore {
    url: String,
    config: tokio_postgres::Config,
    /// The TLS connector, unless `sslmode=disable`.
    tls: Option<RustlsConnect>,
    pool: Pool,
    options: Options,
    /// Month starts (ms) whose link_events partition is known to exist.
    partitions: Mutex<HashSet<i64>>,
    last_retention_ms: Mutex<i64>,
}

fn month_start(ms: i64) -> (i64, i64) {
    use chrono::{Datelike, TimeZone};
    let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let start = chrono::Utc
        .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let (ny, nm) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    let end = chrono::Utc
        .with_ymd_and_hms(ny, nm, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    (start.timestamp_millis(), end.timestamp_millis())
}

fn partition_name(start_ms: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(start_ms).unwrap_or_default();
    format!("link_events_{}", t.format("%Y_%m"))
}

impl PostgresStore {
    /// Connects, applies migrations (under an advisory lock, so two processes
    /// starting together are safe) and creates this month's and next month's
    /// partitions.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let (config, options) = split_options(url)?;
        let tls = match options.ssl {
            SslMode::Disable => None,
            mode => Some(
                RustlsConnect::new(mode, options.rootcert.as_deref()).map_err(|e| {
                    StoreError::Open {
                        url: redact_url(url),
                        reason: e.to_string(),
                    }
                })?,
            ),
        };
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &tls {
            Some(tls) => Manager::from_config(config.clone(), tls.clone(), manager_config),
            None => Manager::from_config(config.clone(), NoTls, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(options.pool_max)
            .build()
            .map_err(|e| pg_err(url, e))?;
        let store = PostgresStore {
            url: redact_url(url),
            config,
            tls,
            pool,
            options,
            partitions: Mutex::new(HashSet::new()),
            last_retention_ms: Mutex::new(0),
        };
        store.migrate().await?;
        let now = now_ms();
        let mut client = store.client().await?;
        let tx = client.transaction().await.map_err(|e| store.err(e))?;
        store
            .ensure_partitions(&tx, [now, now + MONTH_MS_APPROX])
            .await?;
        tx.commit().await.map_err(|e| store.err(e))?;
        Ok(store)
    }

    pub(super) fn err(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Postgres(format!("{e} ({})", self.url))
    }

    pub(super) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| {
            // The error chain's source says why (refused, TLS, auth).
            let mut why = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                why.push_str(&format!(": {s}"));
                src = s.source();
            }
            StoreError::Postgres(format!(
                "no connection to {} (sslmode={}): {why}",
                self.url,
                self.options.ssl.as_str()
            ))
        })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(|e| self.err(e))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
        )
        .await
        .map_err(|e| self.err(e))?;
        for (version, sql) in MIGRATIONS {
            let done = tx
                .query_opt(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &[version],
                )
                .await
                .map_err(|e| self.err(e))?;
            if done.is_none() {
                tx.batch_execute(sql)
                    .await
                    .map_err(|e| StoreError::Migration {
                        version: *version,
                        reason: e.to_string(),
                    })?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)",
                    &[version, &now_ms()],
                )
                .await
                .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Creates the monthly partitions covering `times` that do not exist yet.
    async fn ensure_partitions(
        &self,
        tx: &Transaction<'_>,
        times: impl IntoIterator<Item = i64>,
    ) -> Result<(), StoreError> {
        let mut wanted: Vec<(i64, i64)> = Vec::new();
        {
            let known = self
                .partitions
                .lock()
                .map_err(|_| StoreError::Task("partition cache poisoned".into()))?;
            for t in times {
                let m = month_start(t);
                if !known.contains(&m.0) && !wanted.contains(&m) {
                    wanted.push(m);
                }
            }
        }
        for (start, end) in wanted {
            let name = partition_name(start);
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {name} PARTITION OF link_events FOR VALUES FROM ({start}) TO ({end})"
            );
            tx.batch_execute(&sql).await.map_err(|e| self.err(e))?;
            if let Ok(mut known) = self.partitions.lock() {
                known.insert(start);
            }
        }
        Ok(())
    }

    /// Drops whole monthly partitions older than `retention_months`, at most
    /// once an hour.
    async fn apply_retention(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let Some(months) = self.options.retention_months else {
            return Ok(());
        };
        let now = now_ms();
        {
            let Ok(mut last) = self.last_retention_ms.lock() else {
                return Ok(());
            };
            if now - *last < 3_600_000 {
                return Ok(());
            }
            *last = now;
        }
        let cutoff = month_start(now - i64::from(months) * MONTH_MS_APPROX).0;
        let rows = tx
            .query(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
                 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'link_events'::regclass",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        for r in rows {
            let name: String = r.get(0);
            let bound: String = r.get(1);
            // FOR VALUES FROM ('1767225600000') TO ('1769904000000')
            let upper = bound
                .rsplit("TO (")
                .next()
                .map(|s| s.trim_matches(|c: char| !c.is_ascii_digit()))
                .and_then(|s| s.parse::<i64>().ok());
            if let Some(upper) = upper
                && upper <= cutoff
                && name.starts_with("link_events_2")
            {
                let n: i64 = tx
                    .query_one(&format!("SELECT count(*) FROM {name}"), &[])
                    .await
                    .map_err(|e| self.err(e))?
                    .get(0);
                tx.batch_execute(&format!("DROP TABLE {name}"))
                    .await
                    .map_err(|e| self.err(e))?;
                tx.execute(
                    "UPDATE row_counts SET rows = rows - $1 WHERE table_name = 'link_events'",
                    &[&n],
                )
                .await
                .map_err(|e| self.err(e))?;
                tracing::info!(partition = %name, rows = n, "retention: dropped a month of link events");
            }
        }
        Ok(())
    }
}

// Indexes into the per-batch row-count deltas, in `COUNTED_TABLES` order.
const EDITS: usize = 0;
const USES: usize = 1;
const TAGS: usize = 2;
const LINK_EVENTS: usize = 3;
const PAGE_LINKS: usize = 4;
const PAGE_EVENTS: usize = 5;
const COUNTED_TABLES: [&str; 6] = [
    "hashtag_edits",
    "hashtag_uses",
    "hashtag_tags",
    "link_events",
    "page_links",
    "page_events",
];

fn flag(b: bool) -> i16 {
    i16::from(b)
}

struct Writer<'a, 'b> {
    store: &'a PostgresStore,
    tx: &'a Transaction<'b>,
    outcome: WriteOutcome,
    counts: [i64; 6],
}

impl Writer<'_, '_> {
    pub(super) fn err(&self, e: impl std::fmt::Display) -> StoreError {
        self.store.err(e)
    }

    async fn hashtag_edits(&mut self, edits: &[&HashtagEdit]) -> Result<(), StoreError> {
        if edits.is_empty() {
            return Ok(());
        }
        let col = |f: fn(&HashtagEdit) -> String| edits.iter().map(|e| f(e)).collect::<Vec<_>>();
        let meta: Vec<String> = col(|e| e.meta_id.clone());
        let wiki = col(|e| e.wiki.clone());
        let domain = col(|e| e.domain.clone());
        let rc: Vec<Option<i64>> = edits.iter().map(|e| e.rc_id).collect();
        let rev_old: Vec<Option<i64>> = edits.iter().map(|e| e.rev_old).collect();
        let rev_new: Vec<Option<i64>> = edits.iter().map(|e| e.rev_new).collect();
        let title = col(|e| e.title.clone());
        let ns: Vec<i64> = edits.iter().map(|e| e.namespace).collect();
        let kind = col(|e| e.change_type.clone());
        let user: Vec<Option<String>> = edits.iter().map(|e| e.user.clone()).collect();
        let editor = col(|e| e.editor_kind.as_str().to_owned());
        let time: Vec<i64> = edits.iter().map(|e| e.time_ms).collect();
        let summary = col(|e| e.summary.clone());
        let len_old: Vec<Option<i64>> = edits.iter().map(|e| e.len_old).collect();
        let len_new: Vec<Option<i64>> = edits.iter().map(|e| e.len_new).collect();
        let minor: Vec<i16> = edits.iter().map(|e| flag(e.minor)).collect();
        let is_new: Vec<i16> = edits.iter().map(|e| flag(e.is_new)).collect();
        let bot: Vec<i16> = edits.iter().map(|e| flag(e.bot)).collect();
        let rows = self
            .tx
            .query(
                "INSERT INTO hashtag_edits (meta_id, wiki, domain, rc_id, rev_old, rev_new, title, namespace,
                    change_type, user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[],
                    $7::text[], $8::int8[], $9::text[], $10::text[], $11::text[], $12::int8[], $13::text[],
                    $14::int8[], $15::int8[], $16::int2[], $17::int2[], $18::int2[])
                 ON CONFLICT DO NOTHING
                 RETURNING id, meta_id",
                &[
                    &meta, &wiki, &domain, &rc, &rev_old, &rev_new, &title, &ns, &kind, &user, &editor,
                    &time, &summary, &len_old, &len_new, &minor, &is_new, &bot,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        let ids: HashMap<String, i64> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
        self.outcome.hashtag_edits += ids.len() as u64;
        self.counts[EDITS] += ids.len() as i64;

        // Uses of the new edits, in order; then the tag vocabulary, aggregated
        // so each tag is upserted once per run.
        let (mut u_edit, mut u_key, mut u_tag, mut u_time, mut u_wiki, mut u_user) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let mut u_src: Vec<&HashtagEdit> = Vec::new();
        for e in edits {
            let Some(id) = ids.get(&e.meta_id) else {
                continue;
            };
            for t in &e.tags {
                u_src.push(e);
                u_edit.push(*id);
                u_key.push(t.key.clone());
                u_tag.push(t.text.clone());
                u_time.push(e.time_ms);
                u_wiki.push(e.wiki.clone());
                u_user.push(e.user.clone());
            }
        }
        if u_edit.is_empty() {
            return Ok(());
        }
        let inserted = self
            .tx
            .query(
                "INSERT INTO hashtag_uses (edit_id, tag_key, tag, time_ms, wiki, user_name)
                 SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[])
                 ON CONFLICT DO NOTHING
                 RETURNING edit_id, tag_key",
                &[&u_edit, &u_key, &u_tag, &u_time, &u_wiki, &u_user],
            )
            .await
            .map_err(|e| self.err(e))?;
        let inserted: HashSet<(i64, String)> =
            inserted.iter().map(|r| (r.get(0), r.get(1))).collect();
        self.outcome.hashtag_uses += inserted.len() as u64;
        self.counts[USES] += inserted.len() as i64;
        // The per-tag aggregates, from exactly the use rows just inserted.
        let new_uses: Vec<(&str, &HashtagEdit)> = (0..u_edit.len())
            .filter(|&i| inserted.contains(&(u_edit[i], u_key[i].clone())))
            .map(|i| (u_key[i].as_str(), u_src[i]))
            .collect();
        hashtags::add_to_aggregates(self.tx, &new_uses)
            .await
            .map_err(|e| self.err(e))?;
        // tag_key → (first spelling, first_ms, last_ms, uses), in use order.
        let mut order: Vec<String> = Vec::new();
        let mut agg: HashMap<String, (String, i64, i64, i64)> = HashMap::new();
        for i in 0..u_edit.len() {
            if !inserted.contains(&(u_edit[i], u_key[i].clone())) {
                continue;
            }
            let e = agg.entry(u_key[i].clone()).or_insert_with(|| {
                order.push(u_key[i].clone());
                (u_tag[i].clone(), u_time[i], u_time[i], 0)
            });
            e.1 = e.1.min(u_time[i]);
            e.2 = e.2.max(u_time[i]);
            e.3 += 1;
        }
        let keys: Vec<String> = order.clone();
        let tags: Vec<String> = order.iter().map(|k| agg[k].0.clone()).collect();
        let firsts: Vec<i64> = order.iter().map(|k| agg[k].1).collect();
        let lasts: Vec<i64> = order.iter().map(|k| agg[k].2).collect();
        let uses: Vec<i64> = order.iter().map(|k| agg[k].3).collect();
        let new_tags = self
            .tx
            .query(
                "INSERT INTO hashtag_tags (tag_key, tag, first_ms, last_ms, uses)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[])
                 ON CONFLICT (tag_key) DO UPDATE SET uses = hashtag_tags.uses + excluded.uses,
                     first_ms = least(hashtag_tags.first_ms, excluded.first_ms),
                     last_ms = greatest(hashtag_tags.last_ms, excluded.last_ms)
                 RETURNING (xmax = 0) AS inserted",
                &[&keys, &tags, &firsts, &lasts, &uses],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.counts[TAGS] += new_tags.iter().filter(|r| r.get::<_, bool>(0)).count() as i64;
        Ok(())
    }

    async fn links(&mut self, links: &[&LinkChangeRow]) -> Result<(), StoreError> {
        if links.is_empty() {
            return Ok(());
        }
        // Gate: an event's links are written once, when its id is new.
        let mut event_ids: Vec<String> = Vec::new();
        for l in links {
            if event_ids.last() != Some(&l.meta_id) && !event_ids.contains(&l.meta_id) {
                event_ids.push(l.meta_id.clone());
            }
        }
        let fresh: HashSet<String> = self
            .tx
            .query(
                "INSERT INTO link_change_events (meta_id) SELECT * FROM UNNEST($1::text[])
                 ON CONFLICT DO NOTHING RETURNING meta_id",
                &[&event_ids],
            )
            .await
            .map_err(|e| self.err(e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let rows: Vec<&LinkChangeRow> = links
            .iter()
            .copied()
            .filter(|l| fresh.contains(&l.meta_id))
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        self.store
            .ensure_partitions(self.tx, rows.iter().map(|l| l.time_ms))
            .await?;
        // Ids first, so page_links can point at the rows just written.
        let ids: Vec<i64> = self
            .tx
            .query(
                "SELECT nextval('link_events_id_seq') FROM generate_series(1, $1::int8)",
                &[&(rows.len() as i64)],
            )
            .await
            .map_err(|e| self.err(e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let s = |f: &dyn Fn(&LinkChangeRow) -> String| {
            rows.iter().map(|l| f(l)).collect::<Vec<String>>()
        };
        let o = |f: &dyn Fn(&LinkChangeRow) -> Option<String>| {
            rows.iter().map(|l| f(l)).collect::<Vec<Option<String>>>()
        };
        let oi = |f: &dyn Fn(&LinkChangeRow) -> Option<i64>| {
            rows.iter().map(|l| f(l)).collect::<Vec<Option<i64>>>()
        };
        let meta = s(&|l| l.meta_id.clone());
        let action = s(&|l| l.action.as_str().to_owned());
        let raw = s(&|l| l.link.raw.clone());
        let wiki = s(&|l| l.wiki.clone());
        let wiki_domain = s(&|l| l.wiki_domain.clone());
        let page_id: Vec<i64> = rows.iter().map(|l| l.page_id).collect();
        let page_title = s(&|l| l.page_title.clone());
        let page_ns: Vec<i64> = rows.iter().map(|l| l.page_namespace).collect();
        let rev_id = oi(&|l| l.rev_id);
        let performer = o(&|l| l.performer.as_ref().map(|p| p.name.clone()));
        let performer_id = oi(&|l| l.performer.as_ref().and_then(|p| p.id));
        let performer_bot: Vec<Option<i16>> = rows
            .iter()
            .map(|l| l.performer.as_ref().map(|p| flag(p.bot)))
            .collect();
        let groups = o(&|l| {
            l.performer
                .as_ref()
                .map(|p| serde_json::to_string(&p.groups).unwrap_or_default())
        });
        let registration = oi(&|l| l.performer.as_ref().and_then(|p| p.registration_ms));
        let edit_count = oi(&|l| l.performer.as_ref().and_then(|p| p.edit_count));
        let time: Vec<i64> = rows.iter().map(|l| l.time_ms).collect();
        let url = s(&|l| l.link.url.clone());
        let scheme = o(&|l| l.link.scheme.clone());
        let host = o(&|l| l.link.host.clone());
        let domain = o(&|l| l.link.domain.clone());
        let rhost = o(&|l| l.rhost.clone());
        let wrapper_kind = o(&|l| {
            l.link.wrapper.as_ref().map(|w| match w.kind {
                crate::extract::WrapperKind::Proxy => "proxy".to_owned(),
                crate::extract::WrapperKind::Archive => "archive".to_owned(),
            })
        });
        let wrapper_host = o(&|l| l.link.wrapper.as_ref().map(|w| w.host.clone()));
        let error = o(&|l| l.link.error.clone());
        let rc_id = oi(&|l| l.rc_id);
        let provenance = s(&|l| l.provenance.as_str().to_owned());
        let editor_kind = o(&|l| l.editor_kind.map(|k| k.as_str().to_owned()));
        let target = s(&|l| l.target.clone());
        self.tx
            .execute(
                "INSERT INTO link_events (id, meta_id, action, raw, wiki, wiki_domain, page_id, page_title,
                    page_namespace, rev_id, performer, performer_id, performer_bot, performer_groups,
                    performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                    rhost, wrapper_kind, wrapper_host, error, rc_id, provenance, editor_kind, target)
                 SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::int8[], $8::text[], $9::int8[], $10::int8[], $11::text[], $12::int8[], $13::int2[],
                    $14::text[], $15::int8[], $16::int8[], $17::int8[], $18::text[], $19::text[], $20::text[],
                    $21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::int8[], $27::text[],
                    $28::text[], $29::text[])",
                &[
                    &ids, &meta, &action, &raw, &wiki, &wiki_domain, &page_id, &page_title, &page_ns,
                    &rev_id, &performer, &performer_id, &performer_bot, &groups, &registration,
                    &edit_count, &time, &url, &scheme, &host, &domain, &rhost, &wrapper_kind,
                    &wrapper_host, &error, &rc_id, &provenance, &editor_kind, &target,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.outcome.link_events += rows.len() as u64;
        self.counts[LINK_EVENTS] += rows.len() as i64;

        // The present-links set: the last action per (wiki, page, link) in
        // this run decides, which is what applying them one by one gives.
        let mut last: HashMap<(&str, i64, &str), usize> = HashMap::new();
        let mut order: Vec<(&str, i64, &str)> = Vec::new();
        for (i, l) in rows.iter().enumerate() {
            if !matches!(l.action, LinkAction::Added | LinkAction::Removed) {
                continue;
            }
            let key = (l.wiki.as_str(), l.page_id, l.link.raw.as_str());
            if last.insert(key, i).is_none() {
                order.push(key);
            }
        }
        let (mut a_wiki, mut a_page, mut a_raw, mut a_title, mut a_ns, mut a_id) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let (mut r_wiki, mut r_page, mut r_raw) = (Vec::new(), Vec::new(), Vec::new());
        for key in order {
            let i = last[&key];
            let l = rows[i];
            if l.action == LinkAction::Added {
                a_wiki.push(l.wiki.clone());
                a_page.push(l.page_id);
                a_raw.push(l.link.raw.clone());
                a_title.push(l.page_title.clone());
                a_ns.push(l.page_namespace);
                a_id.push(ids[i]);
            } else {
                r_wiki.push(l.wiki.clone());
                r_page.push(l.page_id);
                r_raw.push(l.link.raw.clone());
            }
        }
        if !a_wiki.is_empty() {
            let added = self
                .tx
                .query(
                    "INSERT INTO page_links (wiki, page_id, raw, page_title, page_namespace, deleted, last_event_id)
                     SELECT w, p, r, t, n, 0, i FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[],
                        $5::int8[], $6::int8[]) AS u(w, p, r, t, n, i)
                     ON CONFLICT (wiki, page_id, md5(raw)) DO UPDATE SET deleted = 0,
                        last_event_id = excluded.last_event_id, page_title = excluded.page_title,
                        page_namespace = excluded.page_namespace
                     RETURNING (xmax = 0) AS inserted",
                    &[&a_wiki, &a_page, &a_raw, &a_title, &a_ns, &a_id],
                )
                .await
                .map_err(|e| self.err(e))?;
            self.counts[PAGE_LINKS] += added.iter().filter(|r| r.get::<_, bool>(0)).count() as i64;
        }
        if !r_wiki.is_empty() {
            let n = self
                .tx
                .execute(
                    "DELETE FROM page_links pl USING UNNEST($1::text[], $2::int8[], $3::text[]) AS u(w, p, r)
                     WHERE pl.wiki = u.w AND pl.page_id = u.p AND pl.raw = u.r",
                    &[&r_wiki, &r_page, &r_raw],
                )
                .await
                .map_err(|e| self.err(e))?;
            self.counts[PAGE_LINKS] -= n as i64;
        }
        Ok(())
    }

    async fn insert_page_event(
        &mut self,
        p: &PageEventRow,
        action: LinkAction,
    ) -> Result<bool, StoreError> {
        let performer = p.performer.as_ref().map(|u| u.name.clone());
        let n = self
            .tx
            .execute(
                "INSERT INTO page_events (meta_id, action, wiki, page_id, page_title, page_namespace,
                    performer, time_ms, links)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) ON CONFLICT DO NOTHING",
                &[
                    &p.meta_id,
                    &action.as_str(),
                    &p.wiki,
                    &p.page_id,
                    &p.page_title,
                    &p.page_namespace,
                    &performer,
                    &p.time_ms,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.counts[PAGE_EVENTS] += n as i64;
        Ok(n > 0)
    }

    /// One link event per link of the page in `deleted_state`, copying each
    /// link's analysis from the event that last added it.
    async fn link_events_from_page(
        &mut self,
        p: &PageEventRow,
        action: LinkAction,
        deleted_state: i16,
    ) -> Result<u64, StoreError> {
        self.store.ensure_partitions(self.tx, [p.time_ms]).await?;
        let u = p.performer.as_ref();
        let performer = u.map(|u| u.name.clone());
        let performer_id = u.and_then(|u| u.id);
        let performer_bot = u.map(|u| flag(u.bot));
        let groups = u.map(|u| serde_json::to_string(&u.groups).unwrap_or_default());
        let registration = u.and_then(|u| u.registration_ms);
        let edit_count = u.and_then(|u| u.edit_count);
        let editor_kind = u.map(|u| crate::extract::editor_kind(&u.name).as_str().to_owned());
        let n = self
            .tx
            .execute(
                "INSERT INTO link_events (meta_id, action, raw, wiki, wiki_domain, page_id, page_title,
                    page_namespace, rev_id, performer, performer_id, performer_bot, performer_groups,
                    performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                    rhost, wrapper_kind, wrapper_host, error, provenance, editor_kind, target)
                 SELECT $1, $2, pl.raw, pl.wiki, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                    le.url, le.scheme, le.host, le.domain, le.rhost, le.wrapper_kind, le.wrapper_host, le.error,
                    CASE WHEN $8::text IS NULL THEN 'system' ELSE 'edit' END, $17::text, COALESCE(le.target, le.url)
                 FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id
                 WHERE pl.wiki = $15 AND pl.page_id = $4 AND pl.deleted = $16
                 ORDER BY pl.raw",
                &[
                    &p.meta_id,
                    &action.as_str(),
                    &p.wiki_domain,
                    &p.page_id,
                    &p.page_title,
                    &p.page_namespace,
                    &p.rev_id,
                    &performer,
                    &performer_id,
                    &performer_bot,
                    &groups,
                    &registration,
                    &edit_count,
                    &p.time_ms,
                    &p.wiki,
                    &deleted_state,
                    &editor_kind,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(n)
    }

    async fn finish_page_event(&mut self, p: &PageEventRow, links: u64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE page_events SET links = $2 WHERE meta_id = $1",
                &[&p.meta_id, &(links as i64)],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.outcome.link_events += links;
        self.counts[LINK_EVENTS] += links as i64;
        Ok(())
    }

    async fn page_deleted(&mut self, p: &PageEventRow) -> Result<(), StoreError> {
        if !self.insert_page_event(p, LinkAction::PageDeleted).await? {
            return Ok(());
        }
        let n = self
            .link_events_from_page(p, LinkAction::PageDeleted, 0)
            .await?;
        if n == 0 {
            // Nothing was present: nothing to mark, and `links` is already 0.
            return Ok(());
        }
        self.tx
            .execute(
                "UPDATE page_links SET deleted = 1 WHERE wiki = $1 AND page_id = $2 AND deleted = 0",
                &[&p.wiki, &p.page_id],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.finish_page_event(p, n).await
    }

    async fn page_restored(&mut self, p: &PageEventRow) -> Result<(), StoreError> {
        if !self.insert_page_event(p, LinkAction::PageRestored).await? {
            return Ok(());
        }
        let by_id = self
            .tx
            .query_opt(
                "SELECT 1 FROM page_links WHERE wiki = $1 AND page_id = $2 AND deleted = 1 LIMIT 1",
                &[&p.wiki, &p.page_id],
            )
            .await
            .map_err(|e| self.err(e))?
            .is_some();
        if !by_id {
            // A restored page can come back under a new id: move its deleted
            // links by title, replacing any rows already under the new id
            // (what SQLite's UPDATE OR REPLACE does).
            self.tx
                .execute(
                    "DELETE FROM page_links WHERE wiki = $1 AND page_id = $3 AND raw IN
                        (SELECT raw FROM page_links WHERE wiki = $1 AND page_title = $2 AND deleted = 1)",
                    &[&p.wiki, &p.page_title, &p.page_id],
                )
                .await
                .map_err(|e| self.err(e))?;
            self.tx
                .execute(
                    "UPDATE page_links SET page_id = $3 WHERE wiki = $1 AND page_title = $2 AND deleted = 1",
                    &[&p.wiki, &p.page_title, &p.page_id],
                )
                .await
                .map_err(|e| self.err(e))?;
        }
        let n = self
            .link_events_from_page(p, LinkAction::PageRestored, 1)
            .await?;
        self.tx
            .execute(
                "UPDATE page_links SET deleted = 0 WHERE wiki = $1 AND page_id = $2 AND deleted = 1",
                &[&p.wiki, &p.page_id],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.finish_page_event(p, n).await
    }
}

/// Renders one row as the JSON array `dump` prints, with the same value
/// forms as SQLite (integers as numbers, text as strings).
fn row_json(row: &Row) -> serde_json::Value {
    let mut values = Vec::with_capacity(row.len());
    for (i, c) in row.columns().iter().enumerate() {
        let v = match *c.type_() {
            Type::INT2 => row.get::<_, Option<i16>>(i).map(serde_json::Value::from),
            Type::INT4 => row.get::<_, Option<i32>>(i).map(serde_json::Value::from),
            Type::INT8 => row.get::<_, Option<i64>>(i).map(serde_json::Value::from),
            Type::BOOL => row
                .get::<_, Option<bool>>(i)
                .map(|b| serde_json::Value::from(i64::from(b))),
            _ => row.get::<_, Option<String>>(i).map(serde_json::Value::from),
        };
        values.push(v.unwrap_or(serde_json::Value::Null));
    }
    serde_json::Value::Array(values)
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn hashtags(&self) -> &dyn super::HashtagQueries {
        self
    }

    async fn write_batch(&self, batch: Arc<Batch>) -> Result<WriteOutcome, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        let mut w = Writer {
            store: self,
            tx: &tx,
            outcome: WriteOutcome::default(),
            counts: [0; 6],
        };
        // Runs of hashtag and link ops go set-wise; page events in order
        // between runs.
        let mut edits: Vec<&HashtagEdit> = Vec::new();
        let mut links: Vec<&LinkChangeRow> = Vec::new();
        for op in &batch.ops {
            match op {
                Op::HashtagEdit(e) => edits.push(e),
                Op::Link(l) => links.push(l),
                Op::PageDeleted(p) | Op::PageRestored(p) => {
                    // A page event only has to wait for pending links of its
                    // own page (by id, or by title for a restoration);
                    // hashtag edits never interact with it.
                    let restoring = matches!(op, Op::PageRestored(_));
                    let touches = links.iter().any(|l| {
                        l.wiki == p.wiki
                            && (l.page_id == p.page_id
                                || (restoring && l.page_title == p.page_title))
                    });
                    if touches {
                        w.links(&links).await?;
                        links.clear();
                    }
                    if matches!(op, Op::PageDeleted(_)) {
                        w.page_deleted(p).await?;
                    } else {
                        w.page_restored(p).await?;
                    }
                }
            }
        }
        w.hashtag_edits(&edits).await?;
        w.links(&links).await?;
        let (outcome, counts) = (w.outcome, w.counts);
        let tables: Vec<String> = COUNTED_TABLES.iter().map(|t| (*t).to_owned()).collect();
        let deltas: Vec<i64> = counts.to_vec();
        if deltas.iter().any(|d| *d != 0) {
            tx.execute(
                "UPDATE row_counts r SET rows = r.rows + u.d
                 FROM UNNEST($1::text[], $2::int8[]) AS u(t, d) WHERE r.table_name = u.t AND u.d <> 0",
                &[&tables, &deltas],
            )
            .await
            .map_err(|e| self.err(e))?;
        }
        if let Some(position) = &batch.position {
            tx.execute(
                "INSERT INTO ingest_position (id, position, updated_ms) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms",
                &[position, &now_ms()],
            )
            .await
            .map_err(|e| self.err(e))?;
        }
        self.apply_retention(&tx).await?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(outcome)
    }

    async fn position(&self) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT position FROM ingest_position WHERE id = 1", &[])
            .await
            .map_err(|e| self.err(e))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn table_counts(&self) -> Result<Vec<TableCount>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT table_name, rows FROM row_counts ORDER BY table_name",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .map(|r| TableCount {
                table: r.get(0),
                rows: r.get(1),
            })
            .collect())
    }

    async fn acquire_ingest_lease(
        &self,
        shutdown: CancellationToken,
    ) -> Result<Option<IngestLease>, StoreError> {
        let mut warned = false;
        loop {
            // A dedicated connection: the lock lives exactly as long as it.
            match connect_one(&self.config, &self.tls).await {
                Ok((client, connection)) => {
                    let lost = CancellationToken::new();
                    let closed = CancellationToken::new();
                    {
                        let (lost, closed) = (lost.clone(), closed.clone());
                        tokio::spawn(async move {
                            if let Err(e) = connection.await {
                                tracing::warn!(error = %e, "the connection holding the ingest lock failed");
                            }
                            closed.cancel();
                            lost.cancel();
                        });
                    }
                    loop {
                        let got: bool = match client
                            .query_one("SELECT pg_try_advisory_lock($1)", &[&INGEST_LOCK])
                            .await
                        {
                            Ok(row) => row.get(0),
                            Err(e) => {
                                tracing::warn!(error = %self.err(e), "cannot ask for the ingest lock; retrying");
                                break;
                            }
                        };
                        if got {
                            return Ok(Some(IngestLease {
                                lost,
                                guard: Box::new(client),
                            }));
                        }
                        if !warned {
                            tracing::warn!(
                                "another process is ingesting into this database; waiting to take over"
                            );
                            warned = true;
                        }
                        tokio::select! {
                            _ = shutdown.cancelled() => return Ok(None),
                            _ = closed.cancelled() => break,
                            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %self.err(e), "cannot connect for the ingest lock; retrying");
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(None),
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn wiki_namespaces(
        &self,
        wiki: &str,
    ) -> Result<Option<std::collections::BTreeMap<i64, String>>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT ns, name FROM wiki_namespaces WHERE wiki = $1",
                &[&wiki],
            )
            .await
            .map_err(|e| self.err(e))?;
        let names: std::collections::BTreeMap<i64, String> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok((!names.is_empty()).then_some(names))
    }

    async fn save_wiki_namespaces(
        &self,
        wiki: &str,
        names: std::collections::BTreeMap<i64, String>,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM wiki_namespaces WHERE wiki = $1", &[&wiki])
            .await
            .map_err(|e| self.err(e))?;
        let ids: Vec<i64> = names.keys().copied().collect();
        let labels: Vec<String> = names.into_values().collect();
        tx.execute(
            "INSERT INTO wiki_namespaces (wiki, ns, name, fetched_ms)
             SELECT $1, ns, name, $4 FROM UNNEST($2::BIGINT[], $3::TEXT[]) AS t(ns, name)",
            &[&wiki, &ids, &labels, &now_ms()],
        )
        .await
        .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn dump(&self) -> Result<Vec<String>, StoreError> {
        let client = self.client().await?;
        let queries: [(&str, &str); 8] = [
            ("position", "SELECT position FROM ingest_position"),
            (
                "hashtag_edit",
                "SELECT meta_id, wiki, domain, rc_id, rev_old, rev_new, title, namespace, change_type,
                    user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot,
                    has_image, has_video, has_audio FROM hashtag_edits",
            ),
            (
                "hashtag_use",
                "SELECT e.meta_id, u.tag_key, u.tag, u.time_ms, u.wiki, u.user_name
                 FROM hashtag_uses u JOIN hashtag_edits e ON e.id = u.edit_id",
            ),
            (
                "hashtag_tag",
                "SELECT tag_key, tag, first_ms, last_ms, uses FROM hashtag_tags",
            ),
            (
                "link_event",
                "SELECT meta_id, action, raw, wiki, wiki_domain, page_id, page_title, page_namespace,
                    rev_id, rc_id, provenance, performer, performer_id, performer_bot, performer_groups,
                    performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                    rhost, wrapper_kind, wrapper_host, error, editor_kind, target FROM link_events",
            ),
            (
                "page_link",
                "SELECT pl.wiki, pl.page_id, pl.raw, pl.page_title, pl.page_namespace, pl.deleted, le.meta_id
                 FROM page_links pl LEFT JOIN link_events le ON le.id = pl.last_event_id",
            ),
            (
                "page_event",
                "SELECT meta_id, action, wiki, page_id, page_title, page_namespace, performer, time_ms, links
                 FROM page_events",
            ),
            ("row_count", "SELECT table_name, rows FROM row_counts"),
        ];
        let mut out = Vec::new();
        for (prefix, sql) in queries {
            for row in client.query(sql, &[]).await.map_err(|e| self.err(e))? {
                out.push(format!("{prefix} {}", row_json(&row)));
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_redacted_urls() {
        let r = redact_url("postgres://ww:s3cret@db.example:5432/wikiwatch?pool_max=4");
        assert!(!r.contains("s3cret"), "{r}");
        assert!(r.contains("***"));
        assert_eq!(
            redact_url("postgres://ww@db/wikiwatch"),
            "postgres://ww@db/wikiwatch"
        );
    }

    #[test]
    fn url_options_are_taken_off_and_checked() {
        let (_, o) = split_options(
            "postgres://u:p@127.0.0.1:5/db?pool_max=3&statement_timeout_ms=500&retention_months=24",
        )
        .unwrap();
        assert_eq!(o.pool_max, 3);
        assert_eq!(o.statement_timeout_ms, Some(500));
        assert_eq!(o.retention_months, Some(24));
        let e = split_options("postgres://u:p@h/db?pool_max=none")
            .err()
            .unwrap();
        assert!(e.to_string().contains("pool_max"), "{e}");
        assert!(!e.to_string().contains(":p@"), "{e}");
        let (c, o) = split_options("postgres://u@h/db?sslmode=require").unwrap();
        assert_eq!(o.ssl, SslMode::Require);
        assert_eq!(c.get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        let (c, o) = split_options("postgres://u@h/db").unwrap();
        assert_eq!(o.ssl, SslMode::Prefer);
        assert_eq!(c.get_ssl_mode(), tokio_postgres::config::SslMode::Prefer);
        let (_, o) =
            split_options("postgres://u@h/db?sslmode=verify-ca&sslrootcert=/etc/ca.pem").unwrap();
        assert_eq!(o.ssl, SslMode::VerifyCa);
        assert_eq!(
            o.rootcert.as_deref(),
            Some(std::path::Path::new("/etc/ca.pem"))
        );
        let e = split_options("postgres://u:p@h/db?sslmode=always")
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslmode"), "{e}");
        assert!(!e.to_string().contains(":p@"), "{e}");
    }

    #[test]
    fn months_are_calendar_months_in_utc() {
        // 2026-02-15 → [2026-02-01, 2026-03-01)
        let (s, e) = month_start(1_771_113_600_000);
        assert_eq!(crate::event::format_ms(s), "2026-02-01T00:00:00.000Z");
        assert_eq!(crate::event::format_ms(e), "2026-03-01T00:00:00.000Z");
        assert_eq!(partition_name(s), "link_events_2026_02");
        let (s, e) = month_start(1_796_083_200_000); // 2026-12-01
        assert_eq!(crate::event::format_ms(s), "2026-12-01T00:00:00.000Z");
        assert_eq!(crate::event::format_ms(e), "2027-01-01T00:00:00.000Z");
    }
}
