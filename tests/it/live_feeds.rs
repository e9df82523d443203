//! Live feeds through their public interfaces: the replay server (the real
//! recordings bundled in `fixtures/real/`, then a synthetic live tail) and
//! `wikiwatch run` as separate processes; WebSocket clients (tokio-tungstenite)
//! and SSE over reqwest. No timing assertions: every wait polls for a
//! condition with a generous timeout.

use crate::support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Proc, replay, run, wait_for};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// recentchange events in the bundled real recordings.
const REAL_RECENTCHANGE: u64 = 5_793;
const LONG: Duration = Duration::from_secs(120);

/// Replay server (recordings as fast as read, then `tail_rate` synthetic
/// events per second) and the app on it, with short heartbeats.
fn start(dir: &std::path::Path, tail_rate: &str, extra: &[&str]) -> (Proc, Proc) {
    let up = replay(&["--pace", "fast", "--live-rate", tail_rate], dir);
    let db = format!("sqlite:{}", dir.join("live.db").display());
    // The app's own batch interval (200 ms), not the tests' usual 50 ms.
    let mut args = vec!["--batch-max-ms", "200", "--live-heartbeat-ms", "300"];
    args.extend_from_slice(extra);
    let app = run(&up, &db, &args, dir);
    (up, app)
}

async fn stats(app: &Proc) -> Option<Value> {
    support::get_json(&app.url("/api/live/stats")).await
}

/// Waits until the hub has published at least `n` messages.
async fn wait_published(app: &Proc, n: u64) {
    wait_for(&format!("{n} live messages published"), LONG, || async {
        let s = stats(app).await?;
        (s["feed"]["published"].as_u64()? >= n).then_some(())
    })
    .await;
}

async fn ws(app: &Proc, path_and_query: &str) -> Ws {
    let url = format!("ws://{}{}", app.addr, path_and_query);
    tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
        .0
}

/// The next text message as JSON (skipping pings), or None when the socket ends.
async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        let m = tokio::time::timeout(LONG, ws.next())
            .await
            .expect("a message within the timeout")?;
        match m {
            Ok(Message::Text(t)) => {
                return Some(serde_json::from_str(t.as_str()).expect("JSON message"));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Reads until a message of `kind` arrives; returns it and the changes before it.
async fn until_kind(ws: &mut Ws, kind: &str) -> (Value, Vec<Value>) {
    let mut changes = Vec::new();
    loop {
        let m = next_json(ws)
            .await
            .unwrap_or_else(|| panic!("socket ended before a {kind} message"));
        if m["kind"] == kind {
            return (m, changes);
        }
        if m["kind"] == "change" {
            changes.push(m);
        }
    }
}

/// Reads change messages until one satisfies `pred`; all of them must pass `all`.
async fn change_where(ws: &mut Ws, all: impl Fn(&Value) -> bool, pred: impl Fn(&Value) -> bool) {
    loop {
        let m = next_json(ws).await.expect("socket open");
        if m["kind"] != "change" {
            continue;
        }
        assert!(all(&m), "a message the filter should have dropped: {m}");
        if pred(&m) {
            return;
        }
    }
}

#[tokio::test]
async fn filters_apply_and_are_replaced_by_subscribe_and_bad_ones_keep_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), "100", &[]);
    wait_published(&app, REAL_RECENTCHANGE).await;

    // The recordings from the resume buffer, filtered: only English Wikipedia, no bots.
    let mut s = ws(&app, "/live?since=0&wiki=en.wikipedia.org&bot=false").await;
    let (hello, _) = until_kind(&mut s, "subscribed").await;
    assert_eq!(hello["filter"]["wiki"], json!(["en.wikipedia.org"]));
    let (gap, _) = until_kind(&mut s, "resume_gap").await;
    assert!(gap["oldest_id"].as_u64().is_some(), "{gap}");
    let is_en_human = |m: &Value| m["wiki"] == "enwiki" && m["bot"] == false;
    let mut seen = 0;
    while seen < 20 {
        let m = next_json(&mut s).await.expect("open");
        if m["kind"] == "change" {
            assert!(is_en_human(&m), "{m}");
            seen += 1;
        }
    }

    // Other text is ignored and never echoed; a bad subscribe is an error
    // message and the connection stays with its filter.
    s.send(Message::text("hello everyone")).await.unwrap();
    s.send(Message::text(r#"{"type":"subscribe","namespace":"main"}"#))
        .await
        .unwrap();
    let (err, before) = until_kind(&mut s, "error").await;
    assert_eq!(err["parameter"], "namespace", "{err}");
    assert!(before.iter().all(is_en_human));
    change_where(&mut s, is_en_human, |_| true).await;

    // A subscribe message replaces the filter without reconnecting.
    s.send(Message::text(
        r#"{"type":"subscribe","wikis":["*.wikidata.org"],"types":["edit"]}"#,
    ))
    .await
    .unwrap();
    let (ack, _) = until_kind(&mut s, "subscribed").await;
    assert_eq!(ack["filter"]["wiki"], json!(["*.wikidata.org"]));
    change_where(
        &mut s,
        |m| m["wiki"] == "wikidatawiki" && m["type"] == "edit",
        |_| true,
    )
    .await;
    // Nothing we sent came back.
    for _ in 0..5 {
        let m = next_json(&mut s).await.expect("open");
        assert!(!m.to_string().contains("hello everyone"));
    }

    // Heartbeats carry the newest upstream event time and the lag.
    let mut quiet = ws(&app, "/live?wiki=nosuchwiki").await;
    let (hb, changes) = until_kind(&mut quiet, "heartbeat").await;
    assert!(changes.is_empty());
    assert!(hb["newest_event_time"].is_string(), "{hb}");
    assert!(hb["lag_seconds"].is_number(), "{hb}");

    // A bad filter at connect time is an HTTP 400 naming the parameter.
    let url = format!("ws://{}/live?editor=robot", app.addr);
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 400);
            let body: Value =
                serde_json::from_slice(resp.body().as_deref().unwrap_or_default()).unwrap();
            assert_eq!(body["parameter"], "editor", "{body}");
        }
        other => panic!("expected HTTP 400, got {:?}", other.map(|_| ())),
    }
    let resp = reqwest::get(app.url("/v2/stream/recentchange?bot=maybe"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["parameter"], "bot");

    // Filters are bounded where they are parsed: too many wildcard wikis (the
    // pattern that once slowed the hub for everyone) are refused, by HTTP
    // and by a subscribe message, and the connection keeps its filter.
    let globs: Vec<String> = (0..400).map(|i| format!("*{i}*q*")).collect();
    let resp = reqwest::get(app.url(&format!("/v2/stream/recentchange?wiki={}", globs.join(","))))
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["parameter"], "wiki", "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("at most"),
        "{body}"
    );
    let too_many_users: Vec<String> = (0..1001).map(|i| format!("User {i}")).collect();
    s.send(Message::text(
        json!({"type": "subscribe", "user": too_many_users}).to_string(),
    ))
    .await
    .unwrap();
    let (err, _) = until_kind(&mut s, "error").await;
    assert_eq!(err["parameter"], "user", "{err}");
    change_where(
        &mut s,
        |m| m["wiki"] == "wikidatawiki" && m["type"] == "edit",
        |_| true,
    )
    .await;
}

/// Reads SSE `message` events from a response until `n` have arrived: (id, data).
async fn sse_messages(resp: &mut reqwest::Response, n: usize) -> Vec<(u64, Value)> {
    let mut parser = wikiwatch::sse::SseParser::new(1 << 20);
    let mut out = Vec::new();
    let mut items = Vec::new();
    while out.len() < n {
        let chunk = tokio::time::timeout(LONG, resp.chunk())
            .await
            .expect("SSE data within the timeout")
            .expect("SSE read")
            .expect("SSE stream open");
        parser.feed(&chunk, &mut items);
        for item in items.drain(..) {
            if let wikiwatch::sse::SseItem::Event(e) = item
                && e.event == "message"
            {
                let id =
                    e.id.as_deref()
                        .unwrap_or("")
                        .parse::<u64>()
                        .expect("numeric id");
                out.push((id, serde_json::from_slice(&e.data).expect("JSON data")));
            }
        }
    }
    out
}

#[tokio::test]
async fn sse_last_event_id_and_websocket_since_resume_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), "50", &[]);
    wait_published(&app, 100).await;

    // SSE: read some, disconnect, reconnect with Last-Event-ID.
    let client = reqwest::Client::new();
    let mut resp = client
        .get(app.url("/v2/stream/recentchange"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let first = sse_messages(&mut resp, 5).await;
    for w in first.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1);
    }
    let last = first.last().unwrap().0;
    assert_eq!(first.last().unwrap().1["id"], last);
    drop(resp);
    // Let more events pass while disconnected.
    wait_for("messages published after the disconnect", LONG, || async {
        let s = stats(&app).await?;
        (s["feed"]["resume_window"]["newest_id"].as_u64()? > last + 20).then_some(())
    })
    .await;
    let mut resp = client
        .get(app.url("/v2/stream/recentchange"))
        .header("Last-Event-ID", last.to_string())
        .send()
        .await
        .unwrap();
    let resumed = sse_messages(&mut resp, 30).await;
    for (i, (id, _)) in resumed.iter().enumerate() {
        assert_eq!(*id, last + 1 + i as u64, "no message lost or repeated");
    }

    // WebSocket: `since` does the same.
    let mut s = ws(&app, &format!("/live?since={last}")).await;
    let mut expect = last + 1;
    while expect < last + 30 {
        let m = next_json(&mut s).await.expect("open");
        assert_ne!(m["kind"], "resume_gap");
        if m["kind"] == "change" {
            assert_eq!(m["id"].as_u64(), Some(expect));
            expect += 1;
        }
    }

    // An id older than the window is reported as a gap.
    let mut s = ws(&app, "/live?since=1").await;
    let (gap, _) = until_kind(&mut s, "resume_gap").await;
    assert_eq!(gap["since"], 1);
}

#[tokio::test]
async fn a_stalled_client_is_cut_off_without_delaying_a_fast_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(
        dir.path(),
        "200",
        &["--live-queue", "512", "--live-lag-limit", "1024"],
    );
    wait_published(&app, REAL_RECENTCHANGE).await;

    // The stalled client: a 4 KiB receive buffer and never a read.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(app.addr.parse().unwrap()).await.unwrap();
    let (mut stalled, _) =
        tokio_tungstenite::client_async(format!("ws://{}/live", app.addr), stream)
            .await
            .unwrap();

    let mut fast = ws(&app, "/live").await;
    let (hello, _) = until_kind(&mut fast, "subscribed").await;
    let _ = hello;
    // Every message in order, none missed, while the stalled one is cut off.
    let mut prev: Option<u64> = None;
    let mut received = 0u64;
    loop {
        let m = next_json(&mut fast)
            .await
            .expect("fast client stays connected");
        assert_ne!(m["kind"], "lagged", "the fast client lagged: {m}");
        if m["kind"] == "change" {
            let id = m["id"].as_u64().unwrap();
            if let Some(p) = prev {
                assert_eq!(id, p + 1, "the fast client missed a message");
            }
            prev = Some(id);
            received += 1;
        }
        if received.is_multiple_of(200) && received > 0 {
            let s = stats(&app).await.unwrap();
            if s["feed"]["disconnected_slow_subscribers"].as_u64() >= Some(1) && received >= 1000 {
                break;
            }
        }
        assert!(
            received < 200_000,
            "the stalled client was never disconnected"
        );
    }

    let metrics = support::get_text(&app.url("/metrics")).await;
    let value = |name: &str| -> f64 {
        support::metric(&metrics, name)
            .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{metrics}"))
    };
    assert!(value("wikiwatch_live_disconnected_slow_subscribers_total") >= 1.0);
    assert!(value("wikiwatch_live_dropped_messages_total") >= 1.0);

    // The stalled client, reading at last, finds the end of its connection
    // (after what was already in flight, possibly with the lagged notice).
    let mut told = false;
    loop {
        match tokio::time::timeout(LONG, stalled.next())
            .await
            .expect("ends")
        {
            Some(Ok(Message::Text(t))) => {
                if t.as_str().contains("\"kind\":\"lagged\"") {
                    told = true;
                }
            }
            Some(Ok(Message::Close(f))) => {
                told |= f.is_some_and(|f| f.code == CloseCode::Library(4008));
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    let _ = told;
}

#[tokio::test]
async fn wikimon_routes_by_language_and_closes_unknown_ones_with_4004() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), "200", &[]);
    wait_published(&app, 10).await;

    let mut bad = ws(&app, "/v2/notalanguage123").await;
    let mut code = None;
    while let Some(m) = bad.next().await {
        if let Ok(Message::Close(Some(f))) = m {
            code = Some(f.code);
            break;
        }
    }
    assert_eq!(code, Some(CloseCode::Library(4004)));

    for path in ["/v2/en", "/v2/en/", "/v2/"] {
        let mut s = ws(&app, path).await;
        let m = next_json(&mut s).await.expect("a WikiMon message");
        assert!(m.get("page_title").is_some(), "{path}: {m}");
        assert!(m.get("rev_id").is_some(), "{path}: {m}");
        assert!(
            m.get("kind").is_none(),
            "no control messages on WikiMon: {m}"
        );
    }

    // A plain GET (no WebSocket upgrade) is a JSON 400 naming the problem.
    let resp = reqwest::get(app.url("/v2/en")).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["parameter"], "upgrade", "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("WebSocket"),
        "{body}"
    );

    // The link feeds keep their static routes.
    let resp = reqwest::get(app.url("/v2/stream/links")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
}

#[tokio::test]
async fn connections_per_address_are_capped_with_429() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = start(dir.path(), "20", &["--live-max-per-ip", "2"]);
    let a = ws(&app, "/live").await;
    let _b = ws(&app, "/v2/en").await;
    let url = format!("ws://{}/live", app.addr);
    match tokio_tungstenite::connect_async(url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 429);
            let body: Value =
                serde_json::from_slice(resp.body().as_deref().unwrap_or_default()).unwrap();
            assert!(
                body["error"].as_str().unwrap().contains("too many"),
                "{body}"
            );
        }
        other => panic!("expected HTTP 429, got {:?}", other.map(|_| ())),
    }
    let resp = reqwest::get(app.url("/v2/stream/recentchange"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    // Both refusals and both held connections show in /metrics.
    wait_for("the live counters in /metrics", LONG, || async {
        let text = reqwest::get(app.url("/metrics"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let value = |name: &str| support::metric(&text, name);
        (value("wikiwatch_live_refused_per_ip_total") == Some(2.0)
            && value("wikiwatch_live_subscribers") == Some(2.0)
            && text.contains("# TYPE wikiwatch_live_dropped_messages_total counter"))
        .then_some(())
    })
    .await;
    drop(a);
    // Closing one frees its place.
    wait_for("a free place after closing one", LONG, || async {
        let url = format!("ws://{}/live", app.addr);
        tokio_tungstenite::connect_async(url.as_str())
            .await
            .ok()
            .map(|_| ())
    })
    .await;
}
