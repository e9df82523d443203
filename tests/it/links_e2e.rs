//! The external-link log end to end: the replay server serves crafted events
//! (tests/fixtures/links_crafted.jsonl, see tests/fixtures/README.md) or
//! synthetic ones, `wikiwatch run` ingests them, and the tests read only the
//! HTTP API, exports and feeds.

use crate::support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{Proc, counter, get_json, replay, rows, run, status, test_db, wait_for, wait_links};

/// 19 events in the crafted fixture, making 23 link events.
const CRAFTED_EVENTS: u64 = 19;
const CRAFTED_LINK_EVENTS: i64 = 23;

fn crafted() -> String {
    support::test_fixture("links_crafted.jsonl")
}

async fn crafted_instance(dir: &Path, extra: &[&str]) -> (Proc, Proc) {
    let input = crafted();
    let up = replay(&["--pace", "fast", "--input", &input], dir);
    let db = test_db(dir, "w.db").await;
    let app = run(&up, &db, extra, dir);
    wait_links(&app, CRAFTED_EVENTS, CRAFTED_LINK_EVENTS).await;
    (up, app)
}

async fn json(p: &Proc, path: &str) -> Value {
    let resp = reqwest::get(p.url(path)).await.unwrap();
    let code = resp.status();
    let v: Value = resp.json().await.unwrap();
    assert!(code.is_success(), "{path}: {code} {v}");
    v
}

fn events(v: &Value) -> Vec<Value> {
    v["events"].as_array().cloned().unwrap_or_default()
}

fn urls(v: &Value) -> HashSet<String> {
    events(v)
        .iter()
        .map(|e| e["url"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn provenance_matching_deletions_and_signals() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = crafted_instance(dir.path(), &[]).await;

    let all = json(&app, "/api/links/events?provenance=all&limit=1000").await;
    let all = events(&all);
    assert_eq!(all.len(), CRAFTED_LINK_EVENTS as usize);
    let find = |url: &str, action: &str| {
        all.iter()
            .find(|e| e["url"] == url && e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} event for {url}"))
            .clone()
    };
    // Links event before its recentchange: paired, with the rc id.
    let x = find("https://www.apa.org/x", "added");
    assert_eq!(x["provenance"], "edit");
    assert_eq!(x["rc_id"], 501);
    // Recentchange first.
    let j = find(
        "https://www-jstor-org.wikipedialibrary.idm.oclc.org/stable/1",
        "added",
    );
    assert_eq!(j["provenance"], "edit");
    assert_eq!(j["rc_id"], 502);
    // Never paired: a template refresh credited to Carol.
    let z = find("https://www.apa.org/z", "added");
    assert_eq!(z["provenance"], "propagated");
    assert_eq!(z["rc_id"], Value::Null);
    // No performer.
    let c = find("http://sub.test.com/c", "added");
    assert_eq!(c["provenance"], "system");
    assert_eq!(c["performer"], Value::Null);
    // IP editor kind.
    assert_eq!(
        find("http://spam.example/offer0", "added")["editor_kind"],
        "ip"
    );

    // Label boundaries: apa.org never matches iaapa.org.
    let apa = json(
        &app,
        "/api/links/events?domain=apa.org&provenance=all&limit=100",
    )
    .await;
    let apa_urls = urls(&apa);
    assert!(apa_urls.contains("https://www.apa.org/x"));
    assert!(apa_urls.contains("https://www.apa.org/z"));
    assert!(
        !apa_urls.iter().any(|u| u.contains("iaapa")),
        "{apa_urls:?}"
    );
    // The archived copy of apa.org/x counts for apa.org.
    assert!(apa_urls.contains("https://web.archive.org/web/2021/https://www.apa.org/x"));
    // A LinkSearch-style URL prefix (its length is a bound parameter, which
    // PostgreSQL must receive as the type substr takes).
    let by_prefix = urls(
        &json(
            &app,
            "/api/links/events?prefix=https://www.apa.org/&provenance=all",
        )
        .await,
    );
    assert!(by_prefix.contains("https://www.apa.org/x"), "{by_prefix:?}");
    assert!(by_prefix.contains("https://www.apa.org/z"), "{by_prefix:?}");
    assert!(
        by_prefix
            .iter()
            .all(|u| u.contains("www.apa.org/") && !u.contains("iaapa")),
        "{by_prefix:?}"
    );
    let iaapa = json(&app, "/api/links/events?domain=iaapa.org&provenance=all").await;
    assert_eq!(urls(&iaapa).len(), 1);
    // test.com never matches test.com.evil.example.
    let test = json(
        &app,
        "/api/links/events?domain=test.com&provenance=all&action=added",
    )
    .await;
    assert_eq!(
        urls(&test),
        HashSet::from([
            "https://test.com/a".to_owned(),
            "http://sub.test.com/c".to_owned()
        ])
    );
    // A LinkSearch pattern and a host.
    let pat = json(
        &app,
        "/api/links/events?pattern=*.test.com/c&provenance=all",
    )
    .await;
    assert_eq!(
        urls(&pat),
        HashSet::from(["http://sub.test.com/c".to_owned()])
    );
    let host = json(
        &app,
        "/api/links/events?host=test.com&provenance=all&action=added",
    )
    .await;
    assert_eq!(
        urls(&host),
        HashSet::from(["https://test.com/a".to_owned()])
    );

    // Proxied and archived links count for their target, or not.
    let added = |q: &'static str| {
        let app = &app;
        async move {
            json(app, &format!("/api/links/domains/jstor.org?{q}")).await["added"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(added("").await, 4);
    assert_eq!(added("wrappers=exclude").await, 2);
    assert_eq!(added("wrappers=only").await, 2);

    // Default reports count edits only; provenance=all includes the rest.
    let r = json(&app, "/api/links/domains/apa.org").await;
    assert_eq!(r["added"], 2, "{r}");
    assert_eq!(r["removed"], 1, "the page deletion removes x: {r}");
    let r_all = json(&app, "/api/links/domains/apa.org?provenance=all").await;
    assert_eq!(r_all["added"], 3);
    // Present now: z (Gamma) and the archived x (Epsilon); x on Alpha was deleted.
    assert_eq!(r_all["present"], 2);
    assert!(r_all["series"].as_array().is_some_and(|s| !s.is_empty()));

    // Page deletion: one page_deleted event per link the page had.
    let del = json(
        &app,
        "/api/links/events?action=page_deleted&provenance=all&limit=100",
    )
    .await;
    let del = events(&del);
    assert_eq!(del.len(), 5);
    assert!(
        del.iter()
            .all(|e| e["page_title"] == "Alpha" && e["performer"] == "Admin")
    );
    let hist = json(&app, "/api/links/pages/enwiki/Alpha?provenance=all").await;
    assert_eq!(events(&hist).len(), 10);

    // Spam signals: one IP, three wikis, nobody else.
    let spam = json(&app, "/api/links/domains/spam.example").await;
    let s = &spam["signals"];
    assert_eq!(s["additions"], 4, "{s}");
    assert_eq!(s["users"], 1);
    assert_eq!(s["wikis"], 3);
    let flags: Vec<String> = s["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    assert!(flags.iter().any(|f| f.contains("one editor")), "{flags:?}");
    assert!(flags.iter().any(|f| f.contains("only by IP")), "{flags:?}");
    let quiet = json(&app, "/api/links/domains/test.com").await;
    assert!(
        !quiet["signals"]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().contains("only by IP"))
    );

    // The user view and ranked lists.
    let bob = json(&app, "/api/links/users/Bob").await;
    let d = &bob["domains"][0];
    assert_eq!(
        (d["domain"].as_str(), d["added"].as_i64()),
        (Some("jstor.org"), Some(3))
    );
    let top = json(&app, "/api/links/top?by=domain&window=all&provenance=all").await;
    let first_two: HashSet<&str> = top["rows"].as_array().unwrap()[..2]
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        first_two,
        HashSet::from(["jstor.org", "spam.example"]),
        "{top}"
    );

    // Pages render and escape.
    for path in [
        "/links?domain=apa.org",
        "/links/domain/jstor.org",
        "/links/user/Bob",
        "/links/page/enwiki/Alpha?provenance=all",
        "/links/docs",
        "/links/collections",
        "/",
    ] {
        support::get_text(&app.url(path)).await;
    }
    let html = support::get_text(&app.url("/links?provenance=all&limit=100")).await;
    assert!(html.contains("=HYPERLINK(%22x%22)") || html.contains("HYPERLINK"));
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn bad_parameters_are_json_400s_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let db = test_db(dir.path(), "w.db").await;
    let app = run(&up, &db, &[], dir.path());
    for (q, param) in [
        ("/api/links/events?action=bogus", "action"),
        ("/api/links/events?provenance=maybe", "provenance"),
        ("/api/links/events?from=yesterday", "from"),
        ("/api/links/events?from=2026-02-02&to=2026-02-01", "to"),
        ("/api/links/events?limit=0", "limit"),
        ("/api/links/events?cursor=zzz", "cursor"),
        ("/api/links/events?domain=a/b", "domain"),
        ("/api/links/events?pattern=ex*ample.org", "pattern"),
        ("/api/links/events?prefix=jstor.org", "prefix"),
        ("/api/links/events?namespace=main", "namespace"),
        ("/api/links/events?wiki=en%20wiki", "wiki"),
        ("/api/links/events?frmo=2026-01-01", "query"),
        ("/api/links/events?format=xml", "format"),
        ("/api/links/top?by=colour", "by"),
        ("/api/links/top?window=forever", "window"),
        ("/api/links/domains/apa.org?bucket=year", "bucket"),
        ("/v2/stream/links?granularity=word", "granularity"),
    ] {
        let resp = reqwest::get(app.url(q)).await.unwrap();
        assert_eq!(resp.status(), 400, "{q}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["parameter"], param, "{q}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // The admin API is off without a token: a JSON 404.
    let resp = reqwest::Client::new()
        .put(app.url("/api/admin/links/collections/x"))
        .body(r#"{"patterns":["a.org"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
    // The OpenAPI document lists the link paths.
    let doc = json(&app, "/api/openapi.json").await;
    for p in [
        "/api/links/events",
        "/api/links/domains/{domain}",
        "/v2/stream/links",
    ] {
        assert!(doc["paths"][p].is_object(), "{p}");
    }
}

#[tokio::test]
async fn keyset_pagination_is_complete_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast", "--synth-events", "3000"], dir.path());
    let db = test_db(dir.path(), "w.db").await;
    let app = run(&up, &db, &[], dir.path());
    let s = wait_for("synthetic events", Duration::from_secs(60), || async {
        let s = status(&app).await?;
        (counter(&s, "events_committed") >= 3000 + 5796).then_some(s)
    })
    .await;
    let total = rows(&s, "link_events") as usize;
    assert!(total > 500, "{total}");
    let mut seen = HashSet::new();
    let mut last: Option<(i64, i64)> = None;
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/api/links/events?provenance=all&limit=37".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = json(&app, &path).await;
        for e in events(&page) {
            let key = (e["time_ms"].as_i64().unwrap(), e["id"].as_i64().unwrap());
            if let Some(prev) = last {
                assert!(key < prev, "not newest first: {key:?} after {prev:?}");
            }
            last = Some(key);
            assert!(seen.insert(key.1), "duplicate id {}", key.1);
        }
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    assert!(pages > 10);
    // The NDJSON export streams the same rows.
    let text = reqwest::get(app.url("/api/links/events?provenance=all&format=ndjson"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text.lines().count(), total);
}

#[tokio::test]
async fn csv_export_neutralises_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = crafted_instance(dir.path(), &[]).await;
    let resp = reqwest::get(app.url("/api/links/events?provenance=all&format=csv"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = resp.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("id,time,action,provenance,wiki"));
    assert_eq!(lines.len(), 1 + CRAFTED_LINK_EVENTS as usize);
    // No field may start with a formula character.
    for line in &lines[1..] {
        for field in line.split(',') {
            let f = field.trim_start_matches('"');
            assert!(
                !f.starts_with(['=', '+', '-', '@']),
                "unneutralised field {field:?} in {line}"
            );
        }
    }
    assert!(text.contains(",'=Gamma,"), "{text}");
    assert!(text.contains(",'+Delta,"), "{text}");
    // Report tables export too.
    let series =
        reqwest::get(app.url("/api/links/domains/jstor.org?format=csv&table=series&bucket=day"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(series.starts_with("period,added,removed,net"));
    assert!(series.contains("2026-02-01,4,1,3"), "{series}");
}

/// Reads `n` SSE messages (id, data) from `url`.
async fn sse(url: &str, last_event_id: Option<&str>, n: usize) -> Vec<(String, Value)> {
    use futures_util::StreamExt;
    let mut req = reqwest::Client::new().get(url);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while out.len() < n {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .unwrap_or_else(|_| panic!("timed out with {} of {n} messages", out.len()))
            .expect("stream ended")
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut id, mut data, mut event) = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                }
            }
            if !data.is_empty() {
                assert_eq!(event, "message");
                out.push((id, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    out
}

#[tokio::test]
async fn link_feed_filters_and_resumes_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = crafted_instance(dir.path(), &[]).await;
    let url = app.url("/v2/stream/links?domain=jstor.org");
    // From the start of the store: 4 additions and 1 removal of jstor.org.
    let first = sse(&url, Some("0"), 5).await;
    let got: Vec<(String, String)> = first
        .iter()
        .map(|(_, d)| {
            (
                d["action"].as_str().unwrap().to_owned(),
                d["domain"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(got.iter().all(|(_, d)| d == "jstor.org"), "{got:?}");
    assert_eq!(got.iter().filter(|(a, _)| a == "added").count(), 4);
    assert_eq!(got.iter().filter(|(a, _)| a == "removed").count(), 1);
    assert!(
        first[0].0.starts_with("[{"),
        "EventStreams-style id: {}",
        first[0].0
    );
    assert_eq!(first[0].1["meta"]["stream"], "wikiwatch.links");
    // Resume after the second message: the third comes next.
    let resumed = sse(&url, Some(&first[1].0), 1).await;
    assert_eq!(resumed[0].1["id"], first[2].1["id"]);
    assert_eq!(resumed[0].0, first[2].0);
    // Per-edit granularity groups an event's links.
    let edits = sse(
        &app.url("/v2/stream/links?domain=jstor.org&granularity=edit"),
        Some("0"),
        1,
    )
    .await;
    assert_eq!(edits[0].1["added_links"].as_array().unwrap().len(), 3);
    assert_eq!(edits[0].1["rc_id"], 502);
}

#[tokio::test]
async fn new_url_feed_sends_each_target_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = crafted_instance(dir.path(), &[]).await;
    // Every URL in the fixture is first added once, except Dave's re-added
    // jstor.org/stable/3 and his archived copy of apa.org/x: 17 added events,
    // 15 new targets.
    let msgs = sse(&app.url("/v2/stream/new-urls"), Some("0"), 15).await;
    let targets: Vec<String> = msgs
        .iter()
        .map(|(_, d)| d["target"].as_str().unwrap().to_owned())
        .collect();
    let unique: HashSet<&String> = targets.iter().collect();
    assert_eq!(unique.len(), 15, "{targets:?}");
    assert_eq!(targets.last().unwrap(), "https://new.example/fresh");
    assert!(msgs.iter().all(|(_, d)| d["action"] == "added"));
    assert!(
        !msgs
            .iter()
            .any(|(_, d)| d["url"] == "https://web.archive.org/web/2021/https://www.apa.org/x")
    );
}

#[tokio::test]
async fn collections_from_config_and_admin_api() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("w.toml");
    std::fs::write(
        &config,
        r#"
[[link_collections]]
name = "JSTOR"
group = "TWL"
patterns = ["jstor.org"]
users = ["Bob"]
"#,
    )
    .unwrap();
    let config = config.display().to_string();
    let (_up, app) = crafted_instance(
        dir.path(),
        &["--config", &config, "--admin-token", "s3cret"],
    )
    .await;

    let jstor = json(&app, "/api/links/collections/JSTOR").await;
    assert_eq!(
        (jstor["added"].as_i64(), jstor["removed"].as_i64()),
        (Some(4), Some(1))
    );
    let listed = json(&app, "/api/links/collections/JSTOR?only_listed_users=true").await;
    assert_eq!(listed["added"], 3);

    let client = reqwest::Client::new();
    let put = |token: Option<&'static str>| {
        let mut req = client
            .put(app.url("/api/admin/links/collections/APA"))
            .body(r#"{"patterns": ["apa.org"], "group": "TWL", "description": "APA"}"#);
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        req.send()
    };
    assert_eq!(put(None).await.unwrap().status(), 401);
    let wrong = put(Some("s3cre")).await.unwrap();
    assert_eq!(wrong.status(), 403);
    assert!(wrong.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(put(Some("s3cret")).await.unwrap().status(), 200);

    // A pattern added later shows its full history.
    let apa = json(&app, "/api/links/collections/APA").await;
    assert_eq!(apa["added"], 2, "{apa}");
    let list = json(&app, "/api/links/collections").await;
    assert_eq!(list["collections"].as_array().unwrap().len(), 2);
    let group = json(&app, "/api/links/collection-groups/TWL").await;
    assert_eq!(group["added"], 6);
    let page = reqwest::get(app.url("/links/collections/JSTOR"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("only users on the list")
    );

    let del = client
        .delete(app.url("/api/admin/links/collections/APA"))
        .header("Authorization", "Bearer s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    let gone = reqwest::get(app.url("/api/links/collections/APA"))
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let _ = get_json(&app.url("/api/status")).await;
}
