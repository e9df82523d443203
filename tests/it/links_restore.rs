//! Page deletion and restoration in the link log, end to end: a page's links
//! are logged as `page_deleted` when the page is deleted and as
//! `page_restored` when it is restored, and the report counts them present
//! again. Fixture: tests/fixtures/links_restore.jsonl (crafted, three events:
//! links added, page deleted, page restored).

use crate::support;

use serde_json::Value;
use support::{get_json, wait_links};

#[tokio::test]
async fn deletion_and_restoration_are_logged_and_restore_presence() {
    let dir = tempfile::tempdir().unwrap();
    let input = support::test_fixture("links_restore.jsonl");
    let (_up, app) = support::replay_and_run(dir.path(), &input, "r.db").await;
    wait_links(&app, 3, 6).await;

    let hist = get_json(&app.url("/api/links/pages/enwiki/Rho?provenance=all&limit=100"))
        .await
        .unwrap();
    let evs = hist["events"].as_array().cloned().unwrap_or_default();
    let count = |a: &str| evs.iter().filter(|e| e["action"] == a).count();
    assert_eq!(count("added"), 2, "{hist}");
    assert_eq!(count("page_deleted"), 2, "{hist}");
    assert_eq!(count("page_restored"), 2, "{hist}");
    assert!(
        evs.iter()
            .filter(|e| e["action"] != "added")
            .all(|e| e["performer"] == "Admin"),
        "{hist}"
    );

    let r: Value = get_json(&app.url("/api/links/domains/restore.example?provenance=all"))
        .await
        .unwrap();
    assert_eq!(r["added"], 4, "additions and restorations: {r}");
    assert_eq!(r["removed"], 2, "the deletion: {r}");
    assert_eq!(r["present"], 2, "present again after the restoration: {r}");
}
