//! SQLite's schema migrations: applies the numbered files of
//! `migrations/sqlite/` in order, each once, and renumbers a database
//! migrated under the old numbering (see [`renumber`]) so that a number means
//! the same change on both backends.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::StoreError;
use crate::clock::now_ms;

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
    (6, include_str!("../migrations/sqlite/0006_long_urls.sql")),
    (
        7,
        include_str!("../migrations/sqlite/0007_hashtag_uses_wiki.sql"),
    ),
    (
        8,
        include_str!("../migrations/sqlite/0008_link_rollups.sql"),
    ),
    (9, include_str!("../migrations/sqlite/0009_link_adders.sql")),
];

/// `PRAGMA user_version` of a database whose `schema_migrations` uses the
/// shared numbering. Before it (0), SQLite's 6, 7 and 8 were the migrations
/// now numbered 7, 8 and 9, and there was no 6.
const SHARED_NUMBERING: i64 = 2;

/// Applies every migration not yet recorded, each in its own transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
    )?;
    renumber(conn)?;
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
            record(&tx, *version)?;
        }
        tx.commit()?;
    }
    Ok(())
}

fn record(tx: &Transaction<'_>, version: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO schema_migrations (version, applied_ms) VALUES (?1, ?2)",
        params![version, now_ms()],
    )?;
    Ok(())
}

/// Moves a database from the old numbering to the shared one, in one
/// transaction and without running any migration: the recorded 6, 7 and 8
/// become 7, 8 and 9 (their `applied_ms` kept), and 6, which changes nothing
/// on SQLite, is recorded as applied when anything after it was. A database
/// at 5 or below needs no move; a new one is created under the shared
/// numbering. Either way `user_version` then says so.
fn renumber(conn: &mut Connection) -> Result<(), StoreError> {
    let numbering: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if numbering >= SHARED_NUMBERING {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let newest: Option<i64> =
        tx.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })?;
    if newest.is_some_and(|v| v >= 6) {
        // Highest first: the primary key never holds two equal numbers.
        for old in (6..=8).rev() {
            tx.execute(
                "UPDATE schema_migrations SET version = ?1 WHERE version = ?2",
                [old + 1, old],
            )?;
        }
        record(&tx, 6)?;
    }
    tx.pragma_update(None, "user_version", SHARED_NUMBERING)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{EditorKind, Hashtag, hashtag_key};
    use crate::store::{Batch, HashtagEdit, Op, SqliteStore, Store};

    fn versions(path: &std::path::Path) -> Vec<(i64, i64)> {
        let c = Connection::open(path).unwrap();
        let mut stmt = c
            .prepare("SELECT version, applied_ms FROM schema_migrations ORDER BY version")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn user_version(path: &std::path::Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    fn edit() -> HashtagEdit {
        HashtagEdit {
            meta_id: "m1".into(),
            wiki: "enwiki".into(),
            domain: "en.wikipedia.org".into(),
            rc_id: Some(1),
            rev_old: Some(1),
            rev_new: Some(2),
            title: "Page".into(),
            namespace: 0,
            change_type: "edit".into(),
            user: Some("Alice".into()),
            editor_kind: EditorKind::Named,
            time_ms: 1_700_000_000_000,
            summary: "#Alpha".into(),
            len_old: Some(10),
            len_new: Some(20),
            minor: false,
            is_new: false,
            bot: false,
            tags: vec![Hashtag {
                text: "Alpha".into(),
                key: hashtag_key("Alpha"),
            }],
        }
    }

    /// A database migrated under the old numbering (SQLite's 6, 7, 8 for
    /// what is now 7, 8, 9) is renumbered at open, once, without running
    /// anything again, and keeps its data.
    #[tokio::test]
    async fn an_old_numbering_database_is_renumbered_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let batch = Batch {
            position: Some("p1".into()),
            ops: vec![Op::HashtagEdit(Box::new(edit()))],
            events: 1,
        };
        store.write_batch(std::sync::Arc::new(batch)).await.unwrap();
        let before = store.dump().await.unwrap();
        drop(store);
        let shared = versions(&path);
        assert_eq!(
            shared.iter().map(|v| v.0).collect::<Vec<_>>(),
            (1..=9).collect::<Vec<_>>()
        );
        assert_eq!(user_version(&path), SHARED_NUMBERING);

        // What the old binary left: no 6, the next three one lower, and no
        // user_version.
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "DELETE FROM schema_migrations WHERE version = 6;
                 UPDATE schema_migrations SET version = 6 WHERE version = 7;
                 UPDATE schema_migrations SET version = 7 WHERE version = 8;
                 UPDATE schema_migrations SET version = 8 WHERE version = 9;
                 PRAGMA user_version = 0;",
            )
            .unwrap();
        assert_eq!(versions(&path).len(), 8);

        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.dump().await.unwrap(), before, "data intact");
        drop(store);
        let after = versions(&path);
        assert_eq!(
            after.iter().map(|v| v.0).collect::<Vec<_>>(),
            (1..=9).collect::<Vec<_>>()
        );
        // The renumbered ones keep when they were applied: nothing re-ran.
        for v in [1, 2, 3, 4, 5, 7, 8, 9] {
            let i = v as usize - 1;
            assert_eq!(after[i], shared[i], "migration {v}");
        }
        assert_eq!(user_version(&path), SHARED_NUMBERING);

        // A second open changes nothing.
        drop(SqliteStore::open(&path).await.unwrap());
        assert_eq!(versions(&path), after);
    }
}
