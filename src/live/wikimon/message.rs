//! The WikiMon v2 message for one event: its fields, their conventions (see
//! [`super`]) and the JSON with WikiMon's sorted keys.

use serde::Serialize;

use super::context::WikimonContext;
use super::geoip::GeoRecord;
use crate::event::{Change, ChangeKind, Event};
use crate::extract::EditorKind;

/// One WikiMon v2 message: the wiki database name it routes to and its JSON (sorted keys).
#[derive(Debug, Clone, PartialEq)]
pub struct WikimonMessage {
    pub wiki: String,
    pub json: String,
}

/// The message body, fields in alphabetical order (serde keeps declaration
/// order), so the JSON has WikiMon's sorted keys without a sort per message.
#[derive(Serialize)]
struct Body<'a> {
    action: &'a str,
    change_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    geo_ip: Option<GeoRecord>,
    hashtags: Vec<&'a str>,
    is_anon: bool,
    is_bot: bool,
    is_minor: bool,
    is_new: bool,
    is_unpatrolled: bool,
    mentions: &'a [String],
    ns: String,
    page_title: &'a str,
    parent_rev_id: Option<String>,
    parsed_summary: &'a str,
    rev_id: Option<String>,
    section: &'a str,
    summary: &'a str,
    url: String,
    user: &'a str,
}

/// `server_url + script_path + /index.php?…` for an edit or creation.
pub fn diff_url(change: &Change) -> String {
    let base = format!(
        "{}{}/index.php",
        change.server_url.trim_end_matches('/'),
        change.script_path.trim_end_matches('/')
    );
    let old = change.rev_old.filter(|r| *r > 0);
    match (change.rev_new, old) {
        (Some(new), Some(old)) if change.change_kind != ChangeKind::New => {
            format!("{base}?diff={new}&oldid={old}")
        }
        (Some(new), _) => format!("{base}?oldid={new}"),
        _ => String::new(),
    }
}

/// The WikiMon v2 message for an event, or None when WikiMon sends nothing for it.
pub fn message(event: &Event, ctx: &WikimonContext) -> Option<WikimonMessage> {
    let Event::Recentchange(change) = event else {
        return None;
    };
    let newusers = match change.change_kind {
        ChangeKind::Edit | ChangeKind::New => false,
        ChangeKind::Log if change.log_type.as_deref() == Some("newusers") => true,
        _ => return None,
    };
    if change.wiki.is_empty() {
        return None;
    }
    let user = change.user.as_deref().unwrap_or_default();
    let is_anon = matches!(change.editor, EditorKind::Ip | EditorKind::Temp);
    // Only real IP editors: a temporary account's location is private.
    let geo_ip = match (change.editor, ctx.geoip()) {
        (EditorKind::Ip, Some(geo)) => Some(geo.lookup_user(user).unwrap_or_default()),
        _ => None,
    };
    let domain = change.server_name.as_str();
    let body = if newusers {
        Body {
            action: "newusers",
            change_size: Some(0),
            geo_ip,
            hashtags: change.hashtags.iter().map(|h| h.text.as_str()).collect(),
            is_anon,
            is_bot: change.bot,
            is_minor: false,
            is_new: false,
            is_unpatrolled: false,
            mentions: &change.mentions,
            ns: ctx
                .namespaces()
                .name(&change.wiki, domain, change.namespace),
            page_title: "Special:Log/newusers",
            parent_rev_id: None,
            parsed_summary: &change.parsed_summary,
            rev_id: None,
            section: change.section.as_deref().unwrap_or_default(),
            summary: &change.summary,
            url: change.log_action.clone().unwrap_or_default(),
            user,
        }
    } else {
        Body {
            action: change.change_kind.as_str(),
            change_size: change.size_change(),
            geo_ip,
            hashtags: change.hashtags.iter().map(|h| h.text.as_str()).collect(),
            is_anon,
            is_bot: change.bot,
            is_minor: change.minor,
            is_new: change.change_kind == ChangeKind::New,
            is_unpatrolled: change.patrolled == Some(false),
            mentions: &change.mentions,
            ns: ctx
                .namespaces()
                .name(&change.wiki, domain, change.namespace),
            page_title: &change.title,
            parent_rev_id: change.rev_old.filter(|r| *r > 0).map(|r| r.to_string()),
            parsed_summary: &change.parsed_summary,
            rev_id: change.rev_new.map(|r| r.to_string()),
            section: change.section.as_deref().unwrap_or_default(),
            summary: &change.summary,
            url: diff_url(change),
            user,
        }
    };
    let json = serde_json::to_string(&body).ok()?;
    Some(WikimonMessage {
        wiki: change.wiki.clone(),
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Rules;

    fn change(json: serde_json::Value) -> Event {
        let bytes = serde_json::to_vec(&json).expect("json");
        crate::event::parse(&bytes, &Rules::default()).expect("event")
    }

    fn msg(ev: &Event) -> serde_json::Value {
        let m = message(ev, &WikimonContext::builtin()).expect("a message");
        serde_json::from_str(&m.json).expect("valid json")
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "$schema": "/mediawiki/recentchange/1.0.0",
            "meta": {"id": "x", "dt": "2026-01-01T00:00:00Z", "domain": "en.wikipedia.org",
                     "stream": "mediawiki.recentchange"},
            "type": "edit", "namespace": 0, "title": "Foo",
            "comment": "/* Introduction */ fixed #typo @Reviewer", "user": "Alice",
            "bot": false, "minor": false, "patrolled": true,
            "length": {"old": 5100, "new": 5200},
            "revision": {"old": 558167099, "new": 560171723},
            "server_url": "https://en.wikipedia.org", "server_name": "en.wikipedia.org",
            "server_script_path": "/w", "wiki": "enwiki"
        })
    }

    #[test]
    fn edit_fields_and_sorted_keys() {
        let m = message(&change(base()), &WikimonContext::builtin()).expect("message");
        assert_eq!(m.wiki, "enwiki");
        let v: serde_json::Value = serde_json::from_str(&m.json).expect("json");
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), 18);
        // serde_json's map is sorted anyway; check the raw text order too.
        assert!(
            m.json
                .starts_with("{\"action\":\"edit\",\"change_size\":100,")
        );
        assert_eq!(v["rev_id"], "560171723");
        assert_eq!(v["parent_rev_id"], "558167099");
        assert_eq!(
            v["url"],
            "https://en.wikipedia.org/w/index.php?diff=560171723&oldid=558167099"
        );
        assert_eq!(v["section"], "Introduction");
        assert_eq!(v["hashtags"], serde_json::json!(["typo"]));
        assert_eq!(v["mentions"], serde_json::json!(["Reviewer"]));
        assert_eq!(v["ns"], "Main");
    }

    #[test]
    fn url_and_size_edge_cases() {
        let mut e = base();
        e["type"] = "new".into();
        e["revision"] = serde_json::json!({"new": 30383898});
        e["length"] = serde_json::json!({"new": 22});
        let v = msg(&change(e));
        assert_eq!(
            v["url"],
            "https://en.wikipedia.org/w/index.php?oldid=30383898"
        );
        assert_eq!(v["parent_rev_id"], serde_json::Value::Null);
        assert_eq!(v["change_size"], 22);
        assert_eq!(v["is_new"], true);
        assert_eq!(v["action"], "new");

        let mut e = base();
        e.as_object_mut().expect("object").remove("length");
        e.as_object_mut().expect("object").remove("revision");
        let v = msg(&change(e));
        assert_eq!(v["change_size"], serde_json::Value::Null);
        assert_eq!(v["url"], "");
        assert_eq!(v["rev_id"], serde_json::Value::Null);

        // A trailing slash on server_url and an empty script path.
        let mut e = base();
        e["server_url"] = "https://example.org/".into();
        e["server_script_path"] = "".into();
        let v = msg(&change(e));
        assert_eq!(
            v["url"],
            "https://example.org/index.php?diff=560171723&oldid=558167099"
        );
    }

    #[test]
    fn ns_edge_cases_and_flags() {
        let mut e = base();
        e["namespace"] = 999.into();
        e["patrolled"] = false.into();
        let v = msg(&change(e));
        assert_eq!(v["ns"], "999");
        assert_eq!(v["is_unpatrolled"], true);
        let mut e = base();
        e["namespace"] = 3.into();
        e.as_object_mut().expect("object").remove("patrolled");
        let v = msg(&change(e));
        assert_eq!(v["ns"], "User talk");
        assert_eq!(v["is_unpatrolled"], false);
        let mut e = base();
        e["namespace"] = (-1).into();
        assert_eq!(msg(&change(e))["ns"], "Special");
    }

    #[test]
    fn anon_rules() {
        for (user, anon) in [
            ("2001:558:6045:A3:E1A1:5BB4:B0B6:E2D9", true),
            ("~2026-93757-24", true),
            ("81.2.69.160", true),
            ("Alice", false),
        ] {
            let mut e = base();
            e["user"] = user.into();
            let v = msg(&change(e));
            assert_eq!(v["is_anon"], anon, "{user}");
            assert!(v.get("geo_ip").is_none());
        }
    }

    #[test]
    fn other_events_send_nothing() {
        let ctx = WikimonContext::builtin();
        for (kind, log_type) in [("log", "delete"), ("log", "block"), ("categorize", "")] {
            let mut e = base();
            e["type"] = kind.into();
            e["log_type"] = log_type.into();
            assert!(message(&change(e), &ctx).is_none(), "{kind} {log_type}");
        }
    }
}
