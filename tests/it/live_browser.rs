//! The live page in a real browser: headless Chromium (Debian `chromium`,
//! installed by scripts/test) opens `/live`, whose script connects to the
//! public WebSocket feed and adds rows as edits arrive from the replay
//! server's live tail. A screenshot is kept in `target/test-artifacts/`.
//! Without Chromium the test is skipped with a note, unless
//! `WIKIWATCH_REQUIRE_BROWSER=1` (as scripts/test sets), which fails it.

use crate::support;

use std::path::Path;
use std::time::Duration;

use support::{replay, run, wait_for};

/// Runs headless Chromium on `url`; returns stdout.
fn browse(browser: &Path, url: &str, extra: &[&str]) -> String {
    let mut flags = vec!["--window-size=1280,1400", "--virtual-time-budget=8000"];
    flags.extend_from_slice(extra);
    String::from_utf8_lossy(&support::headless(browser, &flags, url).stdout).into_owned()
}

#[tokio::test]
async fn the_live_page_shows_edits_as_they_arrive() {
    let Some(browser) = support::chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast", "--live-rate", "100"], dir.path());
    let db = format!("sqlite:{}", dir.path().join("live.db").display());
    // The app's own batch interval (200 ms), not the tests' usual 50 ms.
    let app = run(&up, &db, &["--batch-max-ms", "200"], dir.path());
    wait_for("live messages", Duration::from_secs(120), || async {
        let s = support::get_json(&app.url("/api/live/stats")).await?;
        (s["feed"]["published"].as_u64()? > 100).then_some(())
    })
    .await;

    // The page is plain HTML without an upgrade; its script fills the table.
    let page = app.url("/live");
    let browser2 = browser.clone();
    let page2 = page.clone();
    let dom = wait_for(
        "edit rows drawn by the page",
        Duration::from_secs(120),
        || {
            let (b, p) = (browser2.clone(), page2.clone());
            async move {
                let dom = tokio::task::spawn_blocking(move || browse(&b, &p, &["--dump-dom"]))
                    .await
                    .ok()?;
                (dom.matches("<tr class=\"edit\">").count() >= 3).then_some(dom)
            }
        },
    )
    .await;
    assert!(dom.contains("Edits per minute per wiki"));
    assert!(dom.contains("connected"), "the page says it is connected");
    assert!(!dom.contains("<script>alert"), "no markup from event data");

    let path = support::artifacts().join("live_page.png");
    let _ = std::fs::remove_file(&path);
    let arg = format!("--screenshot={}", path.display());
    let (b, p) = (browser.clone(), page.clone());
    tokio::task::spawn_blocking(move || browse(&b, &p, &[&arg]))
        .await
        .unwrap();
    let bytes = std::fs::read(&path).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG"));
}
