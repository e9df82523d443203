//! End to end through public interfaces: the replay server and `wikiwatch run`
//! as separate processes on random ports, fed with the real recorded events.

use crate::support;

use std::time::Duration;

use support::{
    REAL_EVENTS, WIKIDATA, counter, dump, kill_mid_stream, replay, rows, run, status,
    wait_committed, wait_for,
};

/// recentchange events in the bundled real recordings (of `REAL_EVENTS`).
const REAL_RECENTCHANGE: u64 = 5_793;

fn db_url(dir: &std::path::Path, name: &str) -> String {
    format!("sqlite:{}", dir.join(name).display())
}

/// A clean reference run over the bundled recordings; returns its dump.
async fn reference_dump(dir: &std::path::Path) -> Vec<String> {
    let up = replay(&["--pace", "fast"], dir);
    let db = db_url(dir, "reference.db");
    let mut app = run(&up, &db, &[WIKIDATA], dir);
    wait_committed(&app, REAL_EVENTS).await;
    assert_eq!(app.terminate(), Some(0), "log:\n{}", app.log());
    dump(&db)
}

fn without_position(d: &[String]) -> Vec<String> {
    d.iter()
        .filter(|l| !l.starts_with("position "))
        .cloned()
        .collect()
}

#[tokio::test]
async fn real_recordings_are_ingested_with_the_expected_counts() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let db = db_url(dir.path(), "w.db");
    let app = run(&up, &db, &[WIKIDATA], dir.path());
    let s = wait_committed(&app, REAL_EVENTS).await;

    let streams = s["streams"].as_array().unwrap();
    let events = |name: &str| {
        streams
            .iter()
            .find(|x| x["stream"] == name)
            .and_then(|x| x["events"].as_u64())
            .unwrap()
    };
    assert_eq!(events("recentchange"), REAL_RECENTCHANGE);
    assert_eq!(events("page-links-change"), 1);
    assert_eq!(events("page-delete"), 2);
    assert_eq!(counter(&s, "malformed"), 0);
    assert_eq!(counter(&s, "duplicates"), 0);
    // The one real page-links-change event adds 4 external links (and 1 internal, ignored).
    assert_eq!(rows(&s, "link_events"), 4);
    assert_eq!(rows(&s, "page_links"), 4);
    // Neither deleted page had links we knew of.
    assert_eq!(rows(&s, "page_events"), 2);
    // Hashtag edits: every non-bot recentchange whose summary has a hashtag by the
    // project's rules (Wikidata included for this run), as counted by the
    // independent Python implementation in tests/oracle/hashtags.py.
    let edits = rows(&s, "hashtag_edits");
    let uses = rows(&s, "hashtag_uses");
    assert_eq!(edits, EXPECTED_HASHTAG_EDITS, "hashtag edits");
    assert_eq!(uses, EXPECTED_HASHTAG_USES, "hashtag uses");
    assert!(s["position"].as_str().is_some_and(|p| p.starts_with('[')));
    assert_eq!(s["role"], "ingesting");

    // The same counts are visible to Prometheus.
    let metrics = support::get_text(&app.url("/metrics")).await;
    assert!(
        metrics.contains(&format!(
            "wikiwatch_events_total{{stream=\"recentchange\"}} {REAL_RECENTCHANGE}"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("wikiwatch_rows{table=\"link_events\"} 4"));
}

/// `python3 tests/oracle/hashtags.py fixtures/real/*` prints `344 344`
/// (341 of them #petscan).
const EXPECTED_HASHTAG_EDITS: i64 = 344;
const EXPECTED_HASHTAG_USES: i64 = 344;

#[tokio::test]
async fn kill_dash_nine_mid_stream_then_resume_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_dump(dir.path()).await;

    let db = db_url(dir.path(), "interrupted.db");
    kill_mid_stream(&db, dir.path()).await;

    let up = replay(&["--pace", "fast"], dir.path());
    let mut second = run(&up, &db, &[WIKIDATA], dir.path());
    let final_position = reference
        .iter()
        .find(|l| l.starts_with("position "))
        .cloned()
        .unwrap();
    wait_for("the final position", Duration::from_secs(120), || async {
        let s = status(&second).await?;
        let p = s["position"].as_str()?;
        (final_position == format!("position [{}]", serde_json::to_string(p).ok()?)).then_some(())
    })
    .await;
    assert_eq!(second.terminate(), Some(0));
    assert_eq!(dump(&db), reference);
}

#[tokio::test]
async fn injected_faults_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_dump(dir.path()).await;

    let up = replay(
        &[
            "--pace",
            "fast",
            "--close-after-events",
            "700",
            "--malformed-every",
            "500",
            "--canary-every",
            "300",
            "--oversized-at",
            "1000",
            "--oversized-bytes",
            "300000",
            "--reject-every",
            "3",
            "--reject-status",
            "503",
        ],
        dir.path(),
    );
    let db = db_url(dir.path(), "faults.db");
    let mut app = run(
        &up,
        &db,
        &[
            WIKIDATA,
            "--max-event-bytes",
            "200000",
            "--backoff-max-secs",
            "1",
        ],
        dir.path(),
    );
    let s = wait_for("every real event", Duration::from_secs(180), || async {
        let s = status(&app).await?;
        let rc = s["streams"][0]["events"].as_u64()?;
        (rc >= REAL_RECENTCHANGE && rows(&s, "page_events") == 2 && rows(&s, "link_events") == 4)
            .then_some(s)
    })
    .await;
    assert!(counter(&s, "malformed") >= 10, "{s}");
    assert!(counter(&s, "canaries") >= 10, "{s}");
    assert_eq!(counter(&s, "oversized"), 1, "{s}");
    assert!(s["upstream"]["reconnects"].as_u64().unwrap() >= 8, "{s}");
    assert_eq!(app.terminate(), Some(0));
    assert_eq!(without_position(&dump(&db)), without_position(&reference));
}

#[tokio::test]
async fn a_silent_upstream_is_reconnected_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(
        &["--pace", "fast", "--stall-after-events", "2500"],
        dir.path(),
    );
    let db = db_url(dir.path(), "idle.db");
    let app = run(
        &up,
        &db,
        &[
            WIKIDATA,
            "--idle-timeout-secs",
            "1",
            "--backoff-max-secs",
            "1",
        ],
        dir.path(),
    );
    let s = wait_committed(&app, REAL_EVENTS).await;
    assert!(s["upstream"]["reconnects"].as_u64().unwrap() >= 2, "{s}");
    assert!(app.log().contains("no bytes for 1 s"), "{}", app.log());
}

#[tokio::test]
async fn sigterm_writes_the_pending_batch_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let db = db_url(dir.path(), "term.db");
    // Batches so large and slow that nothing is committed before the signal.
    let mut app = run(
        &up,
        &db,
        &[
            WIKIDATA,
            "--batch-events",
            "1000000",
            "--batch-max-ms",
            "600000",
        ],
        dir.path(),
    );
    let s = wait_for("all events received", Duration::from_secs(60), || async {
        let s = status(&app).await?;
        (s["counters"]["events"].as_u64()? >= REAL_EVENTS).then_some(s)
    })
    .await;
    assert_eq!(counter(&s, "events_committed"), 0);
    assert_eq!(app.terminate(), Some(0));
    let d = dump(&db);
    assert!(d.iter().any(|l| l.starts_with("position ")), "no position");
    assert_eq!(d.iter().filter(|l| l.starts_with("link_event ")).count(), 4);
}

#[tokio::test]
async fn since_starts_at_the_given_time_when_no_position_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let db = db_url(dir.path(), "since.db");
    let app = run(
        &up,
        &db,
        &[WIKIDATA, "--since", "2020-01-01T00:00:00Z"],
        dir.path(),
    );
    // After 2020: 100 enwiki edits (2023), 3 transcript events (2022), the
    // 2021 links event and the two 2020-11 deletions.
    let s = wait_committed(&app, 106).await;
    assert_eq!(s["streams"][0]["events"], 103);
    assert_eq!(counter(&s, "events_committed"), 106);
}

#[tokio::test]
async fn operational_endpoints_answer_and_unknown_paths_get_json_404() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let app = run(&up, &db_url(dir.path(), "ops.db"), &[WIKIDATA], dir.path());
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let missing = reqwest::get(app.url("/nope")).await.unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("/nope"));
    let home = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("wikiwatch"));
}

#[tokio::test]
async fn an_error_event_from_upstream_ends_the_connection_and_ingest_resumes_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(
        &[
            "--pace",
            "fast",
            "--error-after-events",
            "2000",
            "--retry-ms",
            "50",
        ],
        dir.path(),
    );
    let db = db_url(dir.path(), "error.db");
    let mut app = run(&up, &db, &[WIKIDATA, "--backoff-max-secs", "1"], dir.path());
    let s = wait_committed(&app, REAL_EVENTS).await;
    // Three connections at least: 2,000 events each, then `event: error`.
    assert!(s["upstream"]["reconnects"].as_u64().unwrap() >= 2, "{s}");
    assert_eq!(counter(&s, "duplicates"), 0, "{s}");
    assert_eq!(counter(&s, "malformed"), 0, "{s}");
    assert_eq!(app.terminate(), Some(0));
    let d = dump(&db);
    assert_eq!(d.iter().filter(|l| l.starts_with("link_event ")).count(), 4);
    assert_eq!(
        d.iter().filter(|l| l.starts_with("hashtag_edit ")).count(),
        344
    );
}
