//! WikiMon v2 message formatting (placeholder; the real module replaces it).
use crate::event::Event;

/// Everything `message` needs beyond the event: namespace names and GeoIP.
pub struct WikimonContext {
    _private: (),
}

impl WikimonContext {
    /// Built-in canonical namespace names only, no geolocation.
    pub fn builtin() -> Self {
        WikimonContext { _private: () }
    }
}

/// One WikiMon v2 message: the wiki database name it routes to and its JSON (sorted keys).
pub struct WikimonMessage {
    pub wiki: String,
    pub json: String,
}

/// "en" -> Some("enwiki"), "wikidata" -> Some("wikidatawiki"), "" -> Some("enwiki"); None for anything that is not a Wikipedia language code.
pub fn wiki_for_language(lang: &str) -> Option<String> {
    if lang.is_empty() {
        return Some("enwiki".into());
    }
    if lang.len() > 20 || !lang.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return None;
    }
    Some(format!("{}wiki", lang.replace('-', "_")))
}

/// The WikiMon v2 message for an event, or None when WikiMon sends nothing for it.
pub fn message(event: &Event, _ctx: &WikimonContext) -> Option<WikimonMessage> {
    let Event::Recentchange(c) = event else {
        return None;
    };
    let action = match c.change_kind {
        crate::event::ChangeKind::Edit => "edit",
        crate::event::ChangeKind::New => "create",
        _ => return None,
    };
    let json = serde_json::json!({
        "action": action,
        "page_title": c.title,
        "rev_id": c.rev_new.map(|r| r.to_string()),
        "user": c.user,
    })
    .to_string();
    Some(WikimonMessage {
        wiki: c.wiki.clone(),
        json,
    })
}
