//! The SQLite backend: opening the database, its writer thread and read
//! pool, and the [`Store`] operations that are not queries (position, row
//! counts, ingest lease, dump, namespace cache).
//!
//! SQLite allows one writer at a time, so one dedicated thread owns the write
//! connection and applies batches sent to it over a channel (`write.rs`);
//! reads use a small pool of separate connections (WAL mode lets them run
//! beside the writer). Every side effect of an event is gated on its own row
//! being new, which is what makes replays change nothing. Migrations:
//! `migrate.rs`; queries: `hashtags.rs`, `links.rs`.

mod durability;
mod hashtags;
mod links;
mod migrate;
mod write;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{
    Batch, HashtagEdit, IngestLease, LinkAction, LinkChangeRow, Op, PageEventRow, Store,
    StoreError, TableCount, WriteOutcome,
};
use crate::clock::now_ms;

pub use hashtags::bulk_load_hashtag_edits;

type Reply = oneshot::Sender<Result<WriteOutcome, StoreError>>;

pub struct SqliteStore {
    pub(super) path: PathBuf,
    writer: mpsc::Sender<(Arc<Batch>, Reply)>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    // So the rows `UPDATE OR REPLACE page_links` replaces fire the delete
    // trigger that keeps the per-domain present counts.
    conn.pragma_update(None, "recursive_triggers", "ON")?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        let open_path = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            if let Some(dir) = open_path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                    url: open_path.display().to_string(),
                    reason: format!("cannot create directory {}: {e}", dir.display()),
                })?;
            }
            let mut conn = Connection::open(&open_path).map_err(|e| StoreError::Open {
                url: open_path.display().to_string(),
                reason: e.to_string(),
            })?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            configure(&conn)?;
            // The writer gets a large page cache and checkpoints in big
            // steps: link indexes are keyed by domain, host, page and user,
            // so inserts touch pages all over the file.
            conn.pragma_update(None, "cache_size", -262_144)?;
            conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
            conn.pragma_update(None, "mmap_size", 1_i64 << 30)?;
            migrate::migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;

        let identity = durability::FileIdentity::of(&path)?;
        let (tx, mut rx) = mpsc::channel::<(Arc<Batch>, Reply)>(4);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Some((batch, reply)) = rx.blocking_recv() {
                    let result = identity
                        .check()
                        .and_then(|()| write::apply(&mut conn, &batch));
                    let _ = reply.send(result);
                }
            })
            .map_err(|e| StoreError::Task(e.to_string()))?;

        Ok(SqliteStore {
            path,
            writer: tx,
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Runs `f` on a read connection from the pool, off the async runtime.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = Arc::clone(&self.readers);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().ok().and_then(|mut r| r.pop());
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    configure(&c)?;
                    c
                }
            };
            let result = f(&conn);
            if let Ok(mut r) = readers.lock()
                && r.len() < 8
            {
                r.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Runs `sql` and renders each row as one JSON array line.
fn dump_query(conn: &Connection, prefix: &str, sql: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let columns = stmt.column_count();
    let rows = stmt.query_map([], |row| {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            let v = match row.get_ref(i)? {
                rusqlite::types::ValueRef::Null => serde_json::Value::Null,
                rusqlite::types::ValueRef::Integer(n) => n.into(),
                rusqlite::types::ValueRef::Real(f) => f.into(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                rusqlite::types::ValueRef::Blob(b) => String::from_utf8_lossy(b).into(),
            };
            values.push(v);
        }
        Ok(format!("{prefix} {}", serde_json::Value::Array(values)))
    })?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?);
    }
    Ok(out)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn hashtags(&self) -> &dyn super::HashtagQueries {
        self
    }

    async fn write_batch(&self, batch: Arc<Batch>) -> Result<WriteOutcome, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send((batch, tx))
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn position(&self) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT position FROM ingest_position WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn table_counts(&self) -> Result<Vec<TableCount>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT table_name, rows FROM row_counts ORDER BY table_name")?;
            let rows = stmt.query_map([], |r| {
                Ok(TableCount {
                    table: r.get(0)?,
                    rows: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn acquire_ingest_lease(
        &self,
        shutdown: CancellationToken,
    ) -> Result<Option<IngestLease>, StoreError> {
        // An exclusive lock on a file beside the database keeps a second
        // process from ingesting into the same SQLite file.
        let lock_path = {
            let mut p = self.path.clone().into_os_string();
            p.push(".ingest-lock");
            PathBuf::from(p)
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Open {
                url: lock_path.display().to_string(),
                reason: e.to_string(),
            })?;
        let mut warned = false;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(Some(IngestLease {
                        lost: CancellationToken::new(),
                        guard: Box::new(file),
                    }));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    if !warned {
                        tracing::warn!(lock = %lock_path.display(), "another process is ingesting into this database; waiting to take over");
                        warned = true;
                    }
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(StoreError::Open {
                        url: lock_path.display().to_string(),
                        reason: e.to_string(),
                    });
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(None),
                _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            }
        }
    }

    async fn wiki_namespaces(
        &self,
        wiki: &str,
    ) -> Result<Option<std::collections::BTreeMap<i64, String>>, StoreError> {
        let wiki = wiki.to_owned();
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT ns, name FROM wiki_namespaces WHERE wiki = ?1")?;
            let names = stmt
                .query_map([&wiki], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<std::collections::BTreeMap<_, _>, _>>()?;
            Ok((!names.is_empty()).then_some(names))
        })
        .await
    }

    async fn save_wiki_namespaces(
        &self,
        wiki: &str,
        names: std::collections::BTreeMap<i64, String>,
    ) -> Result<(), StoreError> {
        // A cache beside ingest on a connection of its own, as media flags:
        // WAL and the busy timeout let the two writers take turns.
        let path = self.path.clone();
        let wiki = wiki.to_owned();
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM wiki_namespaces WHERE wiki = ?1", [&wiki])?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO wiki_namespaces (wiki, ns, name, fetched_ms) VALUES (?1, ?2, ?3, ?4)",
                )?;
                let now = now_ms();
                for (ns, name) in &names {
                    ins.execute(params![wiki, ns, name, now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn dump(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut out = Vec::new();
            out.extend(dump_query(
                c,
                "position",
                "SELECT position FROM ingest_position",
            )?);
            out.extend(dump_query(
                c,
                "hashtag_edit",
                "SELECT meta_id, wiki, domain, rc_id, rev_old, rev_new, title, namespace, change_type,
                    user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot,
                    has_image, has_video, has_audio FROM hashtag_edits",
            )?);
            out.extend(dump_query(
                c,
                "hashtag_use",
                "SELECT e.meta_id, u.tag_key, u.tag, u.time_ms, u.wiki, u.user_name
                 FROM hashtag_uses u JOIN hashtag_edits e ON e.id = u.edit_id",
            )?);
            out.extend(dump_query(
                c,
                "hashtag_tag",
                "SELECT tag_key, tag, first_ms, last_ms, uses FROM hashtag_tags",
            )?);
            out.extend(dump_query(
                c,
                "link_event",
                "SELECT meta_id, action, raw, wiki, wiki_domain, page_id, page_title, page_namespace,
                    rev_id, rc_id, provenance, performer, performer_id, performer_bot, performer_groups,
                    performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                    rhost, wrapper_kind, wrapper_host, error, editor_kind, target FROM link_events",
            )?);
            out.extend(dump_query(
                c,
                "page_link",
                "SELECT pl.wiki, pl.page_id, pl.raw, pl.page_title, pl.page_namespace, pl.deleted, le.meta_id
                 FROM page_links pl LEFT JOIN link_events le ON le.id = pl.last_event_id",
            )?);
            out.extend(dump_query(
                c,
                "page_event",
                "SELECT meta_id, action, wiki, page_id, page_title, page_namespace, performer, time_ms, links
                 FROM page_events",
            )?);
            out.extend(dump_query(
                c,
                "row_count",
                "SELECT table_name, rows FROM row_counts",
            )?);
            out.sort();
            Ok(out)
        })
        .await
    }
}
