//! The web server's connection limits through its public interface: idle or
//! trickling connections are closed after the header-read timeout, and a
//! server holding its cap of connections still answers `/healthz` and
//! `/metrics` (and says 503 with a JSON reason to everything else).

mod support;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::{Proc, wait_for};

const CAP: usize = 8;

/// A GET on a fresh connection: (status, body).
async fn fresh_get(app: &Proc, path: &str) -> Option<(u16, String)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .ok()?;
    let resp = client.get(app.url(path)).send().await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.text().await.ok()?))
}

#[tokio::test]
async fn idle_connections_are_closed_and_a_full_server_still_answers_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let up = Proc::start(
        &["replay-server", "--listen", "127.0.0.1:0", "--pace", "fast"],
        dir.path(),
    );
    let db = format!("sqlite:{}", dir.path().join("db.sqlite").display());
    let app = Proc::start(
        &[
            "run",
            "--upstream",
            &up.url("/v2/stream/recentchange,page-links-change,page-delete,page-undelete"),
            "--db",
            &db,
            "--listen",
            "127.0.0.1:0",
            "--contact",
            "wikiwatch tests",
            "--log-format",
            "text",
            "--http-max-connections",
            &CAP.to_string(),
            "--http-header-timeout-secs",
            "2",
        ],
        dir.path(),
    );

    // CAP clients that send one byte of a request and then nothing.
    let mut idle = Vec::new();
    for _ in 0..CAP {
        let mut s = TcpStream::connect(&app.addr).await.unwrap();
        s.write_all(b"G").await.unwrap();
        idle.push(s);
    }
    let (status, body) = wait_for("the cap to be reached", Duration::from_secs(30), || async {
        fresh_get(&app, "/api/status")
            .await
            .filter(|(s, _)| *s == 503)
    })
    .await;
    assert_eq!(status, 503);
    let reason: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        reason["error"]
            .as_str()
            .unwrap_or("")
            .contains("connections"),
        "{body}"
    );
    assert_eq!(fresh_get(&app, "/healthz").await.map(|(s, _)| s), Some(200));
    let (status, metrics) = fresh_get(&app, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("wikiwatch_"), "{metrics}");

    // The header-read timeout closes every idle connection...
    for mut s in idle {
        let mut buf = [0u8; 256];
        let closed = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "an idle connection was still open after 30 s"
        );
    }
    // ...and the server serves everything again.
    wait_for(
        "the server to serve again",
        Duration::from_secs(30),
        || async {
            fresh_get(&app, "/api/status")
                .await
                .filter(|(s, _)| *s == 200)
        },
    )
    .await;
}
