//! The unusual events fault injection inserts: canaries as Wikimedia sends
//! them and oversized page-links-change events.

/// A canary as Wikimedia injects them: schema-valid, `meta.domain: "canary"`.
pub(super) fn canary_event(stream: &str, ts: i64, n: u64) -> String {
    serde_json::json!({
        "$schema": "/mediawiki/recentchange/1.0.0",
        "meta": {
            "uri": "https://canary/wiki/Special:Canary",
            "id": format!("00000000-0000-4000-8000-{n:012x}"),
            "dt": crate::event::format_ms(ts),
            "domain": "canary",
            "stream": stream,
        },
        "type": "edit",
        "namespace": 0,
        "title": "Canary",
        "comment": "canary event",
        "user": "Canary",
        "bot": false,
        "wiki": "canary",
        "server_name": "canary",
    })
    .to_string()
}

/// A valid but very large page-links-change event, like the 158 KiB event that
/// once wedged WikiMon.
pub(super) fn oversized_event(ts: i64, bytes: usize) -> String {
    let link =
        r#"{"link":"https://example.org/a-very-long-reference-list-entry","external":true},"#;
    let n = bytes / link.len() + 1;
    let mut links = String::with_capacity(n * link.len() + 2);
    links.push('[');
    for _ in 0..n {
        links.push_str(link);
    }
    links.pop();
    links.push(']');
    format!(
        r#"{{"$schema":"/mediawiki/page/links-change/1.0.0","meta":{{"uri":"https://test.wikipedia.org/wiki/Oversized","id":"ffffffff-0000-4000-8000-000000000001","dt":"{}","domain":"test.wikipedia.org","stream":"mediawiki.page-links-change"}},"database":"testwiki","page_id":1,"page_title":"Oversized","page_namespace":0,"rev_id":1,"added_links":{links}}}"#,
        crate::event::format_ms(ts)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_events_are_valid_json_of_at_least_the_size_asked() {
        let e = oversized_event(0, 300_000);
        assert!(e.len() >= 300_000);
        assert!(serde_json::from_str::<serde_json::Value>(&e).is_ok());
    }

    #[test]
    fn canaries_parse_as_canaries() {
        let c = canary_event("mediawiki.recentchange", 1_700_000_000_000, 3);
        let ev = crate::event::parse(c.as_bytes(), &crate::extract::Rules::default()).unwrap();
        assert!(ev.envelope().is_canary());
    }
}
