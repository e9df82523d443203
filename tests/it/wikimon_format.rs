//! The WikiMon v2 message, field by field, for real recorded events
//! (`tests/fixtures/wikimon/events.ndjson`, see its PROVENANCE.md), through
//! `wikiwatch parse --format wikimon`; GeoIP with a real DB-IP Lite file; and
//! namespace names learnt from a fake MediaWiki siteinfo API and cached in the
//! store.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use support::run_with_stdin;

fn events() -> String {
    std::fs::read_to_string(support::test_fixture("wikimon/events.ndjson")).expect("fixture")
}

fn messages(args: &[&str], input: &str) -> Vec<Value> {
    let mut all = vec!["parse", "--format", "wikimon"];
    all.extend_from_slice(args);
    run_with_stdin(&all, input)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

const KEYS: [&str; 18] = [
    "action",
    "change_size",
    "hashtags",
    "is_anon",
    "is_bot",
    "is_minor",
    "is_new",
    "is_unpatrolled",
    "mentions",
    "ns",
    "page_title",
    "parent_rev_id",
    "parsed_summary",
    "rev_id",
    "section",
    "summary",
    "url",
    "user",
];

#[test]
fn real_events_field_by_field() {
    let input = events();
    let raw_lines: Vec<&str> = input.lines().collect();
    let out = messages(&[], &input);
    assert_eq!(out.len(), 11, "one line per event");

    // Every message has exactly WikiMon's keys, sorted in the text itself.
    let raw = run_with_stdin(&["parse", "--format", "wikimon"], &input);
    for (line, v) in raw.lines().zip(&out) {
        if v.is_null() {
            continue;
        }
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, KEYS, "{line}");
        let mut pos = 0;
        for k in KEYS {
            let at = line[pos..]
                .find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} out of order in {line}"));
            pos += at;
        }
    }

    // 1: named editor, edit in ns 4.
    assert_eq!(
        out[0],
        json!({
            "action": "edit", "change_size": 62, "hashtags": [], "is_anon": false,
            "is_bot": false, "is_minor": false, "is_new": false, "is_unpatrolled": false,
            "mentions": [], "ns": "Project",
            "page_title": "Wikipedia:WikiProject Deletion sorting/Games",
            "parent_rev_id": "1167689146", "rev_id": "1167689319",
            "parsed_summary": out[0]["summary"], "section": "",
            "summary": out[0]["summary"],
            "url": "https://en.wikipedia.org/w/index.php?diff=1167689319&oldid=1167689146",
            "user": "Piotrus"
        })
    );
    let src: Value = serde_json::from_str(raw_lines[0]).expect("event");
    assert_eq!(out[0]["summary"], src["comment"]);

    // 2: a per-wiki namespace is a number without siteinfo; section parsed.
    assert_eq!(out[1]["ns"], "118");
    assert_eq!(out[1]["section"], "Career");
    assert_eq!(out[1]["parsed_summary"], "");
    assert_eq!(out[1]["change_size"], 434);

    // 3, 4: IP editors.
    assert_eq!(out[2]["user"], "87.12.215.232");
    assert_eq!(out[2]["is_anon"], true);
    assert_eq!(out[2]["ns"], "Main");
    assert_eq!(
        out[2]["section"],
        "League champions, runners-up and play-off finalists"
    );
    assert!(out[2].get("geo_ip").is_none(), "no --geoip, no geo_ip");
    assert_eq!(out[3]["user"], "2600:8801:8A00:980:8549:C495:5501:6623");
    assert_eq!(out[3]["is_anon"], true);
    assert_eq!(out[3]["change_size"], 7);

    // 5: bot, shrinking edit.
    assert_eq!(out[4]["is_bot"], true);
    assert_eq!(out[4]["change_size"], -265);
    assert_eq!(out[4]["rev_id"], "1167689460");
    assert_eq!(out[4]["parent_rev_id"], "1167627556");

    // 6: page creation with only new length/revision, unknown namespace.
    assert_eq!(
        out[5],
        json!({
            "action": "new", "change_size": 22, "hashtags": [], "is_anon": false,
            "is_bot": false, "is_minor": false, "is_new": true, "is_unpatrolled": false,
            "mentions": [], "ns": "1198",
            "page_title": "Translations:North-West Russia Wiki-Historians User Group/Events/2017/7/ko",
            "parent_rev_id": null, "rev_id": "30383898",
            "parsed_summary": "Created page with \"위키미디어 공용\"", "section": "",
            "summary": "Created page with \"위키미디어 공용\"",
            "url": "https://meta.wikimedia.org/w/index.php?oldid=30383898",
            "user": "리듬"
        })
    );

    // 7: new user from auth.wikimedia.org.
    assert_eq!(
        out[6],
        json!({
            "action": "newusers", "change_size": 0, "hashtags": [], "is_anon": false,
            "is_bot": false, "is_minor": false, "is_new": false, "is_unpatrolled": false,
            "mentions": [], "ns": "User", "page_title": "Special:Log/newusers",
            "parent_rev_id": null, "rev_id": null, "parsed_summary": "", "section": "",
            "summary": "", "url": "create", "user": "ChristianKaenick"
        })
    );

    // 8: categorize: nothing.
    assert_eq!(out[7], Value::Null);

    // 9: legacy page creation with `length.old: null`.
    assert_eq!(out[8]["action"], "new");
    assert_eq!(out[8]["change_size"], 159);
    assert_eq!(out[8]["parent_rev_id"], Value::Null);
    assert_eq!(
        out[8]["url"],
        "https://www.wikidata.org/w/index.php?oldid=645091390"
    );

    // 10: Wikidata's own namespace 121.
    assert_eq!(out[9]["ns"], "121");
    assert_eq!(out[9]["change_size"], 21);

    // 11: temporary account: anonymous for WikiMon, never geolocated.
    assert_eq!(out[10]["user"], "~2026-93757-24");
    assert_eq!(out[10]["is_anon"], true);
    assert!(out[10].get("geo_ip").is_none());
}

#[test]
fn missing_lengths_give_null_change_size() {
    let input = events();
    let first = input.lines().next().expect("line");
    let mut ev: Value = serde_json::from_str(first).expect("event");
    ev.as_object_mut().expect("object").remove("length");
    let out = messages(&[], &format!("{ev}\n"));
    assert_eq!(out[0]["change_size"], Value::Null);
    assert_eq!(out[0]["rev_id"], "1167689319");
}

/// The DB-IP Lite file `scripts/test` installs, or None (with a notice) when
/// it is absent and not required.
fn geoip_file() -> Option<PathBuf> {
    match std::env::var_os("WIKIWATCH_TEST_GEOIP") {
        Some(p) if Path::new(&p).is_file() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var("WIKIWATCH_REQUIRE_GEOIP").as_deref() != Ok("1"),
                "WIKIWATCH_REQUIRE_GEOIP=1 but WIKIWATCH_TEST_GEOIP does not name a file"
            );
            eprintln!(
                "SKIPPED: set WIKIWATCH_TEST_GEOIP to a DB-IP .mmdb (scripts/test installs one)"
            );
            None
        }
    }
}

#[test]
fn geo_ip_for_ip_editors_only() {
    let Some(db) = geoip_file() else { return };
    let db = db.to_string_lossy().into_owned();
    let out = messages(&["--geoip", &db], &events());
    // IPv4 and IPv6 editors: a country from the DB-IP country file, which has
    // no city or coordinates (null, as WikiMon sent missing values).
    for i in [2, 3] {
        let geo = &out[i]["geo_ip"];
        let keys: Vec<&String> = geo.as_object().expect("geo_ip object").keys().collect();
        assert_eq!(
            keys,
            [
                "city",
                "country_name",
                "latitude",
                "longitude",
                "region_name"
            ]
        );
        assert!(
            geo["country_name"].as_str().is_some_and(|c| c.len() > 2),
            "a country name, not a code: {geo}"
        );
        assert_eq!(geo["city"], Value::Null);
    }
    assert_eq!(out[2]["geo_ip"]["country_name"], "Italy");
    assert_eq!(out[3]["geo_ip"]["country_name"], "United States");
    // Named editors, new users and temporary accounts: none.
    for i in [0, 1, 4, 5, 6, 8, 9, 10] {
        assert!(out[i].get("geo_ip").is_none(), "line {}: {}", i + 1, out[i]);
    }
}

#[derive(Clone, Default)]
struct Fake {
    requests: Arc<AtomicUsize>,
}

async fn siteinfo(
    axum::extract::State(fake): axum::extract::State<Fake>,
    axum::extract::Path(domain): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> axum::Json<Value> {
    fake.requests.fetch_add(1, Ordering::Relaxed);
    assert_eq!(q.get("meta").map(String::as_str), Some("siteinfo"));
    assert_eq!(q.get("siprop").map(String::as_str), Some("namespaces"));
    // Shapes as meta.wikimedia.org and www.wikidata.org answer (format=json).
    let spaces = match domain.as_str() {
        "meta.wikimedia.org" => json!({
            "0": {"id": 0, "case": "first-letter", "content": "", "*": ""},
            "4": {"id": 4, "case": "first-letter", "canonical": "Project", "*": "Meta"},
            "1198": {"id": 1198, "case": "first-letter", "canonical": "Translations", "*": "Translations"},
            "1199": {"id": 1199, "case": "first-letter", "canonical": "Translations talk", "*": "Translations talk"}
        }),
        "www.wikidata.org" => json!({
            "0": {"id": 0, "case": "first-letter", "content": "", "*": ""},
            "120": {"id": 120, "case": "first-letter", "canonical": "Property", "*": "Property"},
            "121": {"id": 121, "case": "first-letter", "canonical": "Property talk", "*": "Property talk"}
        }),
        _ => json!({
            "0": {"id": 0, "case": "first-letter", "content": "", "*": ""},
            "118": {"id": 118, "case": "first-letter", "canonical": "Draft", "*": "Draft"}
        }),
    };
    axum::Json(json!({"batchcomplete": "", "query": {"namespaces": spaces}}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_learnt_from_siteinfo_and_cached_in_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    learn_and_cache(format!("sqlite:{}", dir.path().join("ns.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_learnt_from_siteinfo_and_cached_in_postgres() {
    let Some(db) = support::pg_database().await else {
        return;
    };
    learn_and_cache(db.to_string()).await;
}

/// Two runs of `parse --format wikimon --siteinfo-api` on one store: the
/// first asks the fake API once per wiki, the second (a restart) nothing.
async fn learn_and_cache(db: String) {
    let fake = Fake::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new()
        .route("/{domain}/w/api.php", axum::routing::get(siteinfo))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let api = format!("http://{addr}/{{domain}}/w/api.php");

    let run = |db: String, api: String| {
        tokio::task::spawn_blocking(move || {
            messages(&["--siteinfo-api", &api, "--db", &db], &events())
        })
    };
    let out = run(db.clone(), api.clone()).await.expect("parse");
    assert_eq!(out[1]["ns"], "Draft");
    assert_eq!(out[5]["ns"], "Translations");
    assert_eq!(out[9]["ns"], "Property talk");
    // Built-in names need no request: enwiki (Draft), metawiki, wikidatawiki.
    assert_eq!(fake.requests.load(Ordering::Relaxed), 3);
    assert_eq!(out[0]["ns"], "Project");

    // A second run (a restart) answers from the store: no request.
    let out = run(db.clone(), api).await.expect("parse");
    assert_eq!(out[5]["ns"], "Translations");
    assert_eq!(out[9]["ns"], "Property talk");
    assert_eq!(fake.requests.load(Ordering::Relaxed), 3);

    // Without the API but with the cache: still nothing guessed, the store
    // is only read when learning is on; built-ins and numbers otherwise.
    let out = tokio::task::spawn_blocking(|| messages(&[], &events()))
        .await
        .expect("parse");
    assert_eq!(out[5]["ns"], "1198");
}
