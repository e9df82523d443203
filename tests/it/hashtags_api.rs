//! Hashtag API, exports, feeds and pages, black-box: the replay server and
//! `wikiwatch run` as separate processes, over a fixture of synthesized events
//! with known answers, over the bundled real recordings (#petscan) and over
//! synthetic campaign traffic.

use crate::support;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
mod fixture;

use fixture::{FORMULA, HOSTILE, fixture_app, fixture_ndjson};
use support::{Proc, WIKIDATA, replay, run, test_db, wait_committed};

async fn get(p: &Proc, path: &str) -> (u16, String) {
    let r = reqwest::get(p.url(path)).await.expect("request");
    let code = r.status().as_u16();
    (code, r.text().await.expect("body"))
}

async fn json(p: &Proc, path: &str) -> Value {
    let (code, body) = get(p, path).await;
    assert_eq!(code, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Every edit of a query through the JSON API, following `next` tokens.
async fn all_pages(p: &Proc, query: &str, limit: usize) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut path = format!("/api/hashtags/edits?{query}&limit={limit}");
    loop {
        let v = json(p, &path).await;
        pages += 1;
        let got = v["rows"].as_array().unwrap();
        assert!(got.len() <= limit);
        rows.extend(got.iter().cloned());
        match v["next"].as_str() {
            Some(c) => path = format!("/api/hashtags/edits?{query}&limit={limit}&cursor={c}"),
            None => break,
        }
        assert!(pages < 10_000, "pagination does not end");
    }
    (rows, pages)
}

/// A minimal CSV reader (quotes, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cell.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cell.push(c);
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut cell)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            c => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// Decodes the character references askama writes (`&#60;`, `&amp;`, …).
fn unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(j) = rest.find(';').filter(|&j| j < 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..j];
        let c = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix('#')
                .and_then(|n| n.parse::<u32>().ok())
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[j + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The sum of the `edits` of a `/api/hashtags/top` answer's rows.
fn edits_sum(top: &Value) -> i64 {
    top["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["edits"].as_i64().unwrap())
        .sum()
}

fn count(v: &Value) -> usize {
    v["rows"].as_array().map(Vec::len).unwrap_or(0)
}

#[tokio::test]
async fn filters_and_combinations_have_the_known_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = fixture_app(dir.path()).await;
    let n = |q: &'static str| {
        let app = &app;
        async move { count(&json(app, &format!("/api/hashtags/edits?{q}&limit=1000")).await) }
    };
    // any: an edit with both tags counts once.
    assert_eq!(n("tags=1lib1ref,wpwp").await, 5);
    // all: the same edit must carry both; E2 shares E1's rc id on another wiki.
    assert_eq!(n("tags=1lib1ref,wpwp&mode=all").await, 1);
    let all = json(&app, "/api/hashtags/edits?tags=wpwp,%231LIB1REF&mode=all").await;
    assert_eq!(all["rows"][0]["wiki"], "enwiki");
    assert_eq!(all["rows"][0]["rc_id"], 100);
    // Case-insensitive, # optional.
    assert_eq!(n("tags=%231LIB1ref").await, 3);
    assert_eq!(n("tag=1Lib1Ref").await, 3);
    // The end date is inclusive; the next midnight is not.
    assert_eq!(n("tags=1lib1ref&start=2024-03-01&end=2024-03-02").await, 2);
    assert_eq!(n("tags=1lib1ref&start=2024-03-03&end=2024-03-03").await, 1);
    // Wikis: wildcard, database name, domain, several.
    assert_eq!(n("tags=1lib1ref&wiki=*.wikipedia.org").await, 2);
    assert_eq!(n("tags=1lib1ref&wiki=frwikisource").await, 1);
    assert_eq!(n("tags=1lib1ref&wiki=fr.wikisource.org").await, 1);
    assert_eq!(n("tags=1lib1ref&wiki=fr.*").await, 2);
    assert_eq!(n("tags=wpwp&wiki=enwiki,dewiki").await, 2);
    // Users, namespaces, types, summary text.
    assert_eq!(n("tags=wpwp&user=Bob").await, 1);
    assert_eq!(n("tags=1lib1ref,wpwp&user=Bob|Dave").await, 3);
    assert_eq!(n("tags=1lib1ref&namespace=104").await, 1);
    assert_eq!(n("tags=1lib1ref,wpwp&type=new").await, 1);
    assert_eq!(n("tags=1lib1ref&text=TRANSCRIPTION").await, 1);
    // Combined.
    assert_eq!(
        n("tags=1lib1ref,wpwp&wiki=*.wikipedia.org&user=Bob&end=2024-03-01").await,
        1
    );
    // Media flags are unknown until checked: nothing matches yet.
    assert_eq!(n("tags=1lib1ref,wpwp&image=1").await, 0);

    // Stats count distinct edits.
    let s = json(&app, "/api/hashtags/stats?tags=1lib1ref,wpwp").await;
    assert_eq!(s["edits"], 5);
    assert_eq!(s["users"], 4);
    assert_eq!(s["wikis"], 4);
    assert_eq!(s["pages"], 5);
    assert_eq!(s["pages_created"], 1);
    assert_eq!(s["bytes_added"], 50 + 500 + 10);
    assert_eq!(s["bytes_removed"], 20);
    assert_eq!(s["first"], "2024-03-01T10:00:00.000Z");
    assert_eq!(s["last"], "2024-03-05T08:00:00.000Z");

    // Time series: zero-filled days, the multi-tag edit once.
    let t = json(&app, "/api/hashtags/timeseries?tags=1lib1ref,wpwp").await;
    assert_eq!(t["granularity"], "day");
    let counts: Vec<i64> = t["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["edits"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, vec![2, 1, 1, 0, 1]);
    let t = json(
        &app,
        "/api/hashtags/timeseries?tags=wpwp&granularity=month&start=2024-02-01&end=2024-04-30",
    )
    .await;
    let periods: Vec<(&str, i64)> = t["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["period"].as_str().unwrap(), b["edits"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        periods,
        vec![("2024-02", 0), ("2024-03", 3), ("2024-04", 0)]
    );

    // Top lists.
    let top = json(&app, "/api/hashtags/top?tags=1lib1ref,wpwp&by=user").await;
    assert_eq!(
        top["rows"][0],
        json!({"key": "Bob", "wiki": null, "edits": 2})
    );
    assert_eq!(count(&top), 4);
    let top = json(&app, "/api/hashtags/top?tags=1lib1ref,wpwp&by=wiki").await;
    assert_eq!(top["rows"][0]["key"], "fr.wikipedia.org");
    assert_eq!(top["rows"][0]["edits"], 2);
    let top = json(&app, "/api/hashtags/top?tags=1lib1ref,wpwp&by=page&limit=2").await;
    assert_eq!(count(&top), 2);

    // Trending, relative to the newest stored edit (5 March 08:00).
    let tr = json(&app, "/api/hashtags/trending?window=24h").await;
    // 24 hours back from 5 March 08:00 (whole hours) reach E5 (4 March 12:00).
    assert_eq!(
        tr["rows"],
        json!([
            {"key": "hostile", "tag": "Hostile", "edits": 1, "previous": 0},
            {"key": "wpwp", "tag": "WPWP", "edits": 1, "previous": 0},
        ])
    );
    let tr = json(&app, "/api/hashtags/trending?window=7d").await;
    let keys: Vec<(&str, i64)> = tr["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["edits"].as_i64().unwrap()))
        .collect();
    assert_eq!(keys, vec![("1lib1ref", 3), ("wpwp", 3), ("hostile", 1)]);

    // Tag vocabulary: first spelling kept, uses counted, prefix search.
    let tags = json(&app, "/api/hashtags/tags?prefix=%231LI").await;
    assert_eq!(count(&tags), 1);
    assert_eq!(tags["rows"][0]["tag"], "1Lib1Ref");
    assert_eq!(tags["rows"][0]["uses"], 3);
    assert_eq!(count(&json(&app, "/api/hashtags/tags").await), 3);
}

#[tokio::test]
async fn bad_parameters_are_400_json_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = fixture_app(dir.path()).await;
    for (path, param) in [
        ("/api/hashtags/edits?tags=a&mode=some", "mode"),
        ("/api/hashtags/edits?tags=a&start=2024-02-30", "start"),
        (
            "/api/hashtags/edits?tags=a&start=2024-03-02&end=2024-03-01",
            "end",
        ),
        ("/api/hashtags/edits?tags=a&limit=0", "limit"),
        ("/api/hashtags/edits?tags=a&cursor=nonsense", "cursor"),
        ("/api/hashtags/edits?tags=a&format=xml", "format"),
        ("/api/hashtags/edits?tags=a&wiki=bad%20wiki", "wiki"),
        ("/api/hashtags/edits?tags=a&namespace=main", "namespace"),
        ("/api/hashtags/edits?tags=a&type=upload", "type"),
        ("/api/hashtags/edits?tags=a&image=maybe", "image"),
        ("/api/hashtags/edits?tags=a%20b", "tags"),
        ("/api/hashtags/stats?tags=a&end=03/01/2024", "end"),
        (
            "/api/hashtags/timeseries?tags=a&granularity=week",
            "granularity",
        ),
        ("/api/hashtags/top?tags=a&by=country", "by"),
        ("/api/hashtags/trending?window=1y", "window"),
        ("/api/hashtags/tags?order=random", "order"),
        ("/hashtags/feed.atom?tags=a&mode=x", "mode"),
    ] {
        let (code, body) = get(&app, path).await;
        assert_eq!(code, 400, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        assert_eq!(v["parameter"], param, "{path}: {body}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // The search page shows the message instead, as a 400 page.
    let (code, body) = get(&app, "/hashtags?tags=a&start=yesterday").await;
    assert_eq!(code, 400);
    assert!(body.contains("start must be a date"));
}

#[tokio::test]
async fn exports_stream_every_row_with_formulas_neutralised() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = fixture_app(dir.path()).await;
    let r = reqwest::get(app.url("/api/hashtags/edits?tags=1lib1ref,wpwp,hostile&format=csv"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let text = r.text().await.unwrap();
    let rows = parse_csv(&text);
    assert_eq!(rows.len(), 1 + 6, "{text}");
    let header = &rows[0];
    for col in [
        "time",
        "wiki",
        "rc_id",
        "rev_id",
        "diff_url",
        "tags",
        "namespace",
        "size_change",
        "has_image",
        "has_video",
        "has_audio",
        "summary",
        "user",
        "title",
    ] {
        assert!(header.iter().any(|h| h == col), "missing column {col}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (summary, title, tags) = (col("summary"), col("title"), col("tags"));
    for row in &rows[1..] {
        assert_eq!(row.len(), header.len(), "{row:?}");
        for c in [summary, title, tags, col("user"), col("wiki")] {
            assert!(
                !row[c].starts_with(['=', '+', '-', '@', '\t', '\r']),
                "cell not neutralised: {:?}",
                row[c]
            );
        }
    }
    assert!(rows.iter().any(|r| r[summary] == format!("'{FORMULA}")));
    assert!(rows.iter().any(|r| r[summary] == "'+cmd @evil #WPWP"));
    assert!(rows.iter().any(|r| r[title] == "'@Home"));
    assert!(rows.iter().any(|r| r[summary] == HOSTILE));
    let e1 = rows.iter().find(|r| r[title] == "Apple").unwrap();
    assert_eq!(e1[tags], "1Lib1Ref WPWP");
    assert_eq!(e1[col("rc_id")], "100");
    assert_eq!(e1[col("size_change")], "50");
    assert_eq!(
        e1[col("diff_url")],
        "https://en.wikipedia.org/wiki/Special:Diff/9000"
    );

    // NDJSON: one JSON edit per line, same rows.
    let text =
        reqwest::get(app.url("/api/hashtags/edits?tags=1lib1ref,wpwp,hostile&format=ndjson"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect();
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().any(|l| l["summary"] == FORMULA));
    assert!(
        lines
            .iter()
            .all(|l| l["tags"].is_array() && l["time"].is_string())
    );

    // Small lists export too.
    let (code, csv) = get(
        &app,
        "/api/hashtags/top?tags=1lib1ref,wpwp&by=user&format=csv",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(parse_csv(&csv).len(), 1 + 4);
    let (_, csv) = get(
        &app,
        "/api/hashtags/timeseries?tags=1lib1ref,wpwp&format=csv",
    )
    .await;
    assert_eq!(parse_csv(&csv).len(), 1 + 5);
    let (_, nd) = get(&app, "/api/hashtags/tags?format=ndjson").await;
    assert_eq!(nd.lines().count(), 3);
}

#[tokio::test]
async fn hostile_summaries_render_as_text_and_feeds_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (_up, app) = fixture_app(dir.path()).await;
    for path in ["/hashtags?tags=hostile", "/hashtags/tag/Hostile"] {
        let (code, html) = get(&app, path).await;
        assert_eq!(code, 200, "{path}");
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        // The summary is there, as text.
        assert!(unescape(&html).contains(HOSTILE), "{path}");
    }
    // A hostile query is echoed escaped, too.
    let (_, html) = get(&app, "/hashtags?tags=hostile&text=%22%3E%3Cb%3Ex").await;
    assert!(!html.contains("\"><b>x"));

    // Results page: stats, chart container, tables, export links.
    let (_, html) = get(&app, "/hashtags?tags=1lib1ref,wpwp").await;
    for needle in [
        "id=\"stats\"",
        "<strong>5</strong>edits",
        "id=\"chart\"",
        "id=\"timeseries\"",
        "id=\"edits\"",
        "format=csv",
        "/static/uPlot.iife.min.js",
        "Top users",
    ] {
        assert!(html.contains(needle), "results page lacks {needle}");
    }
    let (code, js) = get(&app, "/static/uPlot.iife.min.js").await;
    assert_eq!(code, 200);
    assert!(js.contains("uPlot"));

    // Atom: valid XML, one entry per edit, summaries as text.
    let (code, xml) = get(&app, "/hashtags/feed.atom?tags=1lib1ref,wpwp,hostile").await;
    assert_eq!(code, 200);
    let doc = roxmltree::Document::parse(&xml).expect("Atom is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "feed");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2005/Atom")
    );
    let entries: Vec<_> = root
        .children()
        .filter(|n| n.tag_name().name() == "entry")
        .collect();
    assert_eq!(entries.len(), 6);
    let summaries: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.children().find(|c| c.tag_name().name() == "summary"))
        .filter_map(|s| s.text())
        .collect();
    assert!(summaries.contains(&HOSTILE));

    // Home page: the search box and trending tags, beside what was there.
    let (_, home) = get(&app, "/").await;
    assert!(home.contains("id=\"hashtag-search\""));
    assert!(home.contains("/hashtags/tag/wpwp"));
    assert!(home.contains("Stored"));
    let (code, _) = get(&app, "/hashtags/tags").await;
    assert_eq!(code, 200);
    let (code, docs) = get(&app, "/docs/hashtags").await;
    assert_eq!(code, 200);
    assert!(docs.contains("quickstatements"));
    let api = json(&app, "/api/openapi.json").await;
    for p in [
        "/api/hashtags/edits",
        "/api/hashtags/stats",
        "/api/hashtags/timeseries",
        "/api/hashtags/top",
        "/api/hashtags/trending",
        "/api/hashtags/tags",
    ] {
        assert!(api["paths"][p]["get"].is_object(), "OpenAPI lacks {p}");
    }
}

#[tokio::test]
async fn live_feed_sends_new_matching_edits() {
    use futures_util::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    // The replay server holds the fixture back until the feed is open: serve
    // it slowly (one event per 300 ms).
    let file = dir.path().join("fixture.ndjson");
    std::fs::write(&file, fixture_ndjson()).unwrap();
    let up = replay(
        &["--input", file.to_str().unwrap(), "--pace", "3/s"],
        dir.path(),
    );
    let db = test_db(dir.path(), "w.db").await;
    let app = run(&up, &db, &[WIKIDATA], dir.path());
    let resp = reqwest::get(app.url("/hashtags/live?tags=wpwp"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while text.matches("event: edit").count() < 2 {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("live edits within a minute")
            .expect("stream open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("\"tags\":[\"WPWP\"]") || text.contains("WPWP"));
}

// ------------------------------------------------------------------ real corpus

#[tokio::test]
async fn real_recordings_petscan_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let db = test_db(dir.path(), "w.db").await;
    let app = run(&up, &db, &[WIKIDATA], dir.path());
    wait_committed(&app, 5_796).await;
    let s = json(&app, "/api/hashtags/stats?tags=petscan").await;
    assert_eq!(s["edits"], 341);
    assert_eq!(s["users"], 3);
    assert_eq!(s["wikis"], 1);
    assert_eq!(s["pages"], 264);
    assert_eq!(s["bytes_added"], 130_808);
    assert_eq!(s["bytes_removed"], 15_516);
    assert_eq!(s["first"], "2018-03-07T16:16:17.000Z");
    assert_eq!(s["last"], "2018-03-07T17:01:29.000Z");
    let all = json(&app, "/api/hashtags/stats").await;
    assert_eq!(all["edits"], 344);
    // A tag alone is answered from per-tag aggregates; a date range reads the
    // edits. Both must agree.
    for path in [
        "/api/hashtags/stats?tags=petscan",
        "/api/hashtags/top?tags=petscan&by=user",
        "/api/hashtags/top?tags=petscan&by=wiki",
        "/api/hashtags/top?tags=petscan&by=page&limit=50",
        "/api/hashtags/timeseries?tags=petscan",
    ] {
        let whole = json(&app, path).await;
        let ranged = json(&app, &format!("{path}&start=2018-03-07&end=2018-03-07")).await;
        assert_eq!(whole, ranged, "{path}");
    }
    let top = json(&app, "/api/hashtags/top?tags=%23PetScan&by=wiki").await;
    assert_eq!(
        top["rows"],
        json!([{"key": "www.wikidata.org", "wiki": null, "edits": 341}])
    );
    let top = json(&app, "/api/hashtags/top?tags=petscan&by=user&limit=100").await;
    let sum = edits_sum(&top);
    assert_eq!(sum, 341);
    let t = json(&app, "/api/hashtags/timeseries?tags=petscan").await;
    assert_eq!(
        t["buckets"],
        json!([{"period": "2018-03-07", "start": "2018-03-07", "edits": 341}])
    );
    let tr = json(&app, "/api/hashtags/trending?window=24h").await;
    assert_eq!(tr["rows"][0]["key"], "petscan");
    assert_eq!(tr["rows"][0]["edits"], 341);
    let tags = json(&app, "/api/hashtags/tags").await;
    assert_eq!(tags["rows"][0]["key"], "petscan");
    assert_eq!(tags["rows"][0]["uses"], 341);

    // Keyset pagination covers every row once, newest first.
    let (rows, pages) = all_pages(&app, "tags=petscan", 50).await;
    assert_eq!(rows.len(), 341);
    assert_eq!(pages, 7);
    let ids: HashSet<String> = rows
        .iter()
        .map(|r| format!("{}:{}", r["wiki"], r["rc_id"]))
        .collect();
    assert_eq!(ids.len(), 341, "duplicates across pages");
    assert!(
        rows.windows(2)
            .all(|w| w[0]["time"].as_str() >= w[1]["time"].as_str())
    );

    let (code, csv) = get(&app, "/api/hashtags/edits?tags=petscan&format=csv").await;
    assert_eq!(code, 200);
    assert_eq!(parse_csv(&csv).len(), 342);
    let (_, html) = get(&app, "/hashtags?tags=petscan").await;
    assert!(html.contains("<strong>341</strong>edits"));
    assert!(html.contains("id=\"next-page\""));
}

// ------------------------------------------------------------------ synthetic

#[tokio::test]
async fn synthetic_campaigns_are_consistent_across_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    // The bundled recordings plus 20,000 synthetic events.
    let up = replay(&["--pace", "fast", "--synth-events", "20000"], dir.path());
    let db = test_db(dir.path(), "w.db").await;
    let app = run(&up, &db, &[WIKIDATA], dir.path());
    wait_committed(&app, 20_000 + 5_796).await;
    let edits = |q: &'static str| {
        let app = &app;
        async move {
            json(app, &format!("/api/hashtags/stats?{q}")).await["edits"]
                .as_i64()
                .unwrap()
        }
    };
    let lib = edits("tags=1lib1ref").await;
    let wpwp = edits("tags=wpwp").await;
    let both = edits("tags=1lib1ref,wpwp&mode=all").await;
    let either = edits("tags=1lib1ref,wpwp").await;
    assert!(
        lib > 50 && wpwp > 50,
        "synthetic campaigns present: {lib} {wpwp}"
    );
    assert_eq!(either, lib + wpwp - both);

    // Wikis partition the edits.
    let top = json(&app, "/api/hashtags/top?tags=1lib1ref&by=wiki&limit=1000").await;
    let sum = edits_sum(&top);
    assert_eq!(sum, lib);
    let wp = edits("tags=1lib1ref&wiki=*.wikipedia.org").await;
    let not_wp: i64 = top["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["key"].as_str().unwrap().ends_with(".wikipedia.org"))
        .map(|r| r["edits"].as_i64().unwrap())
        .sum();
    assert_eq!(wp + not_wp, lib);

    // Time series sums to the total; the export has every row.
    let t = json(
        &app,
        "/api/hashtags/timeseries?tags=1lib1ref,wpwp&granularity=day",
    )
    .await;
    let sum: i64 = t["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["edits"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, either);
    let (_, nd) = get(&app, "/api/hashtags/edits?tags=1lib1ref,wpwp&format=ndjson").await;
    assert_eq!(nd.lines().count() as i64, either);
    let (rows, _) = all_pages(&app, "tags=1lib1ref,wpwp", 97).await;
    assert_eq!(rows.len() as i64, either);
    let keys: HashSet<String> = rows
        .iter()
        .map(|r| format!("{}:{}", r["wiki"], r["rc_id"]))
        .collect();
    assert_eq!(keys.len() as i64, either);
}
