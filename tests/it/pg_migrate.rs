//! PostgreSQL migration 0002 (hashtag aggregates) arrived after 0003: a
//! database already at version 3 without it gets it at the next start,
//! with the aggregates backfilled from the stored uses. Migration 0007 (the
//! tag + wiki index) reaches a database already at version 6 the same way.

use crate::support;

use support::{PgDatabase, dump, pg_database};

/// A fresh database migrated to the newest version by running the binary
/// once, and a client on it; `None` without a PostgreSQL server.
async fn migrated_database() -> Option<(PgDatabase, tokio_postgres::Client)> {
    let db = pg_database().await?;
    dump(&db);
    let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    Some((db, client))
}

#[tokio::test]
async fn a_database_at_version_3_gets_migration_2_with_its_aggregates_backfilled() {
    let Some((db, client)) = migrated_database().await else {
        return;
    };
    // Back to what a database migrated before 0002 existed looks like, with
    // one hashtag edit stored.
    client
        .batch_execute(
            "DROP TABLE hashtag_tag_hours, hashtag_tag_users, hashtag_tag_wikis, hashtag_tag_pages, hashtag_tag_totals;
             DROP INDEX hashtag_tags_uses, hashtag_tags_last, hashtag_edits_media_pending;
             ALTER TABLE hashtag_edits DROP COLUMN media_attempts;
             DELETE FROM schema_migrations WHERE version = 2;
             INSERT INTO hashtag_edits (id, meta_id, wiki, domain, rc_id, title, namespace, change_type,
                user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot)
             VALUES (1, 'm1', 'enwiki', 'en.wikipedia.org', 7, 'Page', 0, 'edit', 'Ann', 'named',
                7200000, 'x #Tag', 10, 25, 0, 0, 0);
             INSERT INTO hashtag_uses (edit_id, tag_key, tag, time_ms, wiki, user_name)
             VALUES (1, 'tag', 'Tag', 7200000, 'enwiki', 'Ann');
             INSERT INTO hashtag_tags (tag_key, tag, first_ms, last_ms, uses) VALUES ('tag', 'Tag', 7200000, 7200000, 1);",
        )
        .await
        .expect("downgrade");
    dump(&db);
    let versions: Vec<i64> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("versions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let row = client
        .query_one(
            "SELECT edits, pages, users, wikis, bytes_added, bytes_removed, pages_created
             FROM hashtag_tag_totals WHERE tag_key = 'tag'",
            &[],
        )
        .await
        .expect("totals backfilled");
    let got: Vec<i64> = (0..7).map(|i| row.get(i)).collect();
    assert_eq!(got, vec![1, 1, 1, 1, 15, 0, 0]);
    let hours: i64 = client
        .query_one(
            "SELECT edits FROM hashtag_tag_hours WHERE tag_key = 'tag' AND hour = 2",
            &[],
        )
        .await
        .expect("hours backfilled")
        .get(0);
    assert_eq!(hours, 1);
}

#[tokio::test]
async fn a_database_at_version_6_gets_the_tag_wiki_index_of_migration_7() {
    let Some((db, client)) = migrated_database().await else {
        return;
    };
    assert_eq!(has_index(&client).await, 1);
    // Back to a database at version 6, with a hashtag edit stored.
    client
        .batch_execute(
            "DROP INDEX hashtag_uses_tag_wiki_time;
             DELETE FROM schema_migrations WHERE version = 7;
             INSERT INTO hashtag_edits (id, meta_id, wiki, domain, rc_id, title, namespace, change_type,
                user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot)
             VALUES (1, 'm1', 'enwiki', 'en.wikipedia.org', 7, 'Page', 0, 'edit', 'Ann', 'named',
                7200000, 'x #Tag', 10, 25, 0, 0, 0);
             INSERT INTO hashtag_uses (edit_id, tag_key, tag, time_ms, wiki, user_name)
             VALUES (1, 'tag', 'Tag', 7200000, 'enwiki', 'Ann');",
        )
        .await
        .expect("downgrade");
    assert_eq!(has_index(&client).await, 0);
    dump(&db);
    assert_eq!(has_index(&client).await, 1);
    let version: i64 = client
        .query_one("SELECT MAX(version) FROM schema_migrations", &[])
        .await
        .expect("versions")
        .get(0);
    assert_eq!(version, 9);
}

async fn has_index(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one(
            "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'hashtag_uses_tag_wiki_time'",
            &[],
        )
        .await
        .expect("pg_indexes")
        .get(0)
}
