//! Storage: the [`Store`] trait and its backends. This is the only module that
//! holds SQL.
//!
//! Callers never know which backend they talk to: [`open`] picks one from the
//! database URL (`sqlite:PATH`, a bare path, or `postgres://…`). Every write
//! goes through [`Store::write_batch`], which applies a [`Batch`] and the
//! stream position in one transaction and is idempotent: replaying events that
//! are already stored changes nothing.

mod batch;
pub mod hashtags;
pub mod links;
mod postgres;
pub mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

pub use batch::{
    Batch, HashtagEdit, LinkAction, LinkChangeRow, Op, PageEventRow, Provenance, WriteOutcome,
};
pub use hashtags::HashtagQueries;
pub use links::LinkQueries;
pub use postgres::{PostgresStore, redact_url};
pub use sqlite::SqliteStore;
pub use sqlite::bulk_load_hashtag_edits;

/// Errors from any backend. Messages name what failed and, where there is one,
/// the fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL errors carry the server's message and the redacted URL.
    #[error("PostgreSQL error: {0}")]
    Postgres(String),
    #[error("could not open database {url:?}: {reason}")]
    Open { url: String, reason: String },
    #[error(
        "unsupported database URL {0:?}: use sqlite:PATH (the default is sqlite:./wikiwatch.db) or postgres://USER@HOST:PORT/DB"
    )]
    UnsupportedUrl(String),
    #[error("the store's writer has stopped; see the earlier error in the log")]
    WriterGone,
    #[error("migration {version} failed: {reason}")]
    Migration { version: i64, reason: String },
    #[error("store task failed: {0}")]
    Task(String),
    #[error(
        "commits to {path} would not be durable: {problem}; wikiwatch writes nothing until it is restarted on a sound database (nothing is lost: ingest resumes from the last durable position)"
    )]
    NotDurable { path: String, problem: String },
}

/// Row count of one table, for `/api/status`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub rows: i64,
}

/// Permission to ingest, held while this process is the one writing the
/// stream into the database. `lost` is cancelled if the permission goes away
/// (for PostgreSQL, when the connection holding the advisory lock dies), and
/// ingest must then stop. Dropping the lease releases it.
pub struct IngestLease {
    pub lost: tokio_util::sync::CancellationToken,
    /// Whatever keeps the permission alive (a lock file, a connection).
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// The storage interface, implemented by SQLite and PostgreSQL with one
/// conformance suite (tests/store_conformance.rs) for both.
#[async_trait]
pub trait Store: LinkQueries + Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// The hashtag queries (every backend answers them).
    fn hashtags(&self) -> &dyn HashtagQueries;

    /// Applies the batch and stores its position in one transaction.
    /// The batch is shared so that a retry after a failure needs no copy.
    async fn write_batch(&self, batch: Arc<Batch>) -> Result<WriteOutcome, StoreError>;

    /// The stored stream position (the SSE `id` to resume from), if any.
    async fn position(&self) -> Result<Option<String>, StoreError>;

    /// Rows per table, maintained incrementally so this is cheap at any size.
    async fn table_counts(&self) -> Result<Vec<TableCount>, StoreError>;

    /// Waits until this process may ingest: exactly one process per database
    /// ingests at a time; the others serve reads and wait here to take over.
    /// Returns `None` if `shutdown` is cancelled first.
    async fn acquire_ingest_lease(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Result<Option<IngestLease>, StoreError>;

    /// Every stored row in a canonical text form, sorted, without surrogate
    /// keys: two stores with equal dumps hold the same data. Meant for tests
    /// and for `wikiwatch dump`; it reads everything.
    async fn dump(&self) -> Result<Vec<String>, StoreError>;

    /// The namespace names (id → canonical name) cached for `wiki` from its
    /// siteinfo, if any (WikiMon `ns`, see `live::namespaces`).
    async fn wiki_namespaces(
        &self,
        wiki: &str,
    ) -> Result<Option<std::collections::BTreeMap<i64, String>>, StoreError>;

    /// Replaces the cached namespace names of `wiki`.
    async fn save_wiki_namespaces(
        &self,
        wiki: &str,
        names: std::collections::BTreeMap<i64, String>,
    ) -> Result<(), StoreError>;
}

/// Opens the store named by `url`, applying migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::open(url).await?;
        return Ok(Arc::new(store));
    }
    let path = if let Some(p) = url.strip_prefix("sqlite://") {
        p
    } else if let Some(p) = url.strip_prefix("sqlite:") {
        p
    } else if url.contains("://") {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    } else {
        url
    };
    if path.is_empty() {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    let store = SqliteStore::open(std::path::Path::new(path)).await?;
    Ok(Arc::new(store))
}
