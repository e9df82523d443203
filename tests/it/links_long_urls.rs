//! URLs are user input of any length. A link with a 6 kB path of random
//! characters, or with a 3,000-character host, is logged, reported and
//! removed like any other, on both backends: PostgreSQL's b-tree entries hold
//! at most about 2.7 kB, so nothing may index such text directly, and a batch
//! that failed on one of them would stall ingest for good. The fixture is
//! written by the test (three events: the links added, one removed, the page
//! deleted).

use crate::support;

use serde_json::{Value, json};
use support::{get_json, rows, status, wait_committed};

/// Incompressible text: a hex stream from a fixed linear congruential generator.
fn noise(len: usize) -> String {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            char::from_digit(((x >> 33) % 16) as u32, 16).unwrap_or('0')
        })
        .collect()
}

fn meta(n: u32, stream: &str, dt: &str) -> Value {
    json!({
        "uri": "https://en.wikipedia.org/wiki/Sigma",
        "request_id": format!("00000000-0000-0000-0000-0000000c000{n}"),
        "id": format!("00000000-0000-0000-0000-0000000d000{n}"),
        "dt": dt,
        "domain": "en.wikipedia.org",
        "stream": stream,
        "topic": format!("eqiad.{stream}"),
        "partition": 0,
        "offset": n,
    })
}

fn performer() -> Value {
    json!({"user_text": "Writer", "user_groups": ["*", "user"], "user_is_bot": false,
           "user_id": 77, "user_registration_dt": "2015-01-01T00:00:00Z", "user_edit_count": 5000})
}

#[tokio::test]
async fn very_long_urls_and_hosts_are_logged_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let long_path = format!("https://long.example/{}", noise(6000));
    let long_host = format!("https://{}.example/x", noise(3000));
    let links = |n: u32, dt: &str, added: &[&str], removed: &[&str]| {
        json!({
            "$schema": "/mediawiki/page/links-change/1.0.0",
            "meta": meta(n, "mediawiki.page-links-change", dt),
            "database": "enwiki", "page_id": 400, "page_title": "Sigma", "page_namespace": 0,
            "page_is_redirect": false, "rev_id": 4000 + n, "performer": performer(),
            "added_links": added.iter().map(|l| json!({"link": l, "external": true})).collect::<Vec<_>>(),
            "removed_links": removed.iter().map(|l| json!({"link": l, "external": true})).collect::<Vec<_>>(),
        })
    };
    let delete = json!({
        "$schema": "/mediawiki/page/delete/1.0.0",
        "meta": meta(3, "mediawiki.page-delete", "2026-03-01T00:02:00Z"),
        "database": "enwiki", "performer": performer(), "page_id": 400, "page_title": "Sigma",
        "page_namespace": 0, "page_is_redirect": false, "rev_id": 4002, "rev_count": 2,
        "comment": "test",
    });
    let events = [
        links(1, "2026-03-01T00:00:00Z", &[&long_path, &long_host], &[]),
        links(2, "2026-03-01T00:01:00Z", &[], &[&long_path]),
        delete,
    ];
    let input = dir.path().join("long.jsonl");
    let text: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&input, text.join("\n") + "\n").unwrap();
    let input = input.display().to_string();

    let (_up, app) = support::replay_and_run(dir.path(), &input, "long.db").await;
    wait_committed(&app, 3).await;
    let s = status(&app).await.unwrap();
    // Two added, one removed, and the page deletion of the one still present.
    assert_eq!(rows(&s, "link_events"), 4, "{s}");

    let hist = get_json(&app.url("/api/links/pages/enwiki/Sigma?provenance=all&limit=100"))
        .await
        .unwrap();
    let evs = hist["events"].as_array().cloned().unwrap_or_default();
    let with = |action: &str, url: &str| {
        evs.iter()
            .filter(|e| e["action"] == action && e["url"].as_str() == Some(url))
            .count()
    };
    assert_eq!(with("added", &long_path), 1, "{hist}");
    assert_eq!(with("removed", &long_path), 1, "{hist}");
    assert_eq!(with("added", &long_host), 1, "{hist}");
    assert_eq!(with("page_deleted", &long_host), 1, "{hist}");

    // The domain report over the long path: added, removed, none present.
    let r = get_json(&app.url("/api/links/domains/long.example?provenance=all"))
        .await
        .unwrap();
    assert_eq!(r["added"], 1, "{r}");
    assert_eq!(r["removed"], 1, "{r}");
    assert_eq!(r["present"], 0, "{r}");
}
