//! One conformance suite for both store backends, through public interfaces:
//! the same events ingested by `wikiwatch run` into SQLite and into
//! PostgreSQL must leave stores whose `wikiwatch dump` is identical, line for
//! line; and every property the ingest tests check on SQLite (resume after
//! kill -9, faults, idempotent replay) holds on PostgreSQL too.

use crate::support;

use std::time::Duration;

use support::{
    REAL_EVENTS, WIKIDATA, counter, dump, kill_mid_stream, pg_database, replay, rows, run, status,
    wait_committed, wait_for,
};

/// Ingests everything the replay server (with `replay_args`) serves into
/// `db`, then stops cleanly and returns the dump.
async fn ingest_all(
    replay_args: &[&str],
    events: u64,
    db: &str,
    dir: &std::path::Path,
) -> Vec<String> {
    let up = replay(replay_args, dir);
    let mut app = run(&up, db, &[WIKIDATA], dir);
    let s = wait_committed(&app, events).await;
    assert_eq!(
        s["backend"],
        if db.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        }
    );
    assert_eq!(app.terminate(), Some(0), "log:\n{}", app.log());
    dump(db)
}

#[tokio::test]
async fn real_recordings_leave_identical_stores_on_sqlite_and_postgres() {
    let Some(pg) = pg_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}", dir.path().join("c.db").display());
    let a = ingest_all(&["--pace", "fast"], REAL_EVENTS, &sqlite, dir.path()).await;
    let b = ingest_all(&["--pace", "fast"], REAL_EVENTS, &pg, dir.path()).await;
    assert!(a.iter().any(|l| l.starts_with("hashtag_use ")));
    assert_eq!(a.iter().filter(|l| l.starts_with("link_event ")).count(), 4);
    assert_eq!(a, b);
}

#[tokio::test]
async fn synthetic_links_deletions_and_hashtags_leave_identical_stores() {
    let Some(pg) = pg_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}", dir.path().join("s.db").display());
    // 20,000 synthetic events: 5,600 page-links-change and 400 page-delete on
    // a shared page-id space, so deletions find links to record.
    let args = [
        "--pace",
        "fast",
        "--synth-events",
        "20000",
        "--synth-seed",
        "5",
    ];
    let total = REAL_EVENTS + 20_000;
    let a = ingest_all(&args, total, &sqlite, dir.path()).await;
    let b = ingest_all(&args, total, &pg, dir.path()).await;
    let deleted = a.iter().filter(|l| l.contains("\"page_deleted\"")).count();
    assert!(deleted > 10, "only {deleted} page_deleted link events");
    assert_eq!(a.len(), b.len());
    let differing: Vec<_> = a.iter().zip(&b).filter(|(x, y)| x != y).take(3).collect();
    assert!(differing.is_empty(), "first differences: {differing:#?}");
}

#[tokio::test]
async fn postgres_resumes_after_kill_dash_nine_exactly_like_an_uninterrupted_run() {
    let Some(reference_db) = pg_database().await else {
        return;
    };
    let Some(db) = pg_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reference = ingest_all(&["--pace", "fast"], REAL_EVENTS, &reference_db, dir.path()).await;

    let s = kill_mid_stream(&db, dir.path()).await;

    let up = replay(&["--pace", "fast"], dir.path());
    let mut second = run(&up, &db, &[WIKIDATA], dir.path());
    wait_committed(&second, REAL_EVENTS - counter(&s, "events_committed")).await;
    wait_for("the final position", Duration::from_secs(120), || async {
        let d = dump(&db);
        (d == reference).then_some(())
    })
    .await;
    assert_eq!(second.terminate(), Some(0));
}

#[tokio::test]
async fn two_processes_on_one_database_one_ingests_and_the_other_takes_over_after_kill_dash_nine() {
    let Some(reference_db) = pg_database().await else {
        return;
    };
    let Some(db) = pg_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reference = ingest_all(&["--pace", "fast"], REAL_EVENTS, &reference_db, dir.path()).await;

    let up = replay(&["--pace", "x40"], dir.path());
    let mut a = run(&up, &db, &[WIKIDATA, "--batch-events", "250"], dir.path());
    let mut b = run(&up, &db, &[WIKIDATA, "--batch-events", "250"], dir.path());
    let roles = || async {
        let (sa, sb) = (status(&a).await?, status(&b).await?);
        Some((
            sa["role"].as_str()?.to_owned(),
            sb["role"].as_str()?.to_owned(),
            sa,
            sb,
        ))
    };
    let (ra, rb, sa, sb) = wait_for("one ingesting process", Duration::from_secs(60), || async {
        let r = roles().await?;
        let ingesting = usize::from(r.0 == "ingesting") + usize::from(r.1 == "ingesting");
        (ingesting == 1
            && counter(&r.2, "events_committed") + counter(&r.3, "events_committed") > 500)
            .then_some(r)
    })
    .await;
    // The standby serves reads from the shared store meanwhile.
    let standby_status = if ra == "ingesting" { &sb } else { &sa };
    assert!(rows(standby_status, "hashtag_edits") >= 0);
    assert_ne!(ra, rb);
    let (victim, survivor) = if ra == "ingesting" {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    victim.kill9();
    wait_for(
        "the survivor to take over",
        Duration::from_secs(30),
        || async {
            let s = status(survivor).await?;
            (s["role"] == "ingesting").then_some(())
        },
    )
    .await;
    wait_for(
        "the store to match an uninterrupted run",
        Duration::from_secs(180),
        || async { (dump(&db) == reference).then_some(()) },
    )
    .await;
    assert_eq!(survivor.terminate(), Some(0));
}
