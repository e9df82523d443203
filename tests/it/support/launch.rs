//! The one launcher for each server a test runs: the replay server
//! (`wikiwatch replay-server`) and the app (`wikiwatch run`) ingesting from it.

use std::path::Path;

use super::{Proc, counter, test_db, wait_committed};

/// The four streams `wikiwatch run` reads from the replay server.
pub const STREAMS: &str = "/v2/stream/recentchange,page-links-change,page-delete,page-undelete";

/// The flag the hashtag and ingest suites add to [`run`]: hashtags in
/// Wikidata edits count too.
pub const WIKIDATA: &str = "--hashtags-include-wikidata";

/// `wikiwatch replay-server` on a random port with `args` (`--pace`,
/// `--input`, `--synth-events`, faults…); without `--pace` it serves at the
/// recorded pace.
pub fn replay(args: &[&str], dir: &Path) -> Proc {
    let mut all = vec!["replay-server", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    Proc::start(&all, dir)
}

/// `wikiwatch run` ingesting all four streams from the replay server `up`
/// into the database `db`, on a random port, with text logs, cutting batches
/// every 50 ms unless `extra` sets `--batch-max-ms`; then `extra`.
pub fn run(up: &Proc, db: &str, extra: &[&str], dir: &Path) -> Proc {
    let upstream = up.url(STREAMS);
    let mut args = vec![
        "run",
        "--upstream",
        &upstream,
        "--db",
        db,
        "--listen",
        "127.0.0.1:0",
        "--contact",
        "wikiwatch tests",
        "--log-format",
        "text",
    ];
    if !extra.contains(&"--batch-max-ms") {
        args.extend_from_slice(&["--batch-max-ms", "50"]);
    }
    args.extend_from_slice(extra);
    Proc::start(&args, dir)
}

/// A replay server over the recording `input` (paced fast) and [`run`]
/// ingesting from it into a fresh test database ([`test_db`]: SQLite, or
/// PostgreSQL with `WIKIWATCH_TEST_BACKEND`). Returns (replay server, app).
pub async fn replay_and_run(dir: &Path, input: &str, db_name: &str) -> (Proc, Proc) {
    let up = replay(&["--pace", "fast", "--input", input], dir);
    let db = test_db(dir, db_name).await;
    let app = run(&up, &db, &[], dir);
    (up, app)
}

/// Events in the bundled real recordings (5,793 recentchange, 1
/// page-links-change, 2 page-delete).
pub const REAL_EVENTS: u64 = 5_796;

/// The first half of a resume test: [`run`] into `db` from a replay server
/// paced x40 (so the kill lands mid-stream), in batches of 250, killed with
/// SIGKILL once 1,000 events are committed, which must be before the end of
/// the recordings. Returns the status seen just before the kill.
pub async fn kill_mid_stream(db: &str, dir: &Path) -> serde_json::Value {
    let up = replay(&["--pace", "x40"], dir);
    let mut first = run(&up, db, &[WIKIDATA, "--batch-events", "250"], dir);
    let s = wait_committed(&first, 1000).await;
    assert!(
        counter(&s, "events_committed") < REAL_EVENTS,
        "too late to interrupt"
    );
    first.kill9();
    s
}
