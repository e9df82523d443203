//! wikiwatch's own live message format: the JSON of one change on
//! `/live` and `/v2/stream/recentchange`, and the control messages
//! (`heartbeat`, `lagged`, `error`, …) sent beside them.

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;

use super::filter::{language_of, project_of};
use crate::event::{Change, format_ms};

#[derive(Serialize)]
struct NativeMessage<'a> {
    kind: &'static str,
    id: u64,
    /// When the hub published it (µs since the epoch): delivery latency is
    /// the receive time minus this.
    published_us: i64,
    meta_id: &'a str,
    dt: String,
    wiki: &'a str,
    server_name: &'a str,
    project: &'a str,
    lang: Option<&'a str>,
    #[serde(rename = "type")]
    change_kind: &'static str,
    namespace: i64,
    title: &'a str,
    user: Option<&'a str>,
    editor: &'static str,
    bot: bool,
    minor: bool,
    patrolled: Option<bool>,
    size_change: Option<i64>,
    length: OldNew,
    revision: OldNew,
    log_id: Option<i64>,
    log_type: Option<&'a str>,
    log_action: Option<&'a str>,
    hashtags: Vec<&'a str>,
    mentions: &'a [String],
    section: Option<&'a str>,
    summary: &'a str,
    parsed_summary: &'a str,
    url: Option<String>,
}

#[derive(Serialize)]
struct OldNew {
    old: Option<i64>,
    new: Option<i64>,
}

/// The page (or diff) a change is about, as WikiMon linked it.
fn change_url(c: &Change) -> Option<String> {
    if c.server_url.is_empty() {
        return None;
    }
    let base = format!("{}{}/index.php", c.server_url, c.script_path);
    match (c.rev_old, c.rev_new) {
        (Some(old), Some(new)) if old > 0 => Some(format!("{base}?diff={new}&oldid={old}")),
        (_, Some(new)) => Some(format!("{base}?oldid={new}")),
        _ => {
            let title = c.title.replace(' ', "_");
            let enc =
                percent_encoding::utf8_percent_encode(&title, percent_encoding::NON_ALPHANUMERIC);
            Some(format!("{base}?title={enc}"))
        }
    }
}

pub fn native_json(seq: u64, published_us: i64, c: &Change) -> String {
    let m = NativeMessage {
        kind: "change",
        id: seq,
        published_us,
        meta_id: &c.envelope.meta_id,
        dt: format_ms(c.envelope.dt_ms),
        wiki: &c.wiki,
        server_name: &c.server_name,
        project: project_of(&c.server_name),
        lang: language_of(&c.server_name),
        change_kind: c.change_kind.as_str(),
        namespace: c.namespace,
        title: &c.title,
        user: c.user.as_deref(),
        editor: c.editor.as_str(),
        bot: c.bot,
        minor: c.minor,
        patrolled: c.patrolled,
        size_change: c.size_change(),
        length: OldNew {
            old: c.length_old,
            new: c.length_new,
        },
        revision: OldNew {
            old: c.rev_old,
            new: c.rev_new,
        },
        log_id: c.log_id,
        log_type: c.log_type.as_deref(),
        log_action: c.log_action.as_deref(),
        hashtags: c.hashtags.iter().map(|h| h.text.as_str()).collect(),
        mentions: &c.mentions,
        section: c.section.as_deref(),
        summary: &c.summary,
        parsed_summary: &c.parsed_summary,
        url: change_url(c),
    };
    serde_json::to_string(&m).unwrap_or_default()
}

/// A control message (`heartbeat`, `lagged`, `error`, …) as WebSocket text.
pub fn control(kind: &str, mut fields: serde_json::Value) -> Utf8Bytes {
    if let Some(o) = fields.as_object_mut() {
        o.insert("kind".into(), kind.into());
    }
    fields.to_string().into()
}
