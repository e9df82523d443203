//! The domain report page in a real browser: headless Chromium (Debian
//! `chromium`, installed by scripts/test) loads `/links/domain/apa.org` and
//! `/links/domain/spam.example` over the crafted link fixture, and the test
//! reads the rendered DOM (totals, the SVG chart, the top tables, the spam
//! signals, the export links). Screenshots are kept in
//! `target/test-artifacts/` as test artifacts. Without Chromium the test
//! skips with a note, unless `WIKIWATCH_REQUIRE_BROWSER=1` (set by
//! scripts/test), which makes that a failure.

use crate::support;

use support::{browser_dom, browser_screenshot, wait_links};

#[tokio::test]
async fn domain_report_page_renders_totals_chart_tables_and_signals() {
    let Some(browser) = support::chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = support::test_fixture("links_crafted.jsonl");
    let (_up, app) = support::replay_and_run(dir.path(), &input, "b.db").await;
    wait_links(&app, 19, 23).await;

    // A publisher's report, every provenance: 3 added, 1 removed.
    let url = app.url("/links/domain/apa.org?provenance=all");
    let dom = browser_dom(&browser, &url);
    assert!(dom.contains("apa.org"), "{dom}");
    assert!(
        dom.contains(r#"id="added">3<"#),
        "three additions shown: {dom}"
    );
    assert!(dom.contains(r#"id="removed">"#), "{dom}");
    assert!(
        dom.contains("<svg class=\"chart\""),
        "the chart is drawn: {dom}"
    );
    assert!(dom.contains("<rect"), "the chart has bars: {dom}");
    assert!(dom.contains("format=csv"), "CSV export links: {dom}");
    let shot = browser_screenshot(&browser, &url, "links-domain-apa");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );

    // A spammy domain: the signals section names the flags.
    let url = app.url("/links/domain/spam.example");
    let dom = browser_dom(&browser, &url);
    assert!(
        dom.contains("one editor"),
        "the dominant-editor flag: {dom}"
    );
    assert!(dom.contains("only by IP"), "the IP-only flag: {dom}");
    browser_screenshot(&browser, &url, "links-domain-spam");
}
