//! Headless Chromium for the page tests: find it, run it with the
//! project's flags, dump a page's DOM or take a screenshot.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::artifacts;

/// Debian's Chromium, if installed (`scripts/test` installs it and sets
/// `WIKIWATCH_REQUIRE_BROWSER=1`, so a missing browser fails there instead of
/// skipping).
pub fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("WIKIWATCH_TEST_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
        });
    if found.is_none() && std::env::var("WIKIWATCH_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("WIKIWATCH_REQUIRE_BROWSER=1 but no Chromium found; install Debian's chromium");
    }
    if found.is_none() {
        eprintln!("note: Chromium not installed; browser checks skipped");
    }
    found
}

/// Runs headless Chromium on `url` with the project's standard flags plus
/// `extra` (window size, virtual-time budget, `--dump-dom`, `--screenshot=`).
pub fn headless(browser: &Path, extra: &[&str], url: &str) -> std::process::Output {
    // Chromium in a container occasionally dies at start-up (shared-memory or
    // crashpad trouble) before it has loaded anything; that is the browser, not
    // the page under test, so a failed launch is retried with a fresh profile.
    // What the page renders is still asserted by the caller on the final output.
    const ATTEMPTS: usize = 3;
    let mut failures = Vec::new();
    for _ in 0..ATTEMPTS {
        let profile = tempfile::tempdir().expect("browser profile dir");
        let profile_arg = format!("--user-data-dir={}", profile.path().display());
        let out = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-quic",
                "--disable-dev-shm-usage",
                "--disable-crash-reporter",
                "--hide-scrollbars",
                &profile_arg,
            ])
            .args(extra)
            .arg(url)
            .output()
            .expect("run chromium");
        if out.status.success() {
            return out;
        }
        failures.push(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    panic!(
        "chromium failed {ATTEMPTS} times on {url}:\n{}",
        failures.join("\n---\n")
    );
}

/// The page's DOM after scripts ran, as the browser serialises it.
pub fn browser_dom(browser: &Path, url: &str) -> String {
    String::from_utf8_lossy(
        &headless(browser, &["--dump-dom", "--virtual-time-budget=3000"], url).stdout,
    )
    .into_owned()
}

/// A PNG screenshot kept under `target/test-artifacts/NAME.png`; returns its path.
pub fn browser_screenshot(browser: &Path, url: &str, name: &str) -> PathBuf {
    let path = artifacts().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&path);
    let shot = format!("--screenshot={}", path.display());
    headless(
        browser,
        &[
            &shot,
            "--window-size=1280,1600",
            "--virtual-time-budget=3000",
        ],
        url,
    );
    assert!(path.exists(), "no screenshot written for {url}");
    path
}
