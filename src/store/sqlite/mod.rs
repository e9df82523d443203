//! The SQLite backend.
//!
//! SQLite allows one writer at a time, so one dedicated thread owns the write
//! connection and applies batches sent to it over a channel; reads use a small
//! pool of separate connections (WAL mode lets them run beside the writer).
//! Every side effect of an event is gated on its own row being new, which is
//! what makes replays change nothing.

mod hashtags;
mod links;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{
    Batch, HashtagEdit, IngestLease, LinkAction, LinkChangeRow, Op, PageEventRow, Store,
    StoreError, TableCount, WriteOutcome,
};
use crate::clock::now_ms;

pub use hashtags::bulk_load_hashtag_edits;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_hashtags.sql")),
    (3, include_str!("../migrations/sqlite/0003_links.sql")),
    (
        4,
        include_str!("../migrations/sqlite/0004_wiki_namespaces.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_links_present.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_hashtag_uses_wiki.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_link_rollups.sql"),
    ),
    (8, include_str!("../migrations/sqlite/0008_link_adders.sql")),
];

const COUNTED_TABLES: &[&str] = &[
    "hashtag_edits",
    "hashtag_uses",
    "hashtag_tags",
    "link_events",
    "page_links",
    "page_events",
];

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

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
    )?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: Option<i64> = tx
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_none() {
            tx.execute_batch(sql).map_err(|e| StoreError::Migration {
                version: *version,
                reason: e.to_string(),
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_ms) VALUES (?1, ?2)",
                params![version, now_ms()],
            )?;
        }
        tx.commit()?;
    }
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
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;

        let (tx, mut rx) = mpsc::channel::<(Arc<Batch>, Reply)>(4);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Some((batch, reply)) = rx.blocking_recv() {
                    let result = apply(&mut conn, &batch);
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

fn apply(conn: &mut Connection, batch: &Batch) -> Result<WriteOutcome, StoreError> {
    let tx = conn.transaction()?;
    let mut outcome = WriteOutcome::default();
    let mut counts = [0i64; 6];
    // The links of one event arrive as consecutive ops; the event's row in
    // link_change_events decides once whether they are new.
    let mut gate: Option<(&str, bool)> = None;
    for op in &batch.ops {
        match op {
            Op::HashtagEdit(e) => insert_hashtag_edit(&tx, e, &mut outcome, &mut counts)?,
            Op::Link(l) => {
                let is_new = match gate {
                    Some((id, is_new)) if id == l.meta_id => is_new,
                    _ => {
                        let is_new = tx
                            .prepare_cached(
                                "INSERT INTO link_change_events (meta_id) VALUES (?1) ON CONFLICT DO NOTHING",
                            )?
                            .execute([&l.meta_id])?
                            > 0;
                        gate = Some((l.meta_id.as_str(), is_new));
                        is_new
                    }
                };
                if is_new {
                    insert_link(&tx, l, &mut outcome, &mut counts)?;
                }
            }
            Op::PageDeleted(p) => page_deleted(&tx, p, &mut outcome, &mut counts)?,
            Op::PageRestored(p) => page_restored(&tx, p, &mut outcome, &mut counts)?,
        }
    }
    {
        let mut bump =
            tx.prepare_cached("UPDATE row_counts SET rows = rows + ?2 WHERE table_name = ?1")?;
        for (table, n) in COUNTED_TABLES.iter().zip(counts) {
            if n != 0 {
                bump.execute(params![table, n])?;
            }
        }
    }
    if let Some(position) = &batch.position {
        tx.prepare_cached(
            "INSERT INTO ingest_position (id, position, updated_ms) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms",
        )?
        .execute(params![position, now_ms()])?;
    }
    tx.commit()?;
    Ok(outcome)
}

// Indexes into the `counts` array, in COUNTED_TABLES order.
const EDITS: usize = 0;
const USES: usize = 1;
const TAGS: usize = 2;
const LINK_EVENTS: usize = 3;
const PAGE_LINKS: usize = 4;
const PAGE_EVENTS: usize = 5;

fn insert_hashtag_edit(
    tx: &Transaction<'_>,
    e: &HashtagEdit,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO hashtag_edits (meta_id, wiki, domain, rc_id, rev_old, rev_new, title, namespace,
                change_type, user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            e.meta_id,
            e.wiki,
            e.domain,
            e.rc_id,
            e.rev_old,
            e.rev_new,
            e.title,
            e.namespace,
            e.change_type,
            e.user,
            e.editor_kind.as_str(),
            e.time_ms,
            e.summary,
            e.len_old,
            e.len_new,
            e.minor,
            e.is_new,
            e.bot,
        ])?;
    if inserted == 0 {
        return Ok(());
    }
    let edit_id = tx.last_insert_rowid();
    outcome.hashtag_edits += 1;
    counts[EDITS] += 1;
    let mut use_stmt = tx.prepare_cached(
        "INSERT INTO hashtag_uses (edit_id, tag_key, tag, time_ms, wiki, user_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
    )?;
    let mut tag_stmt = tx.prepare_cached(
        "INSERT INTO hashtag_tags (tag_key, tag, first_ms, last_ms, uses) VALUES (?1, ?2, ?3, ?3, 1)
         ON CONFLICT (tag_key) DO UPDATE SET uses = uses + 1,
             first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms)
         RETURNING uses",
    )?;
    for tag in &e.tags {
        if use_stmt.execute(params![
            edit_id, tag.key, tag.text, e.time_ms, e.wiki, e.user
        ])? == 0
        {
            continue;
        }
        outcome.hashtag_uses += 1;
        counts[USES] += 1;
        let uses: i64 = tag_stmt.query_row(params![tag.key, tag.text, e.time_ms], |r| r.get(0))?;
        if uses == 1 {
            counts[TAGS] += 1;
        }
    }
    Ok(())
}

fn insert_link(
    tx: &Transaction<'_>,
    l: &LinkChangeRow,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    let (performer, performer_id, performer_bot, groups, registration, edit_count) =
        match &l.performer {
            Some(p) => (
                Some(p.name.as_str()),
                p.id,
                Some(p.bot),
                Some(serde_json::to_string(&p.groups).unwrap_or_default()),
                p.registration_ms,
                p.edit_count,
            ),
            None => (None, None, None, None, None, None),
        };
    let inserted = tx
        .prepare_cached(
            "INSERT INTO link_events (meta_id, action, raw, wiki, wiki_domain, page_id, page_title,
                page_namespace, rev_id, performer, performer_id, performer_bot, performer_groups,
                performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                rhost, wrapper_kind, wrapper_host, error, rc_id, provenance, editor_kind, target)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
        )?
        .execute(params![
            l.meta_id,
            l.action.as_str(),
            l.link.raw,
            l.wiki,
            l.wiki_domain,
            l.page_id,
            l.page_title,
            l.page_namespace,
            l.rev_id,
            performer,
            performer_id,
            performer_bot,
            groups,
            registration,
            edit_count,
            l.time_ms,
            l.link.url,
            l.link.scheme,
            l.link.host,
            l.link.domain,
            l.rhost,
            l.link.wrapper.as_ref().map(|w| match w.kind {
                crate::extract::WrapperKind::Proxy => "proxy",
                crate::extract::WrapperKind::Archive => "archive",
            }),
            l.link.wrapper.as_ref().map(|w| w.host.as_str()),
            l.link.error,
            l.rc_id,
            l.provenance.as_str(),
            l.editor_kind.map(|k| k.as_str()),
            l.target,
        ])?;
    if inserted == 0 {
        return Ok(());
    }
    let event_id = tx.last_insert_rowid();
    outcome.link_events += 1;
    counts[LINK_EVENTS] += 1;
    match l.action {
        LinkAction::Added => {
            let params = params![
                l.wiki,
                l.page_id,
                l.link.raw,
                l.page_title,
                l.page_namespace,
                event_id
            ];
            let added = tx
                .prepare_cached(
                    "INSERT INTO page_links (wiki, page_id, raw, page_title, page_namespace, deleted, last_event_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6) ON CONFLICT DO NOTHING",
                )?
                .execute(params)?;
            if added > 0 {
                counts[PAGE_LINKS] += 1;
            } else {
                tx.prepare_cached(
                    "UPDATE page_links SET deleted = 0, last_event_id = ?6, page_title = ?4,
                         page_namespace = ?5
                     WHERE wiki = ?1 AND page_id = ?2 AND raw = ?3",
                )?
                .execute(params)?;
            }
        }
        LinkAction::Removed => {
            let n = tx
                .prepare_cached(
                    "DELETE FROM page_links WHERE wiki = ?1 AND page_id = ?2 AND raw = ?3",
                )?
                .execute(params![l.wiki, l.page_id, l.link.raw])?;
            counts[PAGE_LINKS] -= n as i64;
        }
        LinkAction::PageDeleted | LinkAction::PageRestored => {}
    }
    Ok(())
}

/// Records the page event; returns false when it was stored already.
fn insert_page_event(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    action: LinkAction,
    counts: &mut [i64; 6],
) -> Result<bool, StoreError> {
    let n = tx
        .prepare_cached(
            "INSERT INTO page_events (meta_id, action, wiki, page_id, page_title, page_namespace,
                performer, time_ms, links)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            p.meta_id,
            action.as_str(),
            p.wiki,
            p.page_id,
            p.page_title,
            p.page_namespace,
            p.performer.as_ref().map(|p| p.name.as_str()),
            p.time_ms
        ])?;
    counts[PAGE_EVENTS] += n as i64;
    Ok(n > 0)
}

/// Inserts one link event per present (or deleted) link of the page, copying
/// the link's analysis from the event that last added it.
fn link_events_from_page(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    action: LinkAction,
    deleted_state: i64,
) -> Result<usize, StoreError> {
    let (performer, performer_id, performer_bot, groups, registration, edit_count) =
        match &p.performer {
            Some(u) => (
                Some(u.name.as_str()),
                u.id,
                Some(u.bot),
                Some(serde_json::to_string(&u.groups).unwrap_or_default()),
                u.registration_ms,
                u.edit_count,
            ),
            None => (None, None, None, None, None, None),
        };
    let n = tx
        .prepare_cached(
            "INSERT INTO link_events (meta_id, action, raw, wiki, wiki_domain, page_id, page_title,
                page_namespace, rev_id, performer, performer_id, performer_bot, performer_groups,
                performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                rhost, wrapper_kind, wrapper_host, error, provenance, editor_kind, target)
             SELECT ?1, ?2, pl.raw, pl.wiki, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                le.url, le.scheme, le.host, le.domain, le.rhost, le.wrapper_kind, le.wrapper_host, le.error,
                CASE WHEN ?8 IS NULL THEN 'system' ELSE 'edit' END, ?17, COALESCE(le.target, le.url)
             FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id
             WHERE pl.wiki = ?15 AND pl.page_id = ?4 AND pl.deleted = ?16
             ORDER BY pl.raw
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            p.meta_id,
            action.as_str(),
            p.wiki_domain,
            p.page_id,
            p.page_title,
            p.page_namespace,
            p.rev_id,
            performer,
            performer_id,
            performer_bot,
            groups,
            registration,
            edit_count,
            p.time_ms,
            p.wiki,
            deleted_state,
            p.performer
                .as_ref()
                .map(|u| crate::extract::editor_kind(&u.name).as_str()),
        ])?;
    Ok(n)
}

fn page_deleted(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    if !insert_page_event(tx, p, LinkAction::PageDeleted, counts)? {
        return Ok(());
    }
    let n = link_events_from_page(tx, p, LinkAction::PageDeleted, 0)?;
    tx.prepare_cached(
        "UPDATE page_links SET deleted = 1 WHERE wiki = ?1 AND page_id = ?2 AND deleted = 0",
    )?
    .execute(params![p.wiki, p.page_id])?;
    finish_page_event(tx, p, n, outcome, counts)
}

fn page_restored(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    if !insert_page_event(tx, p, LinkAction::PageRestored, counts)? {
        return Ok(());
    }
    let by_id: bool = tx
        .prepare_cached(
            "SELECT 1 FROM page_links WHERE wiki = ?1 AND page_id = ?2 AND deleted = 1",
        )?
        .exists(params![p.wiki, p.page_id])?;
    if !by_id {
        // A restored page can come back under a new id; find its links by title.
        tx.prepare_cached(
            "UPDATE OR REPLACE page_links SET page_id = ?3
             WHERE wiki = ?1 AND page_title = ?2 AND deleted = 1",
        )?
        .execute(params![p.wiki, p.page_title, p.page_id])?;
    }
    let n = link_events_from_page(tx, p, LinkAction::PageRestored, 1)?;
    tx.prepare_cached(
        "UPDATE page_links SET deleted = 0 WHERE wiki = ?1 AND page_id = ?2 AND deleted = 1",
    )?
    .execute(params![p.wiki, p.page_id])?;
    finish_page_event(tx, p, n, outcome, counts)
}

fn finish_page_event(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    links: usize,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE page_events SET links = ?2 WHERE meta_id = ?1")?
        .execute(params![p.meta_id, links as i64])?;
    outcome.link_events += links as u64;
    counts[LINK_EVENTS] += links as i64;
    Ok(())
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
