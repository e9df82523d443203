//! The test databases: a fresh SQLite file or PostgreSQL database per
//! test, and the lock that keeps the shared PostgreSQL server up while tests
//! use it (only `pg_restart` takes it exclusively).

use std::path::Path;
use std::time::Duration;

use super::wait_for;

/// Every test that uses the shared PostgreSQL server holds a read lock on it
/// while it runs; `pg_restart` stops and restarts that server, so it holds
/// the write lock (the tests are threads of one process now, no longer
/// separate test binaries run one after the other).
static PG_SERVER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// A test database on the shared server (derefs to its URL, a `String`);
/// keeps the server up (no restart) for as long as it lives.
pub struct PgDatabase {
    url: String,
    _server: tokio::sync::RwLockReadGuard<'static, ()>,
}

impl std::ops::Deref for PgDatabase {
    type Target = String;
    fn deref(&self) -> &String {
        &self.url
    }
}

impl std::fmt::Display for PgDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// A fresh, empty PostgreSQL database on the server `scripts/with-postgres`
/// started; `None` (with a note) when there is no server, unless
/// `WIKIWATCH_REQUIRE_PG=1`, which makes that a failure. The server is not
/// restarted while the returned value lives.
pub async fn pg_database() -> Option<PgDatabase> {
    pg_admin_url()?;
    // Waits only for a running `pg_restart` (which never queues: see
    // `pg_server_exclusive`), so a test may hold several of these.
    let server = PG_SERVER.read().await;
    let url = create_pg_database().await?;
    Some(PgDatabase {
        url,
        _server: server,
    })
}

/// Sole use of the shared PostgreSQL server (to stop and restart it), once
/// no other test holds a [`PgDatabase`]; `None` when there is no server.
/// Polls instead of queueing: a queued writer would block a test that
/// already holds one database from getting its second one.
pub async fn pg_server_exclusive() -> Option<tokio::sync::RwLockWriteGuard<'static, ()>> {
    pg_admin_url()?;
    let server = wait_for(
        "the other PostgreSQL tests to finish",
        Duration::from_secs(1800),
        || async { PG_SERVER.try_write().ok() },
    )
    .await;
    Some(server)
}

/// `WIKIWATCH_TEST_PG_URL`, or `None` (with a note) when unset, unless
/// `WIKIWATCH_REQUIRE_PG=1`, which makes that a failure.
fn pg_admin_url() -> Option<String> {
    let Ok(admin) = std::env::var("WIKIWATCH_TEST_PG_URL") else {
        if std::env::var("WIKIWATCH_REQUIRE_PG").as_deref() == Ok("1") {
            panic!(
                "WIKIWATCH_REQUIRE_PG=1 but WIKIWATCH_TEST_PG_URL is unset; run under scripts/with-postgres"
            );
        }
        eprintln!("note: no PostgreSQL (WIKIWATCH_TEST_PG_URL unset); PostgreSQL variant skipped");
        return None;
    };
    Some(admin)
}

/// A fresh, empty database on the shared server, as a URL, without taking
/// the server lock (for `pg_restart`, which holds it exclusively).
pub async fn create_pg_database() -> Option<String> {
    let admin = pg_admin_url()?;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "ww_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL server");
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

/// The database a black-box test ingests into: a fresh SQLite file in `dir`,
/// or, when `WIKIWATCH_TEST_BACKEND=postgres` (how `scripts/test` runs the
/// API suites a second time), a fresh PostgreSQL database (without the
/// server lock: that pass does not include `pg_restart`).
pub async fn test_db(dir: &Path, name: &str) -> String {
    if std::env::var("WIKIWATCH_TEST_BACKEND").as_deref() == Ok("postgres") {
        return create_pg_database()
            .await
            .expect("WIKIWATCH_TEST_BACKEND=postgres needs WIKIWATCH_TEST_PG_URL");
    }
    format!("sqlite:{}", dir.join(name).display())
}
