//! Domain reports from the per-domain rollups answer exactly as the scan of
//! the log does. Each report is asked for twice through the HTTP API: once
//! as the rollups can answer it, and once with `wiki=*` added, which selects
//! the same events but is a filter the rollups do not hold, so the store
//! reads the log. The two answers must match in every field (the report
//! says which way it was computed in `computed_from`).
//!
//! Data: synthetic events (additions, removals, wrapped links, page
//! deletions, every provenance), the crafted fixture and the deletion and
//! restoration fixture. Runs on SQLite, and on PostgreSQL under
//! `WIKIWATCH_TEST_BACKEND=postgres`.

use crate::support;

use serde_json::Value;
use support::{Proc, get_json, replay, run, wait_links};

/// The filter variants every domain is checked under.
const VARIANTS: &[&str] = &[
    "",
    "provenance=all",
    "provenance=propagated",
    "provenance=edit&provenance=system",
    "wrappers=exclude",
    "wrappers=only&provenance=all",
    "provenance=all&wrappers=exclude&top=2",
    "top=1",
];

async fn report(app: &Proc, domain: &str, query: &str) -> Value {
    let url = app.url(&format!("/api/links/domains/{domain}?{query}"));
    let v = get_json(&url).await.unwrap_or(Value::Null);
    assert!(v["added"].is_i64(), "{url}: {v}");
    v
}

/// Compares every domain of the log under every variant; returns how many
/// reports had removals, later-removed additions and present links, so the
/// caller can check the data exercised them.
async fn compare_all_domains(app: &Proc) -> (usize, usize, usize) {
    let top = get_json(&app.url("/api/links/top?by=domain&window=all&provenance=all&limit=1000"))
        .await
        .unwrap_or(Value::Null);
    let domains: Vec<String> = top["rows"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|d| d["key"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(!domains.is_empty(), "no domains: {top}");
    let (mut with_removals, mut with_later_removed, mut with_present) = (0, 0, 0);
    for domain in &domains {
        for variant in VARIANTS {
            let mut fast = report(app, domain, variant).await;
            let mut slow = report(app, domain, &format!("{variant}&wiki=*")).await;
            assert_eq!(fast["computed_from"], "rollups", "{domain}?{variant}");
            assert_eq!(slow["computed_from"], "log", "{domain}?{variant}&wiki=*");
            fast["computed_from"].take();
            slow["computed_from"].take();
            assert_eq!(
                fast, slow,
                "{domain}?{variant}: the rollups (left) and the log (right) disagree"
            );
            with_removals += usize::from(fast["removed"].as_i64() > Some(0));
            with_later_removed += usize::from(fast["signals"]["later_removed"].as_i64() > Some(0));
            with_present += usize::from(fast["present"].as_i64() > Some(0));
        }
    }
    (with_removals, with_later_removed, with_present)
}

#[tokio::test]
async fn rollups_answer_like_the_log_on_synthetic_events() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast", "--synth-events", "3000"], dir.path());
    let db = support::test_db(dir.path(), "rollup.db").await;
    let app = run(&up, &db, &[], dir.path());
    wait_links(&app, 3000 + 5796, 500).await;
    let (removals, _, present) = compare_all_domains(&app).await;
    assert!(
        removals > 0 && present > 0,
        "the data did not exercise removals ({removals}) or present links ({present})"
    );
}

/// One page-links-change event in the shape of the real one
/// (tests/fixtures/real/iabotwatch_page-links-change_example.json).
fn links_change(
    offset: u64,
    wiki: (&str, &str),
    page: (i64, &str),
    performer: Option<&str>,
    added: &[&str],
    removed: &[&str],
) -> String {
    let links = |l: &[&str]| {
        l.iter()
            .map(|u| serde_json::json!({"link": u, "external": true}))
            .collect::<Vec<_>>()
    };
    let mut e = serde_json::json!({
        "$schema": "/mediawiki/page/links-change/1.0.0",
        "meta": {
            "uri": format!("https://{}/wiki/{}", wiki.1, page.1),
            "request_id": format!("00000000-0000-0000-0000-0000001{offset:05}"),
            "id": format!("00000000-0000-0000-0000-0000002{offset:05}"),
            "dt": format!("2026-04-0{}T00:00:00Z", 1 + offset % 9),
            "domain": wiki.1,
            "stream": "mediawiki.page-links-change",
            "topic": "eqiad.mediawiki.page-links-change",
            "partition": 0,
            "offset": offset,
        },
        "database": wiki.0,
        "page_id": page.0,
        "page_title": page.1,
        "page_namespace": 0,
        "page_is_redirect": false,
        "rev_id": 9000 + offset,
        "added_links": links(added),
        "removed_links": links(removed),
    });
    if let Some(name) = performer {
        e["performer"] = serde_json::json!({
            "user_text": name,
            "user_groups": ["*"],
            "user_is_bot": false,
            "user_edit_count": 3,
            "user_registration_dt": "2026-03-30T00:00:00Z",
        });
    }
    e.to_string()
}

/// "Later removed" follows each removal back to the additions of the same
/// link on the same page since the previous removal, and no further.
#[tokio::test]
async fn later_removed_counts_each_addition_once() {
    let dir = tempfile::tempdir().unwrap();
    let en = ("enwiki", "en.wikipedia.org");
    let de = ("dewiki", "de.wikipedia.org");
    let sigma = (700, "Sigma");
    let (a, b, c) = (
        "https://spam.example/a",
        "https://www.spam.example/b",
        "https://spam.example/c",
    );
    let events = [
        links_change(1, en, sigma, Some("203.0.113.5"), &[a, b], &[]),
        links_change(2, en, sigma, Some("Mallory"), &[a], &[]),
        links_change(3, en, sigma, Some("Patroller"), &[], &[a]),
        links_change(4, en, sigma, Some("Mallory"), &[a], &[]),
        links_change(5, en, sigma, Some("Patroller"), &[], &[a]),
        links_change(6, de, (701, "Tau"), Some("Mallory"), &[c], &[]),
        links_change(7, en, sigma, None, &[], &[b]),
    ];
    let input = dir.path().join("later-removed.jsonl");
    std::fs::write(&input, events.join("\n") + "\n").unwrap();
    let input = input.display().to_string();
    let up = replay(&["--pace", "fast", "--input", &input], dir.path());
    let db = support::test_db(dir.path(), "later.db").await;
    let mut app = run(&up, &db, &[], dir.path());
    wait_links(&app, 7, 8).await;
    // Kept by the triggers as the events arrived, then rebuilt by the
    // migration from the stored log: the same answer both times.
    for round in ["triggers", "backfill"] {
        let r = report(&app, "spam.example", "provenance=all").await;
        assert_eq!(r["computed_from"], "rollups");
        // Additions: a ×3 and b on Sigma, c on Tau; a's first two were
        // removed by the first removal, the third by the second, b by the last.
        assert_eq!(r["signals"]["additions"], 5, "{round}: {r}");
        assert_eq!(r["signals"]["later_removed"], 4, "{round}: {r}");
        assert_eq!(r["removed"], 3, "{round}: {r}");
        assert_eq!(r["present"], 1, "{round}: {r}");
        compare_all_domains(&app).await;
        if round == "triggers" {
            app.terminate();
            drop_rollups(&db).await;
            app = run(&up, &db, &[], dir.path());
            wait_links(&app, 0, 8).await;
        }
    }
}

#[tokio::test]
async fn rollups_answer_like_the_log_on_the_crafted_fixtures() {
    for (fixture, events, link_rows) in [
        ("links_crafted.jsonl", 19, 23),
        ("links_restore.jsonl", 3, 6),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let input = support::test_fixture(fixture);
        let (_up, app) = support::replay_and_run(dir.path(), &input, "fixture.db").await;
        wait_links(&app, events, link_rows).await;
        let (_, _, present) = compare_all_domains(&app).await;
        assert!(present > 0, "{fixture}: no present links");
    }
}

/// What a database looked like before the rollups' migrations (8 and 9 on
/// both backends), with the link log kept.
async fn drop_rollups(db: &str) {
    if db.starts_with("postgres") {
        let (client, conn) = tokio_postgres::connect(db, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .batch_execute(
                "DROP TRIGGER link_rollup_events ON link_events;
                 DROP TRIGGER link_present_inserted ON page_links;
                 DROP TRIGGER link_present_deleted ON page_links;
                 DROP TRIGGER link_present_updated ON page_links;
                 DROP FUNCTION link_rollup_events(), link_present_inserted(),
                    link_present_deleted(), link_present_updated();
                 DROP TABLE link_domain_days, link_domain_keys, link_domain_present,
                    link_domain_adders;
                 DROP FUNCTION link_adders_inserted(), link_adders_updated();
                 DROP INDEX link_events_link_added, link_events_link_removed;
                 DELETE FROM schema_migrations WHERE version IN (8, 9);",
            )
            .await
            .expect("downgrade");
    } else {
        let path = db.trim_start_matches("sqlite:").to_owned();
        tokio::task::spawn_blocking(move || {
            let c = rusqlite::Connection::open(path).expect("open");
            c.execute_batch(
                "DROP TRIGGER link_rollup_event; DROP TRIGGER link_rollup_removal;
                 DROP TRIGGER link_present_insert; DROP TRIGGER link_present_delete;
                 DROP TRIGGER link_present_update;
                 DROP TABLE link_domain_days; DROP TABLE link_domain_keys;
                 DROP TABLE link_domain_present; DROP TABLE link_domain_adders;
                 DROP INDEX link_events_link_added; DROP INDEX link_events_link_removed;
                 DELETE FROM schema_migrations WHERE version IN (8, 9);",
            )
            .expect("downgrade");
        })
        .await
        .expect("downgrade task");
    }
}

/// A database whose log was written before the rollups existed gets them
/// backfilled by the migration at the next start, and they answer as the
/// log does.
#[tokio::test]
async fn the_migration_backfills_rollups_from_an_existing_log() {
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast", "--synth-events", "3000"], dir.path());
    let db = support::test_db(dir.path(), "backfill.db").await;
    let start = || run(&up, &db, &[], dir.path());
    let mut app = start();
    wait_links(&app, 3000 + 5796, 500).await;
    let before = report(&app, "jstor.org", "provenance=all").await;
    assert_eq!(before["computed_from"], "rollups");
    app.terminate();
    drop_rollups(&db).await;
    let app = start();
    // Counters start again at zero; the log is already stored.
    wait_links(&app, 0, 500).await;
    assert_eq!(report(&app, "jstor.org", "provenance=all").await, before);
    compare_all_domains(&app).await;
}
