//! PostgreSQL restarted under a running ingest: wikiwatch reports the outage
//! in /api/status, retries with backoff, and ends with exactly the store an
//! uninterrupted run leaves. It stops the shared test server, so it holds
//! that server exclusively (`support::pg_server_exclusive`) while it runs.

use crate::support;

use std::process::Command;
use std::time::Duration;

use support::{
    WIKIDATA, counter, create_pg_database, dump, pg_server_exclusive, replay, run, status,
    wait_committed, wait_for,
};

/// Both runs' flags besides the ones `support::run` always passes.
const RUN_ARGS: &[&str] = &["--batch-events", "250", WIKIDATA];

fn pg_ctl(args: &[&str]) {
    let bindir = std::env::var("WIKIWATCH_TEST_PG_BINDIR").expect("WIKIWATCH_TEST_PG_BINDIR");
    let pg_ctl = format!("{bindir}/pg_ctl");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let status = if is_root {
        Command::new("runuser")
            .args(["-u", "postgres", "--", &pg_ctl])
            .args(args)
            .status()
    } else {
        Command::new(&pg_ctl).args(args).status()
    }
    .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl {args:?} failed");
}

/// Starts the shared server again with the options `scripts/with-postgres`
/// gave it.
fn pg_start(data: &str, socket_dir: &str, opts: &str) {
    pg_ctl(&[
        "-D",
        data,
        "-l",
        &format!("{socket_dir}/log"),
        "-w",
        "-t",
        "30",
        "-o",
        opts,
        "start",
    ]);
}

/// Waits (up to 3 minutes) until `db` dumps exactly as `reference`.
async fn wait_for_dump(db: &str, reference: &[String], what: &str) {
    wait_for(what, Duration::from_secs(180), || async {
        let d = tokio::task::spawn_blocking({
            let db = db.to_owned();
            move || dump(&db)
        })
        .await
        .ok()?;
        (d == reference).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_postgres_restart_mid_ingest_is_reported_retried_and_loses_nothing() {
    let Some(_server) = pg_server_exclusive().await else {
        return;
    };
    let Some(reference_db) = create_pg_database().await else {
        return;
    };
    let Some(db) = create_pg_database().await else {
        return;
    };
    let data = std::env::var("WIKIWATCH_TEST_PG_DATA").expect("WIKIWATCH_TEST_PG_DATA");
    let port = std::env::var("WIKIWATCH_TEST_PG_PORT").expect("WIKIWATCH_TEST_PG_PORT");
    let socket_dir = std::path::Path::new(&data)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let dir = tempfile::tempdir().unwrap();

    let up = replay(&["--pace", "fast"], dir.path());
    let mut reference_run = run(&up, &reference_db, RUN_ARGS, dir.path());
    wait_committed(&reference_run, 5_796).await;
    assert_eq!(reference_run.terminate(), Some(0));
    let reference = dump(&reference_db);

    let up = replay(&["--pace", "x40"], dir.path());
    let mut app = run(&up, &db, RUN_ARGS, dir.path());
    wait_committed(&app, 500).await;

    pg_ctl(&["-D", &data, "-m", "fast", "-w", "stop"]);
    let outage = wait_for(
        "the outage in /api/status",
        Duration::from_secs(60),
        || async {
            let s = status(&app).await?;
            (counter(&s, "store_errors") >= 1 && s["store_error"].is_string()).then_some(s)
        },
    )
    .await;
    let err = outage["upstream"]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(err.contains("store"), "{outage}");
    assert!(!err.contains("password"), "{outage}");
    assert!(
        outage["store_error"]
            .as_str()
            .unwrap()
            .contains("PostgreSQL"),
        "{outage}"
    );
    let opts = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {socket_dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    );
    pg_start(&data, &socket_dir, &opts);

    wait_for_dump(&db, &reference, "the store to match an uninterrupted run").await;
    assert_eq!(app.terminate(), Some(0), "log:\n{}", app.log());

    // Stopped while the store cannot be written: SIGTERM still ends the
    // process within seconds, with nothing partial (the dump check below).
    let Some(db) = create_pg_database().await else {
        return;
    };
    let up = replay(&["--pace", "x40"], dir.path());
    let mut app = run(&up, &db, RUN_ARGS, dir.path());
    wait_committed(&app, 500).await;
    pg_ctl(&["-D", &data, "-m", "fast", "-w", "stop"]);
    wait_for(
        "the second outage in /api/status",
        Duration::from_secs(60),
        || async { status(&app).await?["store_error"].is_string().then_some(()) },
    )
    .await;
    let asked = std::time::Instant::now();
    assert_eq!(app.terminate(), Some(0), "log:\n{}", app.log());
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "SIGTERM took {took:?} while writes failed"
    );

    // Started while the database is down: it waits for it instead of
    // exiting, then resumes and ends with what an uninterrupted run leaves.
    let waiting_dir = tempfile::tempdir().unwrap();
    let starter = {
        let (data, log_dir) = (data.clone(), waiting_dir.path().to_owned());
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let waiting = || {
                std::fs::read_dir(&log_dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|f| {
                        std::fs::read_to_string(f.path()).is_ok_and(|log| {
                            log.contains("cannot reach the database; waiting for it")
                        })
                    })
            };
            while !waiting() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "run never said it was waiting for the database"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            pg_start(&data, &socket_dir, &opts);
        })
    };
    let mut app = run(&up, &db, RUN_ARGS, waiting_dir.path());
    starter.join().expect("the server was started again");
    wait_for_dump(
        &db,
        &reference,
        "the store to match after a start with the database down",
    )
    .await;
    assert_eq!(app.terminate(), Some(0), "log:\n{}", app.log());
}
