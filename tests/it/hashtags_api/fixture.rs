//! The hashtag API suite's fixture: synthesized events with known answers
//! (hostile and formula summaries among them), as the NDJSON the replay
//! server serves, and an app that has ingested them.

use crate::support;

use serde_json::json;
use support::{Proc, WIKIDATA, replay, run, test_db, wait_committed};

pub struct Ev {
    db: &'static str,
    domain: &'static str,
    rc: i64,
    dt: &'static str,
    user: &'static str,
    title: &'static str,
    ns: i64,
    kind: &'static str,
    comment: &'static str,
    len: (Option<i64>, i64),
}

pub const HOSTILE: &str = "<script>alert(1)</script> \"><img src=x onerror=alert(2)> #Hostile";
pub const FORMULA: &str = "=HYPERLINK(\"http://evil.example\") #1LIB1REF transcription";

pub fn fixture_events() -> Vec<Ev> {
    let e = |db, domain, rc, dt, user, title, ns, kind, comment, len| Ev {
        db,
        domain,
        rc,
        dt,
        user,
        title,
        ns,
        kind,
        comment,
        len,
    };
    vec![
        // E1: two tags, one edit.
        e(
            "enwiki",
            "en.wikipedia.org",
            100,
            "2024-03-01T10:00:00Z",
            "Alice",
            "Apple",
            0,
            "edit",
            "Added ref #1Lib1Ref #WPWP",
            (Some(100), 150),
        ),
        // E2: same rc id as E1 on another wiki, only #WPWP.
        e(
            "frwiki",
            "fr.wikipedia.org",
            100,
            "2024-03-01T11:00:00Z",
            "Bob",
            "Pomme",
            0,
            "edit",
            "#WPWP photo",
            (Some(200), 180),
        ),
        // E3: last second of 2 March, a new page.
        e(
            "frwiki",
            "fr.wikipedia.org",
            101,
            "2024-03-02T23:59:59Z",
            "Bob",
            "Poire",
            0,
            "new",
            "#1lib1ref source",
            (None, 500),
        ),
        // E4: first second of 3 March, on Wikisource, a formula as summary.
        e(
            "frwikisource",
            "fr.wikisource.org",
            5,
            "2024-03-03T00:00:00Z",
            "Carol",
            "Page:Livre.djvu/1",
            104,
            "edit",
            FORMULA,
            (Some(10), 20),
        ),
        // E5: hostile markup.
        e(
            "enwiki",
            "en.wikipedia.org",
            102,
            "2024-03-04T12:00:00Z",
            "Alice",
            "Banana",
            0,
            "edit",
            HOSTILE,
            (Some(5), 6),
        ),
        // E6: spreadsheet-hostile title and summary.
        e(
            "dewiki",
            "de.wikipedia.org",
            7,
            "2024-03-05T08:00:00Z",
            "Dave",
            "@Home",
            0,
            "edit",
            "+cmd @evil #WPWP",
            (Some(1000), 1000),
        ),
    ]
}

pub fn fixture_ndjson() -> String {
    let mut out = String::new();
    for (i, e) in fixture_events().iter().enumerate() {
        let ms = chrono_ms(e.dt);
        let mut length = json!({ "new": e.len.1 });
        let mut revision = json!({ "new": 9000 + i as i64 });
        if let Some(old) = e.len.0 {
            length["old"] = json!(old);
            revision["old"] = json!(8000 + i as i64);
        }
        let v = json!({
            "$schema": "/mediawiki/recentchange/1.0.0",
            "meta": {
                "uri": format!("https://{}/wiki/{}", e.domain, e.title.replace(' ', "_")),
                "request_id": format!("req-{i}"),
                "id": format!("00000000-0000-4000-8000-{:012}", i + 1),
                "dt": e.dt,
                "domain": e.domain,
                "stream": "mediawiki.recentchange",
                "topic": "eqiad.mediawiki.recentchange",
                "partition": 0,
                "offset": i + 1,
            },
            "id": e.rc,
            "type": e.kind,
            "namespace": e.ns,
            "title": e.title,
            "comment": e.comment,
            "timestamp": ms / 1000,
            "user": e.user,
            "bot": false,
            "minor": false,
            "length": length,
            "revision": revision,
            "server_url": format!("https://{}", e.domain),
            "server_name": e.domain,
            "server_script_path": "/w",
            "wiki": e.db,
            "parsedcomment": e.comment,
        });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

pub fn chrono_ms(dt: &str) -> i64 {
    // YYYY-MM-DDTHH:MM:SSZ, days from civil (Howard Hinnant's algorithm).
    let n = |a: usize, b: usize| dt[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (hh, mm, ss) = (n(11, 13), n(14, 16), n(17, 19));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000
}

pub async fn fixture_app(dir: &std::path::Path) -> (Proc, Proc) {
    let file = dir.join("fixture.ndjson");
    std::fs::write(&file, fixture_ndjson()).unwrap();
    let up = replay(&["--pace", "fast", "--input", file.to_str().unwrap()], dir);
    let db = test_db(dir, "w.db").await;
    let app = run(&up, &db, &[WIKIDATA], dir);
    wait_committed(&app, fixture_events().len() as u64).await;
    (up, app)
}
