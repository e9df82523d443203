//! PostgreSQL's schema migrations: applies the numbered files of
//! `migrations/postgres/` in order, each once, under an advisory lock so
//! that processes opening the same database at once migrate it once.

use super::{MIGRATION_LOCK, PostgresStore, StoreError};
use crate::clock::now_ms;

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
    (
        5,
        include_str!("../migrations/postgres/0005_links_present.sql"),
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

impl PostgresStore {
    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
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
}
