//! Shared helpers for the black-box tests: run the `wikiwatch` binary as a
//! child process, read the address it prints, poll its HTTP endpoints.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_wikiwatch");

/// The bundled recordings (`fixtures/` at the top of the repository).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A file of the test-only fixtures (`tests/fixtures/NAME`), as a path string.
pub fn test_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// `target/test-artifacts/` (screenshots, downloads), created if missing.
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

/// A child process that is killed (SIGKILL) when dropped.
pub struct Proc {
    pub child: Child,
    pub addr: String,
    stderr_path: PathBuf,
}

impl Proc {
    /// Starts `wikiwatch ARGS…` and waits for its `listening on http://ADDR` line.
    pub fn start(args: &[&str], log_dir: &Path) -> Proc {
        let stderr_path = log_dir.join(format!(
            "{}-{}.log",
            args.first().copied().unwrap_or("wikiwatch"),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let stderr = std::fs::File::create(&stderr_path).expect("create log file");
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start wikiwatch");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                panic!("wikiwatch {args:?} did not print its address; log:\n{log}");
            }
        };
        Proc {
            child,
            addr,
            stderr_path,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit and returns its status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("process did not exit after SIGTERM; log:\n{}", self.log());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `timeout`
/// with `what` in the message.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn get_json(url: &str) -> Option<serde_json::Value> {
    let resp = reqwest::get(url).await.ok()?;
    resp.json().await.ok()
}

/// The body of a GET that must answer 200, as text.
pub async fn get_text(url: &str) -> String {
    let resp = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// The value of an unlabelled sample in Prometheus text.
pub fn metric(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// `/api/status` of a running instance.
pub async fn status(p: &Proc) -> Option<serde_json::Value> {
    get_json(&p.url("/api/status")).await
}

pub fn counter(status: &serde_json::Value, name: &str) -> u64 {
    status["counters"][name].as_u64().unwrap_or(0)
}

pub fn rows(status: &serde_json::Value, table: &str) -> i64 {
    status["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["table"] == table))
        .and_then(|r| r["rows"].as_i64())
        .unwrap_or(-1)
}

/// `wikiwatch dump --db URL` without the position line (the position differs
/// when fault injection adds events after the last real one).
pub fn dump(db: &str) -> Vec<String> {
    let out = Command::new(BIN)
        .args(["dump", "--db", db])
        .output()
        .expect("run wikiwatch dump");
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Runs `wikiwatch SUBCOMMAND` with `input` on stdin and returns stdout.
pub fn run_with_stdin(args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wikiwatch");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    assert!(
        out.status.success(),
        "wikiwatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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

/// Every test that uses the shared PostgreSQL server holds a read lock on it
/// while it runs; `pg_restart` stops and restarts that server, so it holds
/// the write lock (the tests are threads of one process now, no longer
/// separate test binaries run one after the other).
static PG_SERVER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// A test database on the shared server, as a URL (it derefs to `&str`);
/// keeps the server up (no restart) for as long as it lives.
pub struct PgDatabase {
    url: String,
    _server: tokio::sync::RwLockReadGuard<'static, ()>,
}

impl std::ops::Deref for PgDatabase {
    type Target = String;
    fn deref(&self) -> &String {
        &self.url
    }
}

impl std::fmt::Display for PgDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// A fresh, empty PostgreSQL database on the server `scripts/with-postgres`
/// started; `None` (with a note) when there is no server, unless
/// `WIKIWATCH_REQUIRE_PG=1`, which makes that a failure. The server is not
/// restarted while the returned value lives.
pub async fn pg_database() -> Option<PgDatabase> {
    pg_admin_url()?;
    // Waits only for a running `pg_restart` (which never queues: see
    // `pg_server_exclusive`), so a test may hold several of these.
    let server = PG_SERVER.read().await;
    let url = create_pg_database().await?;
    Some(PgDatabase {
        url,
        _server: server,
    })
}

/// Sole use of the shared PostgreSQL server (to stop and restart it), once
/// no other test holds a [`PgDatabase`]; `None` when there is no server.
/// Polls instead of queueing: a queued writer would block a test that
/// already holds one database from getting its second one.
pub async fn pg_server_exclusive() -> Option<tokio::sync::RwLockWriteGuard<'static, ()>> {
    pg_admin_url()?;
    let server = wait_for(
        "the other PostgreSQL tests to finish",
        Duration::from_secs(1800),
        || async { PG_SERVER.try_write().ok() },
    )
    .await;
    Some(server)
}

/// `WIKIWATCH_TEST_PG_URL`, or `None` (with a note) when unset, unless
/// `WIKIWATCH_REQUIRE_PG=1`, which makes that a failure.
fn pg_admin_url() -> Option<String> {
    let Ok(admin) = std::env::var("WIKIWATCH_TEST_PG_URL") else {
        if std::env::var("WIKIWATCH_REQUIRE_PG").as_deref() == Ok("1") {
            panic!(
                "WIKIWATCH_REQUIRE_PG=1 but WIKIWATCH_TEST_PG_URL is unset; run under scripts/with-postgres"
            );
        }
        eprintln!("note: no PostgreSQL (WIKIWATCH_TEST_PG_URL unset); PostgreSQL variant skipped");
        return None;
    };
    Some(admin)
}

/// A fresh, empty database on the shared server, as a URL, without taking
/// the server lock (for `pg_restart`, which holds it exclusively).
pub async fn create_pg_database() -> Option<String> {
    let admin = pg_admin_url()?;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "ww_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL server");
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

/// The database a black-box test ingests into: a fresh SQLite file in `dir`,
/// or, when `WIKIWATCH_TEST_BACKEND=postgres` (how `scripts/test` runs the
/// API suites a second time), a fresh PostgreSQL database.
pub async fn test_db(dir: &Path, name: &str) -> String {
    if std::env::var("WIKIWATCH_TEST_BACKEND").as_deref() == Ok("postgres") {
        return create_pg_database()
            .await
            .expect("WIKIWATCH_TEST_BACKEND=postgres needs WIKIWATCH_TEST_PG_URL");
    }
    format!("sqlite:{}", dir.join(name).display())
}

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

/// Polls `/api/status` until `p` has committed at least `n` events; returns
/// that status.
pub async fn wait_committed(p: &Proc, n: u64) -> serde_json::Value {
    wait_for(
        &format!("{n} events committed"),
        Duration::from_secs(180),
        || async {
            let s = status(p).await?;
            (counter(&s, "events_committed") >= n).then_some(s)
        },
    )
    .await
}

/// Polls `/api/status` until `p` has committed at least `events` events and
/// stores at least `link_rows` link events.
pub async fn wait_links(p: &Proc, events: u64, link_rows: i64) {
    wait_for(
        &format!("{events} events and {link_rows} link events"),
        Duration::from_secs(90),
        || async {
            let s = status(p).await?;
            (counter(&s, "events_committed") >= events && rows(&s, "link_events") >= link_rows)
                .then_some(())
        },
    )
    .await;
}
