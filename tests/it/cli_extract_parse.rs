//! `wikiwatch extract` and `wikiwatch parse` through the command line, on the
//! issue's examples and the real recorded events.

use crate::support;

use serde_json::Value;
use support::{fixtures, run_with_stdin};

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn extract_hashtags_gives_one_line_per_input_line_in_order() {
    let cases: &[(&str, &[&str])] = &[
        ("Added citation #1lib1ref #WPWP", &["1lib1ref", "WPWP"]),
        ("#wpwp #WPWP", &["wpwp"]),
        ("(#tag)", &["tag"]),
        ("#tag-with-hyphen", &["tag"]),
        ("#हिन्दी", &["हिन्दी"]),
        ("#猫", &["猫"]),
        ("https://x.org/#frag #real", &["real"]),
        ("/* #Section */ fix #x1", &["x1"]),
        ("{{#if: x}}", &[]),
        ("", &[]),
        ("#123 #a #redirect #quickstatements", &[]),
    ];
    let input: String = cases.iter().map(|(s, _)| format!("{s}\n")).collect();
    let out = json_lines(&run_with_stdin(&["extract", "hashtags"], &input));
    assert_eq!(out.len(), cases.len());
    for ((input, expected), got) in cases.iter().zip(out) {
        let got: Vec<&str> = got
            .as_array()
            .expect("array")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(&got, expected, "input {input:?}");
    }
}

#[test]
fn extract_mentions() {
    let out = json_lines(&run_with_stdin(
        &["extract", "mentions"],
        "thanks @Foo, and @Bar.\nfix  typo\nmail a@b.com\n",
    ));
    assert_eq!(out[0], serde_json::json!(["Foo", "Bar"]));
    assert_eq!(out[1], serde_json::json!([]));
    assert_eq!(out[2], serde_json::json!([]));
}

#[test]
fn extract_links_normalises_hosts_domains_and_wrappers() {
    let input = "https://www.jstor.org/action/doBasicSearch%3FQuery%3D%2522Tanya%2BTuzova%2522%26acc%3Don\n\
                 https://www-jstor-org.wikipedialibrary.idm.oclc.org/stable/27903775\n\
                 https://web.archive.org/web/20200101000000/https://www.bbc.co.uk/news\n\
                 //test.com/x\n\
                 http://\n";
    let out = json_lines(&run_with_stdin(&["extract", "links"], input));
    assert_eq!(out.len(), 5);
    assert_eq!(
        out[0]["url"],
        "https://www.jstor.org/action/doBasicSearch?Query=%22Tanya+Tuzova%22&acc=on"
    );
    assert_eq!(out[0]["host"], "www.jstor.org");
    assert_eq!(out[0]["domain"], "jstor.org");
    assert_eq!(out[1]["host"], "www.jstor.org");
    assert_eq!(out[1]["wrapper"]["kind"], "proxy");
    assert_eq!(out[2]["domain"], "bbc.co.uk");
    assert_eq!(out[2]["wrapper"]["kind"], "archive");
    assert_eq!(out[2]["wrapper"]["host"], "web.archive.org");
    assert_eq!(out[3]["host"], "test.com");
    assert_eq!(out[4]["raw"], "http://");
    assert!(out[4]["error"].is_string(), "{}", out[4]);
}

#[test]
fn parse_normalises_real_ndjson_and_sse_transcripts() {
    let ndjson = std::fs::read_to_string(fixtures().join("real/polars-guide_wikimedia.ndjson"))
        .expect("fixture");
    let out = json_lines(&run_with_stdin(&["parse"], &ndjson));
    assert_eq!(out.len(), 100);
    for ev in &out {
        assert_eq!(ev["kind"], "recentchange");
        assert_eq!(ev["wiki"], "enwiki");
        assert!(ev["meta_id"].as_str().is_some_and(|s| !s.is_empty()));
    }
    let first = &out[0];
    assert_eq!(first["title"], "EFL Championship");
    assert_eq!(
        first["section"],
        "League champions, runners-up and play-off finalists"
    );
    assert_eq!(first["dt_ms"], 1_690_617_099_000i64);

    let sse = std::fs::read_to_string(fixtures().join("real/wiki_visualizer_example.events"))
        .expect("fixture");
    let out = json_lines(&run_with_stdin(&["parse"], &sse));
    assert_eq!(out.len(), 3);
    let wikis: Vec<&str> = out.iter().filter_map(|e| e["wiki"].as_str()).collect();
    assert_eq!(wikis, ["commonswiki", "enwiktionary", "wikidatawiki"]);
}

#[test]
fn parse_reports_malformed_lines_in_place() {
    let out = json_lines(&run_with_stdin(
        &["parse"],
        "{not json\n{\"meta\":{\"id\":\"x\",\"stream\":\"mediawiki.recentchange\"},\"type\":\"edit\"}\n",
    ));
    assert_eq!(out.len(), 2);
    assert!(out[0]["error"].is_string());
    assert_eq!(out[1]["kind"], "recentchange");
}
