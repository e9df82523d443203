//! The replay server as a client sees it: EventStreams framing, ids, resume,
//! `since`, NDJSON mode and error answers, over HTTP against the binary.

use crate::support;

use std::time::Duration;

use futures_util::StreamExt;
use support::replay;
use wikiwatch::sse::{SseEvent, SseItem, SseParser};

/// Reads SSE events from `url` until `n` have arrived (or the body ends).
async fn read_events(url: &str, last_event_id: Option<&str>, n: usize) -> (Vec<u8>, Vec<SseEvent>) {
    let client = reqwest::Client::new();
    let mut req = client.get(url).header("accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let resp = req.send().await.expect("connect");
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let mut parser = SseParser::new(64 << 20);
    let mut raw = Vec::new();
    let mut events = Vec::new();
    let mut items = Vec::new();
    while events.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(30), body.next()).await;
        let Ok(Some(Ok(chunk))) = next else { break };
        if raw.len() < 4096 {
            raw.extend_from_slice(&chunk[..chunk.len().min(4096)]);
        }
        parser.feed(&chunk, &mut items);
        for item in items.drain(..) {
            if let SseItem::Event(e) = item {
                events.push(e);
            }
        }
    }
    events.truncate(n);
    (raw, events)
}

fn meta_id(e: &SseEvent) -> String {
    let v: serde_json::Value = serde_json::from_slice(&e.data).unwrap();
    v["meta"]["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn framing_and_ids_match_eventstreams() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&[], dir.path());
    let (raw, events) = read_events(&up.url("/v2/stream/recentchange"), None, 3).await;
    assert!(raw.starts_with(b":ok\n\nevent: message\nid: [{\"topic\":\"eqiad.mediawiki.recentchange\",\"partition\":0,\"timestamp\":"), "{}", String::from_utf8_lossy(&raw[..200]));
    assert_eq!(events.len(), 3);
    let id: serde_json::Value = serde_json::from_str(events[0].id.as_deref().unwrap()).unwrap();
    // Both datacenter topics, the idle one at offset -1.
    assert_eq!(
        id[1],
        serde_json::json!({"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1})
    );
    for e in &events {
        assert_eq!(e.event, "message");
        let v: serde_json::Value = serde_json::from_slice(&e.data).unwrap();
        assert!(v["meta"]["id"].is_string());
    }
    // Legacy 2018 events come first, in time order.
    let first: serde_json::Value = serde_json::from_slice(&events[0].data).unwrap();
    assert_eq!(first["meta"]["dt"], "2018-03-07T16:16:17+00:00");
}

#[tokio::test]
async fn resuming_from_any_id_continues_exactly_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&[], dir.path());
    let url = up.url("/v2/stream/recentchange,page-links-change,page-delete");
    let (_, all) = read_events(&url, None, 5_796).await;
    assert_eq!(all.len(), 5_796);
    let all_ids: Vec<String> = all.iter().map(meta_id).collect();
    for cut in [1usize, 999, 3_818, 5_790] {
        let (_, head) = read_events(&url, None, cut).await;
        let id = head.last().unwrap().id.clone().unwrap();
        let (_, tail) = read_events(&url, Some(&id), 5_796 - cut).await;
        let mut joined: Vec<String> = head.iter().map(meta_id).collect();
        joined.extend(tail.iter().map(meta_id));
        assert_eq!(joined, all_ids, "resume after {cut} events");
    }
}

#[tokio::test]
async fn since_selects_by_time_and_garbage_is_a_json_400() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&[], dir.path());
    let (_, events) = read_events(
        &up.url("/v2/stream/recentchange?since=2023-01-01T00:00:00Z"),
        None,
        100,
    )
    .await;
    assert_eq!(events.len(), 100);
    assert!(events.iter().all(|e| {
        let v: serde_json::Value = serde_json::from_slice(&e.data).unwrap();
        v["meta"]["dt"].as_str().unwrap().starts_with("2023-07-29")
    }));
    let resp = reqwest::get(up.url("/v2/stream/recentchange?since=yesterday-ish"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "invalid_timestamp");
    assert!(body["detail"].as_str().unwrap().contains("yesterday-ish"));
}

#[tokio::test]
async fn unknown_streams_and_bad_ids_are_refused_like_the_real_service() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&[], dir.path());
    let resp = reqwest::get(up.url("/v2/stream/recentchange,nope"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["detail"], "Invalid streams: nope");

    let client = reqwest::Client::new();
    let resp = client
        .get(up.url("/v2/stream/recentchange"))
        .header("last-event-id", "garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = client
        .get(up.url("/v2/stream/recentchange"))
        .header(
            "last-event-id",
            r#"[{"topic":"eqiad.mediawiki.page-delete","partition":0,"offset":0}]"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn accept_json_gives_ndjson_with_canonical_stream_names() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&[], dir.path());
    let resp = reqwest::Client::new()
        .get(up.url("/v2/stream/page-delete"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let mut body = resp.bytes_stream();
    let mut text = Vec::new();
    while text.iter().filter(|b| **b == b'\n').count() < 3 {
        match tokio::time::timeout(Duration::from_secs(30), body.next()).await {
            Ok(Some(Ok(c))) => text.extend_from_slice(&c),
            _ => break,
        }
    }
    assert_eq!(text[0], b'\n');
    let lines: Vec<serde_json::Value> = text[1..]
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|v| v["meta"]["stream"] == "mediawiki.page-delete")
    );
}

#[tokio::test]
async fn connection_limits_and_rejections_answer_with_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(
        &[
            "--per-ip-limit",
            "1",
            "--reject-every",
            "3",
            "--reject-status",
            "429",
        ],
        dir.path(),
    );
    let url = up.url("/v2/stream/recentchange");
    // Connection 1 stays open; connection 2 is over the per-IP limit.
    let first = reqwest::get(&url).await.unwrap();
    assert_eq!(first.status(), 200);
    let second = reqwest::get(&url).await.unwrap();
    assert_eq!(second.status(), 429);
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(body["type"], "too_many_requests");
    drop(first);
    // Connection 3 is rejected by --reject-every 3.
    let third = reqwest::get(&url).await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.text().await.unwrap().contains("--reject-every"));
}

#[tokio::test]
async fn inputs_load_from_files_in_their_recorded_formats() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = support::fixtures().join("real/wiki_visualizer_example.events");
    let pretty = support::fixtures().join("real/protsack-eventstream-client_page-delete.json");
    let up = replay(
        &[
            "--input",
            transcript.to_str().unwrap(),
            "--input",
            pretty.to_str().unwrap(),
        ],
        dir.path(),
    );
    let (_, rc) = read_events(&up.url("/v2/stream/recentchange"), None, 3).await;
    assert_eq!(rc.len(), 3);
    let (_, del) = read_events(&up.url("/v2/stream/mediawiki.page-delete"), None, 2).await;
    assert_eq!(del.len(), 2);
}
