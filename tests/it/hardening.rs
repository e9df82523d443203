//! What hostile or careless clients cannot do, through the public interface:
//! idle or trickling connections are closed after the header-read timeout; a
//! server holding its cap of connections still answers `/healthz` and
//! `/metrics` (and says 503 with a JSON reason to everything else); parameter
//! values that once crashed a handler or overflowed get a 4xx or an answer.

use crate::support;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::{Proc, replay, run, wait_for};

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

/// The replay server (the bundled recordings) and `wikiwatch run` over it
/// with `extra` flags.
fn start(dir: &std::path::Path, extra: &[&str]) -> (Proc, Proc) {
    start_on(dir, &[], extra)
}

/// The same with `replay_extra` flags for the replay server (`--input`).
fn start_on(dir: &std::path::Path, replay_extra: &[&str], extra: &[&str]) -> (Proc, Proc) {
    let mut replay_args = vec!["--pace", "fast"];
    replay_args.extend_from_slice(replay_extra);
    let up = replay(&replay_args, dir);
    let db = format!("sqlite:{}", dir.join("db.sqlite").display());
    let app = run(&up, &db, extra, dir);
    (up, app)
}

#[tokio::test]
async fn idle_connections_are_closed_and_a_full_server_still_answers_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let cap = CAP.to_string();
    let (_up, app) = start(
        dir.path(),
        &[
            "--http-max-connections",
            &cap,
            "--http-header-timeout-secs",
            "2",
        ],
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

#[tokio::test]
async fn window_values_that_once_panicked_or_overflowed_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), &[]);
    for bad in ["%C2%80", "7%C3%A9", "h", "-3d", "0h", "7w"] {
        let (status, body) = fresh_get(&app, &format!("/api/links/top?window={bad}"))
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(status, 400, "window={bad}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["parameter"], "window", "{body}");
        assert!(v["error"].is_string(), "{body}");
    }
    // Longer than the clock reaches back: everything.
    let (status, body) = fresh_get(&app, "/api/links/top?window=2562047788016h")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (_, metrics) = fresh_get(&app, "/metrics").await.unwrap();
    assert!(
        metrics.contains("wikiwatch_http_handler_panics_total 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_and_every_answer_nosniff() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), &[]);
    for page in ["/", "/hashtags", "/links", "/live", "/docs/hashtags"] {
        let resp = reqwest::get(app.url(page)).await.unwrap();
        assert_eq!(resp.status(), 200, "{page}");
        let h = resp.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "{page}: {csp:?}");
        assert!(csp.contains("frame-ancestors 'none'"), "{page}: {csp:?}");
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{page}"
        );
        assert_eq!(
            h.get("x-frame-options").map(|v| v.as_bytes()),
            Some(&b"DENY"[..]),
            "{page}"
        );
    }
    let resp = reqwest::get(app.url("/api/status")).await.unwrap();
    assert_eq!(
        resp.headers()
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
    assert!(resp.headers().get("content-security-policy").is_none());
}

#[tokio::test]
async fn control_characters_in_a_summary_leave_the_atom_feed_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let comment = "\u{0}bell\u{1} back\u{8} vt\u{B} ff\u{C} us\u{1F} #Ctrl kept\ttab";
    let event = serde_json::json!({
        "$schema": "/mediawiki/recentchange/1.0.0",
        "meta": {
            "id": "00000000-0000-4000-8000-0000000c0de1",
            "dt": "2026-11-30T12:00:00Z",
            "domain": "en.wikipedia.org",
            "stream": "mediawiki.recentchange",
            "topic": "eqiad.mediawiki.recentchange",
            "partition": 0,
            "offset": 1,
        },
        "id": 4242,
        "type": "edit",
        "namespace": 0,
        "title": "Control",
        "comment": comment,
        "timestamp": 1_796_040_000,
        "user": "Tester",
        "bot": false,
        "minor": false,
        "length": {"old": 10, "new": 20},
        "revision": {"old": 1, "new": 2},
        "server_url": "https://en.wikipedia.org",
        "server_name": "en.wikipedia.org",
        "server_script_path": "/w",
        "wiki": "enwiki",
    });
    let file = dir.path().join("control.ndjson");
    std::fs::write(&file, format!("{event}\n")).unwrap();
    let (_up, app) = start_on(dir.path(), &["--input", file.to_str().unwrap()], &[]);
    let xml = wait_for(
        "the tagged edit in the feed",
        Duration::from_secs(60),
        || async {
            let (status, xml) = fresh_get(&app, "/hashtags/feed.atom?tags=ctrl").await?;
            (status == 200 && xml.contains("<entry")).then_some(xml)
        },
    )
    .await;
    let doc = roxmltree::Document::parse(&xml).expect("the Atom feed is well-formed XML");
    let summary = doc
        .descendants()
        .find(|n| n.tag_name().name() == "summary")
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(summary, "bell back vt ff us #Ctrl kept\ttab");
}

#[tokio::test]
async fn every_streaming_feed_counts_against_the_per_address_cap() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), &["--live-max-per-ip", "3"]);
    let client = reqwest::Client::new();
    let open = |path: &'static str| {
        let (client, url) = (client.clone(), app.url(path));
        async move { client.get(url).send().await.unwrap() }
    };
    // One of each store-backed feed takes the three places...
    let held = [
        open("/v2/stream/links").await,
        open("/v2/stream/new-urls").await,
        open("/hashtags/live?tags=wpwp").await,
    ];
    for resp in &held {
        assert_eq!(resp.status(), 200, "{}", resp.url());
    }
    // ...so a fourth feed of any kind from the same address is refused.
    for path in [
        "/v2/stream/links",
        "/hashtags/live?tags=wpwp",
        "/v2/stream/recentchange",
    ] {
        let resp = open(path).await;
        assert_eq!(resp.status(), 429, "{path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap_or("").contains("too many"),
            "{body}"
        );
        assert_eq!(body["limit"], 3, "{body}");
    }
    // A closed feed gives its place back.
    drop(held);
    wait_for(
        "a place to be given back",
        Duration::from_secs(30),
        || async { (open("/v2/stream/links").await.status() == 200).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_stats_export() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), &["--admin-token", "s3cret"]);
    let client = reqwest::Client::new();
    let put = |auth: &'static str| {
        client
            .put(app.url("/api/admin/links/collections/journals"))
            .header("authorization", auth)
            .json(&serde_json::json!({"patterns": ["doi.org"]}))
            .send()
    };
    for auth in ["Bearer s3cret", "bearer s3cret", "BEARER s3cret"] {
        let resp = put(auth).await.unwrap();
        assert!(resp.status().is_success(), "{auth}: {}", resp.status());
    }
    assert_eq!(put("bearer wrong").await.unwrap().status(), 403);
    assert_eq!(put("Basic s3cret").await.unwrap().status(), 401);

    // The stats answer every export format the docs promise.
    let resp = client
        .get(app.url("/api/hashtags/stats?tags=wpwp&format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("edits,pages,users,wikis,"), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let nd = client
        .get(app.url("/api/hashtags/stats?tags=wpwp&format=ndjson"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row: serde_json::Value = serde_json::from_str(nd.trim()).unwrap();
    assert!(row["edits"].is_number(), "{nd}");
}

#[tokio::test]
async fn a_collection_at_the_pattern_limit_answers_and_one_over_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), &["--admin-token", "s3cret"]);
    let client = reqwest::Client::new();
    let put = |name: &'static str, patterns: Vec<String>| {
        client
            .put(app.url(&format!("/api/admin/links/collections/{name}")))
            .header("authorization", "Bearer s3cret")
            .json(&serde_json::json!({ "patterns": patterns }))
            .send()
    };
    let domains = |n: usize| {
        (0..n)
            .map(|i| format!("site{i}.example"))
            .collect::<Vec<_>>()
    };
    let resp = put("too-big", domains(501)).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["parameter"], "patterns", "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("at most 500"),
        "{body}"
    );

    let mut at_limit = domains(499);
    at_limit.push("doi.org".into());
    assert!(put("big", at_limit).await.unwrap().status().is_success());
    for path in [
        "/api/links/collections/big",
        "/api/links/collections/big?provenance=all",
        "/links/collections/big",
    ] {
        let resp = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            resp.status(),
            200,
            "{path}: {}",
            resp.text().await.unwrap_or_default()
        );
    }
}

#[tokio::test]
async fn a_deleted_write_ahead_log_stops_commits_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, mut app) = start_on(dir.path(), &["--live-rate", "200"], &[]);
    support::wait_committed(&app, support::REAL_EVENTS).await;
    let wal = dir.path().join("db.sqlite-wal");
    assert!(wal.exists(), "SQLite runs in WAL mode");
    std::fs::remove_file(&wal).unwrap();
    let failing = wait_for(
        "the lost log in /api/status",
        Duration::from_secs(60),
        || async {
            let s = support::status(&app).await?;
            let error = s["upstream"]["last_error"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (support::counter(&s, "store_errors") >= 1 && error.contains("write-ahead log"))
                .then_some(s)
        },
    )
    .await;
    // Nothing more is reported as committed while the log is gone.
    let committed = support::counter(&failing, "events_committed");
    wait_for(
        "another failed attempt",
        Duration::from_secs(60),
        || async {
            let s = support::status(&app).await?;
            (support::counter(&s, "store_errors") > support::counter(&failing, "store_errors"))
                .then_some(())
        },
    )
    .await;
    let later = support::status(&app).await.unwrap();
    assert_eq!(support::counter(&later, "events_committed"), committed);
    assert_eq!(app.terminate(), Some(0), "log:\n{}", app.log());
}
