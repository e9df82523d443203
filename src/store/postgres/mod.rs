//! The PostgreSQL backend: the production store, with the same behaviour and
//! the same `dump` as SQLite. This file opens the pool and holds the
//! [`Store`] operations that are not queries or writes; the batch writer is
//! `write.rs`, migrations `migrate.rs`, queries `hashtags.rs` and `links.rs`.
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
//! `verify-full`) with `sslrootcert`; see `tls.rs`.

mod hashtags;
mod links;
mod migrate;
mod tls;
mod write;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::types::Type;
use tokio_postgres::{NoTls, Row};
use tokio_util::sync::CancellationToken;

use super::{
    Batch, HashtagEdit, IngestLease, LinkAction, LinkChangeRow, Op, PageEventRow, Store,
    StoreError, TableCount, WriteOutcome,
};
use crate::clock::now_ms;
use tls::{RustlsConnect, SslMode};

/// Advisory lock keys ("wikiwatch" in two halves).
pub(super) const MIGRATION_LOCK: i64 = 0x7769_6b69_7761_0001;
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
        self.write(&batch).await
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
