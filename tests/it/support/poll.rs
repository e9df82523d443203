//! Reading a running instance over HTTP and polling it for a condition
//! (never a fixed sleep): `/api/status` counters and rows, Prometheus text,
//! committed events and stored link events.

use std::time::{Duration, Instant};

use super::Proc;

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
