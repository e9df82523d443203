//! Media flags: `wikiwatch run --media-api` asks a fake MediaWiki API (an
//! axum server inside this test) which files each hashtag edit added. Nothing
//! contacts a live wiki.

use crate::support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde_json::{Value, json};
use support::{replay, run, wait_for};

/// rc events on enwiki: (rc id, new rev, old rev, summary).
const EDITS: &[(i64, i64, Option<i64>, &str)] = &[
    (1, 101, Some(100), "photo #WPWP"),     // adds Apple.jpg (BITMAP)
    (2, 201, Some(200), "clip #WPWP"),      // adds Clip.webm (VIDEO)
    (3, 301, None, "new page #WPWP"),       // new page with Song.ogg (AUDIO)
    (4, 401, Some(400), "no change #WPWP"), // keeps Old.png: nothing added
    (5, 501, Some(500), "flaky #WPWP"),     // first answer is a 500, then no files
];

fn events() -> String {
    let mut out = String::new();
    for (i, (rc, new, old, summary)) in EDITS.iter().enumerate() {
        let mut revision = json!({ "new": new });
        if let Some(o) = old {
            revision["old"] = json!(o);
        }
        let v = json!({
            "$schema": "/mediawiki/recentchange/1.0.0",
            "meta": {
                "uri": format!("https://en.wikipedia.org/wiki/P{rc}"),
                "request_id": format!("r{i}"),
                "id": format!("10000000-0000-4000-8000-{:012}", i + 1),
                "dt": format!("2024-05-01T00:00:0{i}Z"),
                "domain": "en.wikipedia.org",
                "stream": "mediawiki.recentchange",
                "topic": "eqiad.mediawiki.recentchange",
                "partition": 0,
                "offset": i + 1,
            },
            "id": rc,
            "type": if old.is_some() { "edit" } else { "new" },
            "namespace": 0,
            "title": format!("P{rc}"),
            "comment": summary,
            "timestamp": 1_714_521_600 + i as i64,
            "user": "Uploader",
            "bot": false,
            "length": { "new": 10 },
            "revision": revision,
            "server_name": "en.wikipedia.org",
            "wiki": "enwiki",
        });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

#[derive(Clone, Default)]
struct Fake {
    requests: Arc<AtomicUsize>,
    flaky_failures: Arc<AtomicUsize>,
}

async fn api(
    State(fake): State<Fake>,
    Path(domain): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    fake.requests.fetch_add(1, Ordering::Relaxed);
    assert_eq!(domain, "en.wikipedia.org");
    match q.get("action").map(String::as_str) {
        Some("parse") => {
            let rev: i64 = q["oldid"].parse().unwrap();
            if rev == 501 && fake.flaky_failures.fetch_add(1, Ordering::Relaxed) == 0 {
                return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
            }
            let images: &[&str] = match rev {
                101 => &["Apple.jpg", "Old.png"],
                100 => &["Old.png"],
                201 => &["Clip.webm"],
                301 => &["Song.ogg"],
                401 | 400 => &["Old.png"],
                _ => &[],
            };
            axum::Json(json!({"parse": {"title": "x", "images": images}})).into_response()
        }
        Some("query") => {
            let pages: Vec<Value> = q["titles"]
                .split('|')
                .map(|t| {
                    let mediatype = match t {
                        "File:Apple.jpg" | "File:Old.png" => "BITMAP",
                        "File:Clip.webm" => "VIDEO",
                        "File:Song.ogg" => "AUDIO",
                        _ => "UNKNOWN",
                    };
                    json!({"title": t, "imageinfo": [{"mediatype": mediatype}]})
                })
                .collect();
            axum::Json(json!({"batchcomplete": true, "query": {"pages": pages}})).into_response()
        }
        _ => axum::Json(json!({"error": {"code": "badvalue"}})).into_response(),
    }
}

#[tokio::test]
async fn media_flags_come_from_the_wiki_api_with_retries() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Fake::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/{domain}/w/api.php", get(api))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let file = dir.path().join("media.ndjson");
    std::fs::write(&file, events()).unwrap();
    let up = replay(
        &["--pace", "fast", "--input", file.to_str().unwrap()],
        dir.path(),
    );
    let db = support::test_db(dir.path(), "m.db").await;
    let template = format!("http://{fake_addr}/{{domain}}/w/api.php");
    let wikiwatch = run(&up, &db, &["--media-api", &template], dir.path());
    let url = wikiwatch.url("/api/hashtags/edits?tags=wpwp&limit=100");
    let rows = wait_for(
        "every edit's media flags checked",
        Duration::from_secs(60),
        || async {
            let v: Value = reqwest::get(&url).await.ok()?.json().await.ok()?;
            let rows = v["rows"].as_array()?.clone();
            (rows.len() == EDITS.len() && rows.iter().all(|r| r["has_image"].is_boolean()))
                .then_some(rows)
        },
    )
    .await;
    let flags = |title: &str| {
        let r = rows.iter().find(|r| r["title"] == title).unwrap();
        (
            r["has_image"].as_bool().unwrap(),
            r["has_video"].as_bool().unwrap(),
            r["has_audio"].as_bool().unwrap(),
        )
    };
    assert_eq!(flags("P1"), (true, false, false));
    assert_eq!(flags("P2"), (false, true, false));
    assert_eq!(flags("P3"), (false, false, true));
    assert_eq!(
        flags("P4"),
        (false, false, false),
        "unchanged files add nothing"
    );
    assert_eq!(flags("P5"), (false, false, false), "retried after a 500");
    assert!(fake.flaky_failures.load(Ordering::Relaxed) >= 2);

    // The filters use the flags.
    let count = |q: &'static str| {
        let w = &wikiwatch;
        async move {
            let v: Value = reqwest::get(w.url(&format!("/api/hashtags/edits?tags=wpwp&{q}")))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["rows"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("image=1").await, 1);
    assert_eq!(count("video=1").await, 1);
    assert_eq!(count("audio=true").await, 1);
    assert_eq!(count("image=1&video=1").await, 0);

    // Once per edit: no further requests when everything is known.
    let before = fake.requests.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fake.requests.load(Ordering::Relaxed), before);
}
