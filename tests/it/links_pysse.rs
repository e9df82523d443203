//! `/v2/stream/links` read by a real EventStreams client library: Python's
//! `sseclient-py` (from PyPI, installed by scripts/test into a virtualenv
//! under `target/`, whose python it names in `WIKIWATCH_TEST_PYTHON`). The
//! client reads the crafted fixture's link events from the start of the
//! store, then resumes from an id it was given, as a consumer of Wikimedia's
//! EventStreams would. Without that python the test skips with a note,
//! unless `WIKIWATCH_REQUIRE_PYSSE=1` (set by scripts/test).

use crate::support;

use std::process::Command;

use serde_json::Value;
use support::wait_links;

const CRAFTED_LINK_EVENTS: usize = 23;

/// Reads `n` messages with sseclient-py, sending `last_id` as `Last-Event-ID`;
/// prints one JSON line per message: `{"event", "id", "data"}`.
const CLIENT: &str = r#"
import json, sys, urllib.request
import sseclient
url, last_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
headers = {"Accept": "text/event-stream"}
if last_id:
    headers["Last-Event-ID"] = last_id
resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60)
client = sseclient.SSEClient(resp)
got = 0
for ev in client.events():
    print(json.dumps({"event": ev.event, "id": ev.id, "data": json.loads(ev.data)}), flush=True)
    got += 1
    if got >= n:
        break
"#;

fn python() -> Option<String> {
    let found = std::env::var("WIKIWATCH_TEST_PYTHON").ok();
    if found.is_none() {
        if std::env::var("WIKIWATCH_REQUIRE_PYSSE").as_deref() == Ok("1") {
            panic!(
                "WIKIWATCH_REQUIRE_PYSSE=1 but WIKIWATCH_TEST_PYTHON is not set (scripts/test sets it)"
            );
        }
        eprintln!("note: WIKIWATCH_TEST_PYTHON not set; the sseclient-py check is skipped");
    }
    found
}

fn read(py: &str, url: &str, last_id: &str, n: usize) -> Vec<Value> {
    let out = Command::new(py)
        .args(["-c", CLIENT, url, last_id, &n.to_string()])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "sseclient-py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn sseclient_py_reads_the_link_feed_and_resumes_by_id() {
    let Some(py) = python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = support::test_fixture("links_crafted.jsonl");
    let (_up, app) = support::replay_and_run(dir.path(), &input, "p.db").await;
    wait_links(&app, 19, CRAFTED_LINK_EVENTS as i64).await;

    // From the start of the store: every link event, in order, framed as
    // EventStreams frames them.
    let url = app.url("/v2/stream/links");
    let start = r#"[{"topic":"wikiwatch.links","partition":0,"offset":0}]"#;
    let all = read(&py, &url, start, CRAFTED_LINK_EVENTS);
    assert_eq!(all.len(), CRAFTED_LINK_EVENTS);
    let offsets: Vec<i64> = all
        .iter()
        .map(|m| m["data"]["meta"]["offset"].as_i64().unwrap())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
    for m in &all {
        assert_eq!(m["event"], "message");
        let id: Value = serde_json::from_str(m["id"].as_str().unwrap()).unwrap();
        assert_eq!(id[0]["topic"], "wikiwatch.links");
        assert_eq!(id[0]["offset"], m["data"]["meta"]["offset"]);
        assert!(m["data"]["action"].is_string() && m["data"]["url"].is_string());
    }

    // Resume from the id of the 20th message: exactly the last three follow.
    let resume_id = all[19]["id"].as_str().unwrap().to_owned();
    let rest = read(&py, &url, &resume_id, 3);
    let rest_offsets: Vec<i64> = rest
        .iter()
        .map(|m| m["data"]["meta"]["offset"].as_i64().unwrap())
        .collect();
    assert_eq!(rest_offsets, offsets[20..].to_vec());
}
