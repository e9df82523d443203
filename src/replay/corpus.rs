//! The events a replay server serves: loaded from recordings in the formats
//! they are found in (NDJSON / JSON lines, pretty-printed JSON, arrays of
//! `{id, data}` captures, SSE transcripts) or from synthetic text, then
//! arranged as EventStreams arranges them: per topic, in time order.
//!
//! Each event keeps its recorded bytes (pretty-printed input is minified,
//! keys in their original order). Its Kafka timestamp is `meta.dt`, nudged
//! forward so that timestamps strictly increase within a topic: resuming from
//! an id's `timestamp + 1` then never skips an event, which keeps the replay
//! exact where the real service can skip events sharing a millisecond.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::event::parse_dt_ms;
use crate::sse::{SseItem, SseParser};

/// Streams the real service offers, by short alias and canonical name
/// (EventStreams spec, November 2024). An alias serves its canonical stream.
pub const KNOWN_STREAMS: &[(&str, &str)] = &[
    ("recentchange", "mediawiki.recentchange"),
    ("page-links-change", "mediawiki.page-links-change"),
    ("page-delete", "mediawiki.page-delete"),
    ("page-undelete", "mediawiki.page-undelete"),
    ("page-create", "mediawiki.page-create"),
    ("page-move", "mediawiki.page-move"),
    ("page-properties-change", "mediawiki.page-properties-change"),
    ("revision-create", "mediawiki.revision-create"),
    ("revision-tags-change", "mediawiki.revision-tags-change"),
    (
        "revision-visibility-change",
        "mediawiki.revision-visibility-change",
    ),
    ("mediawiki.page_change.v1", "mediawiki.page_change.v1"),
    ("test", "eventgate-main.test.event"),
];

/// The two datacenter prefixes every stream's topics carry.
pub const DATACENTERS: [&str; 2] = ["eqiad", "codfw"];

/// The canonical stream name for an alias or canonical name.
pub fn canonical_stream(name: &str) -> Option<&'static str> {
    KNOWN_STREAMS
        .iter()
        .find(|(alias, canonical)| *alias == name || *canonical == name)
        .map(|(_, canonical)| *canonical)
}

/// The recordings shipped inside the binary (see fixtures/real/PROVENANCE.md).
/// The OpenAPI spec in that folder is not events and is left out.
const BUNDLED: &[(&str, &[u8])] = &[
    (
        "editgroups_one_qs_batch.json",
        include_bytes!("../../fixtures/real/editgroups_one_qs_batch.json"),
    ),
    (
        "editgroups_qs_batch_with_new_items.json",
        include_bytes!("../../fixtures/real/editgroups_qs_batch_with_new_items.json"),
    ),
    (
        "editgroups_qs_batch_with_reverts.json",
        include_bytes!("../../fixtures/real/editgroups_qs_batch_with_reverts.json"),
    ),
    (
        "iabotwatch_page-links-change_example.json",
        include_bytes!("../../fixtures/real/iabotwatch_page-links-change_example.json"),
    ),
    (
        "kafka-connect-sse_recentchange.json",
        include_bytes!("../../fixtures/real/kafka-connect-sse_recentchange.json"),
    ),
    (
        "polars-guide_wikimedia.ndjson",
        include_bytes!("../../fixtures/real/polars-guide_wikimedia.ndjson"),
    ),
    (
        "protsack-eventstream-client_page-create.json",
        include_bytes!("../../fixtures/real/protsack-eventstream-client_page-create.json"),
    ),
    (
        "protsack-eventstream-client_page-delete.json",
        include_bytes!("../../fixtures/real/protsack-eventstream-client_page-delete.json"),
    ),
    (
        "protsack-eventstream-client_page-move.json",
        include_bytes!("../../fixtures/real/protsack-eventstream-client_page-move.json"),
    ),
    (
        "protsack-eventstream-client_revision-create.json",
        include_bytes!("../../fixtures/real/protsack-eventstream-client_revision-create.json"),
    ),
    (
        "wiki_visualizer_example.events",
        include_bytes!("../../fixtures/real/wiki_visualizer_example.events"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} holds no events (expected NDJSON, JSON lines, JSON arrays of events or of {{id, data}} captures, or an SSE transcript)"
    )]
    Empty { path: String },
}

/// One recorded event, placed on a topic.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Canonical stream name (`mediawiki.recentchange`).
    pub stream: &'static str,
    /// `eqiad` or `codfw`, from the recorded `meta.topic`.
    pub datacenter: &'static str,
    /// Kafka timestamp: `meta.dt`, strictly increasing within the topic.
    pub ts_ms: i64,
    /// The event's JSON, compact, as recorded.
    pub data: Bytes,
}

impl Entry {
    pub fn topic(&self) -> String {
        format!("{}.{}", self.datacenter, self.stream)
    }
}

/// Events arranged per topic in time order. Offsets within a topic are
/// positions in this corpus.
#[derive(Debug, Default)]
pub struct Corpus {
    topics: HashMap<String, Vec<Entry>>,
    /// Inputs that were not events (counted while loading, for the log).
    pub skipped: u64,
}

/// What loading a document found, before events are placed on topics.
#[derive(Default)]
struct Loaded {
    entries: Vec<Entry>,
    skipped: u64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Head<'a> {
    #[serde(rename = "$schema", borrow)]
    schema: Option<Cow<'a, str>>,
    #[serde(borrow)]
    meta: Option<HeadMeta<'a>>,
    timestamp: Option<serde_json::Value>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HeadMeta<'a> {
    #[serde(borrow)]
    stream: Option<Cow<'a, str>>,
    #[serde(borrow)]
    topic: Option<Cow<'a, str>>,
    #[serde(borrow)]
    schema_uri: Option<Cow<'a, str>>,
    #[serde(borrow)]
    dt: Option<Cow<'a, str>>,
}

fn stream_from_schema(schema: &str) -> Option<&'static str> {
    let s = schema.trim_start_matches('/');
    let table: &[(&str, &str)] = &[
        ("mediawiki/recentchange", "mediawiki.recentchange"),
        ("mediawiki/page/links-change", "mediawiki.page-links-change"),
        ("mediawiki/page/delete", "mediawiki.page-delete"),
        ("mediawiki/page/undelete", "mediawiki.page-undelete"),
        ("mediawiki/page/move", "mediawiki.page-move"),
        (
            "mediawiki/page/properties-change",
            "mediawiki.page-properties-change",
        ),
        ("mediawiki/revision/create", "mediawiki.revision-create"),
        (
            "mediawiki/revision/tags-change",
            "mediawiki.revision-tags-change",
        ),
        (
            "mediawiki/revision/visibility-change",
            "mediawiki.revision-visibility-change",
        ),
    ];
    table
        .iter()
        .find(|(prefix, _)| s.starts_with(prefix))
        .map(|(_, stream)| *stream)
}

/// Places one event: its stream, datacenter and time, from the fields the
/// real service would have had.
fn entry_for(json: &[u8]) -> Option<Entry> {
    let head: Head = serde_json::from_slice(json).ok()?;
    let meta = head.meta.unwrap_or_default();
    let topic_parts = meta.topic.as_deref().and_then(|t| t.split_once('.'));
    let stream = meta
        .stream
        .as_deref()
        .and_then(canonical_stream)
        .or_else(|| topic_parts.and_then(|(_, s)| canonical_stream(s)))
        .or_else(|| head.schema.as_deref().and_then(stream_from_schema))
        .or_else(|| meta.schema_uri.as_deref().and_then(stream_from_schema))?;
    let datacenter = match topic_parts.map(|(dc, _)| dc) {
        Some("codfw") => "codfw",
        _ => "eqiad",
    };
    let ts_ms = meta
        .dt
        .as_deref()
        .and_then(parse_dt_ms)
        .or_else(|| match &head.timestamp {
            Some(serde_json::Value::Number(n)) => n.as_i64().map(|s| s * 1000),
            _ => None,
        })
        .unwrap_or(0);
    Some(Entry {
        stream,
        datacenter,
        ts_ms,
        data: Bytes::copy_from_slice(json),
    })
}

/// Removes insignificant whitespace from JSON text, keeping key order and
/// string contents byte for byte.
pub fn minify_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Whether the first non-empty line of `text` is Server-Sent Events.
fn looks_like_sse(text: &[u8]) -> bool {
    let first = text
        .split(|b| *b == b'\n' || *b == b'\r')
        .map(|l| {
            String::from_utf8_lossy(l)
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    crate::sse::looks_like_sse(&first)
}

/// A JSON value: an event, a `{id, data}` capture, or an array of either.
fn collect_value(raw: &RawValue, out: &mut Loaded) {
    let text = raw.get().trim_start();
    if text.starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(items) => items.into_iter().for_each(|v| collect_value(v, out)),
            Err(_) => out.skipped += 1,
        }
        return;
    }
    let compact = if text.contains('\n') {
        Cow::Owned(minify_json(text))
    } else {
        Cow::Borrowed(text)
    };
    if let Ok(head) = serde_json::from_str::<Head>(&compact)
        && head.meta.is_none()
        && let Some(data) = head.data
    {
        collect_value(data, out);
        return;
    }
    match entry_for(compact.as_bytes()) {
        Some(e) => out.entries.push(e),
        None => out.skipped += 1,
    }
}

/// Reads events from one document in any supported format.
fn load_document(text: &[u8]) -> Loaded {
    let mut out = Loaded::default();
    if looks_like_sse(text) {
        let mut parser = SseParser::new(usize::MAX / 2);
        let mut items = Vec::new();
        parser.feed(text, &mut items);
        parser.feed(b"\n\n", &mut items);
        for item in items {
            if let SseItem::Event(ev) = item
                && ev.event == "message"
            {
                match entry_for(&ev.data) {
                    Some(e) => out.entries.push(e),
                    None => out.skipped += 1,
                }
            }
        }
        return out;
    }
    // A stream of JSON values covers NDJSON, JSON lines, one pretty-printed
    // object and arrays alike. On a syntax error, fall back to lines so one
    // broken line costs one event, not the rest of the file.
    let mut values = serde_json::Deserializer::from_slice(text).into_iter::<&RawValue>();
    let mut failed = false;
    for v in values.by_ref() {
        match v {
            Ok(v) => collect_value(v, &mut out),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    if failed {
        out = Loaded::default();
        for line in text.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<&RawValue>(line) {
                Ok(v) => collect_value(v, &mut out),
                Err(_) => out.skipped += 1,
            }
        }
    }
    out
}

impl Corpus {
    /// The real recordings bundled in the binary: 5,793 recentchange,
    /// 1 page-links-change, 2 page-delete, 2 page-create, 2 page-move and
    /// 2 revision-create events.
    pub fn bundled() -> Corpus {
        let mut loaded = Loaded::default();
        for (_, bytes) in BUNDLED {
            let l = load_document(bytes);
            loaded.entries.extend(l.entries);
            loaded.skipped += l.skipped;
        }
        Corpus::arrange(loaded)
    }

    /// Loads files (or every file in a directory) in any supported format.
    pub fn load_paths(paths: &[impl AsRef<Path>]) -> Result<Corpus, CorpusError> {
        let mut loaded = Loaded::default();
        let mut files = Vec::new();
        for p in paths {
            let p = p.as_ref();
            if p.is_dir() {
                let mut inner: Vec<_> = std::fs::read_dir(p)
                    .map_err(|source| CorpusError::Read {
                        path: p.display().to_string(),
                        source,
                    })?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.is_file() && p.extension().is_some_and(|e| e != "md" && e != "txt")
                    })
                    .collect();
                inner.sort();
                files.extend(inner);
            } else {
                files.push(p.to_path_buf());
            }
        }
        for f in files {
            let bytes = std::fs::read(&f).map_err(|source| CorpusError::Read {
                path: f.display().to_string(),
                source,
            })?;
            let l = load_document(&bytes);
            if l.entries.is_empty() && l.skipped == 0 {
                return Err(CorpusError::Empty {
                    path: f.display().to_string(),
                });
            }
            loaded.entries.extend(l.entries);
            loaded.skipped += l.skipped;
        }
        Ok(Corpus::arrange(loaded))
    }

    /// Events as newline-separated JSON (what `wikiwatch synth` prints),
    /// without copying the event bytes.
    pub fn from_json_lines(text: Bytes) -> Corpus {
        let mut loaded = Loaded::default();
        let mut start = 0;
        while start < text.len() {
            let end = text[start..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(text.len(), |i| start + i);
            let line = &text[start..end];
            if !line.iter().all(u8::is_ascii_whitespace) {
                match entry_for(line) {
                    Some(mut e) => {
                        e.data = text.slice(start..end);
                        loaded.entries.push(e);
                    }
                    None => loaded.skipped += 1,
                }
            }
            start = end + 1;
        }
        Corpus::arrange(loaded)
    }

    /// Sorts each topic by time (stably) and makes its timestamps strictly
    /// increasing.
    fn arrange(loaded: Loaded) -> Corpus {
        let mut topics: HashMap<String, Vec<Entry>> = HashMap::new();
        for e in loaded.entries {
            topics.entry(e.topic()).or_default().push(e);
        }
        for entries in topics.values_mut() {
            entries.sort_by_key(|e| e.ts_ms);
            let mut last = i64::MIN;
            for e in entries.iter_mut() {
                if e.ts_ms <= last {
                    e.ts_ms = last + 1;
                }
                last = e.ts_ms;
            }
        }
        Corpus {
            topics,
            skipped: loaded.skipped,
        }
    }

    /// Events on `topic` (`eqiad.mediawiki.recentchange`), in offset order.
    pub fn topic(&self, topic: &str) -> &[Entry] {
        self.topics.get(topic).map_or(&[], Vec::as_slice)
    }

    /// Every event as one JSON line, topic by topic.
    pub fn write_json_lines(&self, out: &mut Vec<u8>) {
        let mut names: Vec<&String> = self.topics.keys().collect();
        names.sort();
        for name in names {
            for e in &self.topics[name] {
                out.extend_from_slice(&e.data);
                out.push(b'\n');
            }
        }
    }

    /// Events per canonical stream, for the start-up log.
    pub fn per_stream(&self) -> Vec<(&'static str, usize)> {
        let mut counts: HashMap<&'static str, usize> = HashMap::new();
        for entries in self.topics.values() {
            if let Some(first) = entries.first() {
                *counts.entry(first.stream).or_default() += entries.len();
            }
        }
        let mut v: Vec<_> = counts.into_iter().collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_recordings_have_the_counts_of_their_provenance() {
        let c = Corpus::bundled();
        let counts: HashMap<_, _> = c.per_stream().into_iter().collect();
        assert_eq!(counts["mediawiki.recentchange"], 5_793);
        assert_eq!(counts["mediawiki.page-links-change"], 1);
        assert_eq!(counts["mediawiki.page-delete"], 2);
        assert_eq!(counts["mediawiki.page-create"], 2);
        assert_eq!(counts["mediawiki.page-move"], 2);
        assert_eq!(counts["mediawiki.revision-create"], 2);
        assert_eq!(c.skipped, 0);
    }

    #[test]
    fn timestamps_strictly_increase_within_a_topic() {
        let c = Corpus::bundled();
        let rc = c.topic("eqiad.mediawiki.recentchange");
        assert!(rc.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms));
        // Recorded second-precision times are kept where they do not collide.
        assert_eq!(
            rc[0].ts_ms,
            parse_dt_ms("2018-03-07T16:16:17+00:00").unwrap()
        );
    }

    #[test]
    fn pretty_printed_input_is_minified_with_key_order_kept() {
        assert_eq!(
            minify_json("{\n  \"b\": \"x y\\\" z\",\n  \"a\": [1, 2]\n}"),
            r#"{"b":"x y\" z","a":[1,2]}"#
        );
        let c = Corpus::bundled();
        let del = c.topic("eqiad.mediawiki.page-delete");
        assert_eq!(del.len(), 2);
        assert!(!del[0].data.contains(&b'\n'));
        assert!(del[0].data.starts_with(b"{\"$schema\""));
    }

    #[test]
    fn broken_lines_cost_one_event_each() {
        let text = b"{\"meta\":{\"stream\":\"mediawiki.recentchange\",\"dt\":\"2024-01-01T00:00:00Z\"}}\n{broken\n{\"meta\":{\"stream\":\"mediawiki.recentchange\",\"dt\":\"2024-01-01T00:00:01Z\"}}\n";
        let l = load_document(text);
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.skipped, 1);
    }

    #[test]
    fn json_lines_share_the_input_buffer() {
        let text = Bytes::from_static(
            b"{\"meta\":{\"stream\":\"mediawiki.page-delete\",\"topic\":\"codfw.mediawiki.page-delete\",\"dt\":\"2024-01-01T00:00:00Z\"}}\n\n",
        );
        let c = Corpus::from_json_lines(text);
        let t = c.topic("codfw.mediawiki.page-delete");
        assert_eq!(t.len(), 1);
        assert!(t[0].data.ends_with(b"}}"));
    }
}
