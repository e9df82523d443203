//! The server-rendered pages in a real browser (headless Chromium): what a
//! person sees, with screenshots kept under target/test-artifacts/.

use crate::support;

use support::{browser_dom, browser_screenshot, chromium, replay, run, wait_committed};

#[tokio::test]
async fn the_home_page_shows_freshness_streams_and_stored_rows_and_says_when_ingest_is_behind() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let db = support::test_db(dir.path(), "pages.db").await;
    let app = run(&up, &db, &[], dir.path());
    wait_committed(&app, 5_796).await;
    let url = app.url("/");
    let dom = browser_dom(&browser, &url);
    // The recordings are years old, so the page must say ingest is behind.
    assert!(dom.contains("Ingest is behind"), "{dom}");
    assert!(
        dom.contains("<td>recentchange</td><td class=\"num\">5793</td>"),
        "{dom}"
    );
    assert!(dom.contains("2023-07-29T07:53:59.000Z"), "{dom}");
    // Every page says so, above its own content, not only the home page.
    for path in [
        "/hashtags",
        "/hashtags?tags=PetScan",
        "/hashtags/tags",
        "/hashtags/tag/petscan",
        "/docs/hashtags",
        "/links",
        "/links/domain/wikipedia.org",
        "/links/user/Example",
        "/links/page/enwiki/Example",
        "/links/collections",
        "/links/docs",
        "/live",
    ] {
        let html = support::get_text(&app.url(path)).await;
        assert!(
            html.contains("id=\"ingest-note\">Ingest is behind: the newest event is"),
            "{path} does not say ingest is behind"
        );
    }
    let png = browser_screenshot(&browser, &url, "home");
    let bytes = std::fs::metadata(&png).unwrap().len();
    assert!(
        bytes > 10_000,
        "screenshot of {bytes} bytes is too small to show the page"
    );
}
