//! The hashtag pages in a real browser: headless Chromium (Debian `chromium`,
//! installed by scripts/test) loads the home page, follows its search form to
//! the results, sees the table and the uPlot chart drawn by JavaScript, pages
//! forward, and the CSV export link downloads every row. Screenshots are kept
//! in `target/test-artifacts/` as test artifacts.

use crate::support;

use std::path::{Path, PathBuf};

use support::{WIKIDATA, artifacts, replay, run, wait_committed};

/// Runs headless Chromium on `url` with `extra` flags; returns stdout.
fn browse(browser: &Path, url: &str, extra: &[&str]) -> String {
    let mut flags = vec!["--window-size=1280,2200", "--virtual-time-budget=10000"];
    flags.extend_from_slice(extra);
    String::from_utf8_lossy(&support::headless(browser, &flags, url).stdout).into_owned()
}

fn screenshot(browser: &Path, url: &str, name: &str) -> PathBuf {
    let path = artifacts().join(name);
    let _ = std::fs::remove_file(&path);
    browse(browser, url, &[&format!("--screenshot={}", path.display())]);
    let bytes = std::fs::read(&path).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG"), "{name} is a PNG");
    assert!(bytes.len() > 10_000, "{name} is not blank");
    path
}

/// The value of `attr` on the first element whose opening tag contains `marker`.
fn attr_of(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let key = format!("{attr}=\"");
    let v = tag.find(&key)? + key.len();
    let value = &tag[v..v + tag[v..].find('"')?];
    Some(value.replace("&amp;", "&"))
}

#[tokio::test]
async fn browser_searches_sees_chart_pages_forward_and_downloads_csv() {
    let browser = support::chromium().expect(
        "headless Chromium not found: install Debian's chromium (scripts/test does) or set WIKIWATCH_TEST_CHROMIUM",
    );
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let db = support::test_db(dir.path(), "b.db").await;
    let app = run(&up, &db, &[WIKIDATA], dir.path());
    wait_committed(&app, 5_796).await;

    // Home: the search form, submitted as the browser would (GET /hashtags?tags=…).
    let home = browse(&browser, &app.url("/"), &["--dump-dom"]);
    let action = attr_of(&home, "id=\"hashtag-search\"", "action").expect("search form");
    assert_eq!(action, "/hashtags");
    screenshot(&browser, &app.url("/"), "hashtags-home.png");

    let results_url = app.url(&format!("{action}?tags=%23PetScan"));
    let dom = browse(&browser, &results_url, &["--dump-dom"]);
    assert!(dom.contains("<strong>341</strong>edits"), "stats box");
    assert!(dom.matches("<tr>").count() >= 50, "table rows");
    // The chart is drawn by uPlot from the time-series API.
    assert!(dom.contains("data-rendered=\"1\""), "chart rendered");
    assert!(dom.contains("class=\"uplot"), "uPlot root element");
    assert!(dom.contains("<canvas"), "chart canvas");
    screenshot(&browser, &results_url, "hashtags-results.png");

    // Page forward.
    let next = attr_of(&dom, "id=\"next-page\"", "href").expect("next page link");
    let page2 = browse(&browser, &app.url(&next), &["--dump-dom"]);
    assert!(page2.contains("« newest"));
    let first_rows: Vec<&str> = dom.matches("Special:Diff/").collect();
    assert!(!first_rows.is_empty());
    screenshot(&browser, &app.url(&next), "hashtags-results-page2.png");

    // The CSV link downloads every row.
    let csv_link = attr_of(&dom, "id=\"export-csv\"", "href").expect("CSV link");
    let resp = reqwest::get(app.url(&csv_link)).await.unwrap();
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let csv = resp.text().await.unwrap();
    let path = artifacts().join("hashtags-petscan.csv");
    std::fs::write(&path, &csv).unwrap();
    assert_eq!(csv.lines().count(), 342);
}
