//! `wikiwatch demo` and `wikiwatch synth` through the binary.

use crate::support;

use std::time::Duration;

use support::{Proc, counter, rows, run_with_stdin, status, wait_committed, wait_for};

#[tokio::test]
async fn the_demo_ingests_the_bundled_sample_then_keeps_receiving_live_events() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Proc::start(
        &["demo", "--listen", "127.0.0.1:0", "--rate", "200"],
        dir.path(),
    );
    let s = wait_committed(&demo, 5_796).await;
    assert_eq!(s["role"], "ingesting");
    assert!(rows(&s, "hashtag_edits") >= 344, "{s}");
    // The synthetic tail is live: newer events keep arriving with a small lag.
    let first = counter(&s, "events_committed");
    let s = wait_for("live events", Duration::from_secs(60), || async {
        let s = status(&demo).await?;
        (counter(&s, "events_committed") > first + 100).then_some(s)
    })
    .await;
    assert!(s["lag_seconds"].as_f64().unwrap() < 30.0, "{s}");
}

#[test]
fn synth_is_deterministic_and_its_sse_transcript_parses_event_for_event() {
    let a = run_with_stdin(&["synth", "--events", "2000", "--seed", "9"], "");
    let b = run_with_stdin(&["synth", "--events", "2000", "--seed", "9"], "");
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 2000);
    let sse = run_with_stdin(
        &[
            "synth", "--events", "2000", "--seed", "9", "--format", "sse",
        ],
        "",
    );
    let parsed = run_with_stdin(&["parse"], &sse);
    let objects: Vec<serde_json::Value> = parsed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2000);
    assert!(objects.iter().all(|o| o.get("error").is_none()));
    let kinds = |k: &str| objects.iter().filter(|o| o["kind"] == k).count();
    assert_eq!(kinds("recentchange"), 1400);
    assert_eq!(kinds("page-links-change"), 560);
    assert_eq!(kinds("page-delete"), 40);
}
