//! The upstream event model.
//!
//! EventStreams delivers JSON whose shape varies by stream and by era: the
//! legacy 2018 recentchange form has `meta.schema_uri` and explicit `null`s,
//! today's form has `$schema` and omits nulls, and MediaWiki 1.0.1 schemas
//! allow `type` to be a number. [`RawEvent`] is one flat, borrowed struct that
//! accepts all of them (every field optional, unknown fields ignored, numbers
//! accepted as strings), and [`RawEvent::normalize`] turns it into an owned
//! [`Event`] that the rest of the program uses.
//!
//! Normalisation is pure (no I/O); it calls into [`crate::extract`] for
//! hashtags, mentions, autocomments and the editor kind.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};

use crate::extract::{self, EditorKind, Hashtag, Rules};

/// The streams wikiwatch understands. Anything else parses as [`Stream::Other`]
/// and is counted but not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stream {
    Recentchange,
    PageLinksChange,
    PageDelete,
    PageUndelete,
    Other,
}

impl Stream {
    pub const ALL: [Stream; 5] = [
        Stream::Recentchange,
        Stream::PageLinksChange,
        Stream::PageDelete,
        Stream::PageUndelete,
        Stream::Other,
    ];

    /// The short alias used in EventStreams URLs (`recentchange`).
    pub fn alias(self) -> &'static str {
        match self {
            Stream::Recentchange => "recentchange",
            Stream::PageLinksChange => "page-links-change",
            Stream::PageDelete => "page-delete",
            Stream::PageUndelete => "page-undelete",
            Stream::Other => "other",
        }
    }

    /// The canonical name carried in `meta.stream` (`mediawiki.recentchange`).
    pub fn canonical(self) -> &'static str {
        match self {
            Stream::Recentchange => "mediawiki.recentchange",
            Stream::PageLinksChange => "mediawiki.page-links-change",
            Stream::PageDelete => "mediawiki.page-delete",
            Stream::PageUndelete => "mediawiki.page-undelete",
            Stream::Other => "other",
        }
    }

    /// Accepts an alias or a canonical name.
    pub fn from_name(name: &str) -> Option<Stream> {
        let short = name.strip_prefix("mediawiki.").unwrap_or(name);
        match short {
            "recentchange" => Some(Stream::Recentchange),
            "page-links-change" => Some(Stream::PageLinksChange),
            "page-delete" => Some(Stream::PageDelete),
            "page-undelete" => Some(Stream::PageUndelete),
            _ => None,
        }
    }

    /// Identifies the stream from a schema URI (`/mediawiki/page/links-change/1.0.0`,
    /// legacy `mediawiki/recentchange/1`).
    pub fn from_schema(schema: &str) -> Option<Stream> {
        let s = schema.trim_start_matches('/');
        if s.starts_with("mediawiki/recentchange") {
            Some(Stream::Recentchange)
        } else if s.starts_with("mediawiki/page/links-change") {
            Some(Stream::PageLinksChange)
        } else if s.starts_with("mediawiki/page/delete") {
            Some(Stream::PageDelete)
        } else if s.starts_with("mediawiki/page/undelete") {
            Some(Stream::PageUndelete)
        } else {
            None
        }
    }
}

/// `meta` as found on every stream, borrowed from the input.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawMeta<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub dt: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub domain: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub stream: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub topic: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub partition: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub offset: Option<i64>,
    #[serde(borrow)]
    pub uri: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub schema_uri: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OldNew {
    #[serde(deserialize_with = "lenient_i64")]
    pub old: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub new: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPerformer<'a> {
    #[serde(borrow)]
    pub user_text: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub user_id: Option<i64>,
    pub user_is_bot: Option<bool>,
    #[serde(borrow)]
    pub user_groups: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    pub user_registration_dt: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub user_edit_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct RawLink<'a> {
    #[serde(borrow)]
    pub link: Cow<'a, str>,
    #[serde(default)]
    pub external: bool,
}

/// recentchange `type`: a string today, a number in schema 1.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Edit,
    New,
    Log,
    Categorize,
    External,
    Other,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Edit => "edit",
            ChangeKind::New => "new",
            ChangeKind::Log => "log",
            ChangeKind::Categorize => "categorize",
            ChangeKind::External => "external",
            ChangeKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        Some(match s {
            "edit" => ChangeKind::Edit,
            "new" => ChangeKind::New,
            "log" => ChangeKind::Log,
            "categorize" => ChangeKind::Categorize,
            "external" => ChangeKind::External,
            _ => return None,
        })
    }
}

/// What a lenient field found: any JSON value, classified without buffering
/// (serde's `untagged` would buffer every value and made parsing 3× slower).
enum Scalar<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Cow<'a, str>),
    Nothing,
}

struct ScalarVisitor;

impl<'de> serde::de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::Nothing, Scalar::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Scalar::Nothing)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar<'de>, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

fn change_kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ChangeKind>, D::Error> {
    Ok(match scalar(d)? {
        // MediaWiki's RC_EDIT, RC_NEW, RC_LOG, RC_EXTERNAL, RC_CATEGORIZE.
        Scalar::Int(0) => Some(ChangeKind::Edit),
        Scalar::Int(1) => Some(ChangeKind::New),
        Scalar::Int(3) => Some(ChangeKind::Log),
        Scalar::Int(5) => Some(ChangeKind::External),
        Scalar::Int(6) => Some(ChangeKind::Categorize),
        Scalar::Int(_) => Some(ChangeKind::Other),
        Scalar::Str(s) => Some(ChangeKind::parse(&s).unwrap_or(ChangeKind::Other)),
        _ => None,
    })
}

/// Accepts an integer, a numeric string, or null. A field of another type
/// becomes `None` instead of failing the whole event.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::Int(i) => Some(i),
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
        Scalar::Str(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Accepts a bool, 0/1, "true"/"false", or null.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::Bool(b) => Some(b),
        Scalar::Int(i) => Some(i != 0),
        Scalar::Str(s) => match &*s {
            "true" | "1" => Some(true),
            "false" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// One event of any stream we consume, borrowed from the input bytes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawEvent<'a> {
    #[serde(rename = "$schema", borrow)]
    pub schema: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub meta: RawMeta<'a>,

    // recentchange
    #[serde(deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    #[serde(rename = "type", deserialize_with = "change_kind")]
    pub kind: Option<ChangeKind>,
    #[serde(deserialize_with = "lenient_i64")]
    pub namespace: Option<i64>,
    #[serde(borrow)]
    pub title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub comment: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub timestamp: Option<i64>,
    #[serde(borrow)]
    pub user: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_bool")]
    pub bot: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub minor: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub patrolled: Option<bool>,
    pub length: Option<OldNew>,
    pub revision: Option<OldNew>,
    #[serde(borrow)]
    pub server_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub server_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub server_script_path: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub wiki: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub log_id: Option<i64>,
    #[serde(borrow)]
    pub log_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub log_action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub notify_url: Option<Cow<'a, str>>,

    // page-links-change, page-delete, page-undelete
    #[serde(borrow)]
    pub database: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub page_id: Option<i64>,
    #[serde(borrow)]
    pub page_title: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub page_namespace: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub rev_id: Option<i64>,
    #[serde(borrow)]
    pub performer: Option<RawPerformer<'a>>,
    #[serde(borrow)]
    pub added_links: Option<Vec<RawLink<'a>>>,
    #[serde(borrow)]
    pub removed_links: Option<Vec<RawLink<'a>>>,
}

/// Why an input could not become an [`Event`].
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not valid JSON for an event: {0}")]
    Json(#[from] serde_json::Error),
}

/// Parses one event's JSON bytes.
pub fn parse_raw(bytes: &[u8]) -> Result<RawEvent<'_>, EventError> {
    Ok(serde_json::from_slice(bytes)?)
}

/// Parses and normalises one event.
pub fn parse(bytes: &[u8], rules: &Rules) -> Result<Event, EventError> {
    Ok(parse_raw(bytes)?.normalize(rules))
}

/// Milliseconds since the Unix epoch from an ISO-8601 / RFC 3339 string as
/// found in `meta.dt` (`2018-03-07T16:16:17+00:00`, `…Z`, `….048Z`, or a
/// space instead of `T`).
pub fn parse_dt_ms(dt: &str) -> Option<i64> {
    let dt = dt.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(dt) {
        return Some(t.timestamp_millis());
    }
    let with_t = dt.replacen(' ', "T", 1);
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&with_t) {
        return Some(t.timestamp_millis());
    }
    // A date-time without an offset is UTC, as MediaWiki writes it.
    chrono::NaiveDateTime::parse_from_str(&with_t, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// Formats epoch milliseconds as RFC 3339 UTC with millisecond precision.
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Envelope fields common to every stream.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Envelope {
    pub stream: Stream,
    /// `meta.id`, the event UUID used for de-duplication. Empty when absent.
    pub meta_id: String,
    /// `meta.dt` in epoch milliseconds (falls back to `timestamp` seconds).
    pub dt_ms: i64,
    /// `meta.domain`, e.g. `en.wikipedia.org`; `canary` for canary events.
    pub domain: String,
    pub topic: Option<String>,
    pub partition: Option<i64>,
    pub offset: Option<i64>,
}

impl Envelope {
    pub fn is_canary(&self) -> bool {
        self.domain == "canary"
    }
}

/// A normalised event.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    Recentchange(Box<Change>),
    PageLinksChange(Box<LinksChange>),
    PageDelete(Box<PageLifecycle>),
    PageUndelete(Box<PageLifecycle>),
    Other(Envelope),
}

impl Event {
    pub fn envelope(&self) -> &Envelope {
        match self {
            Event::Recentchange(c) => &c.envelope,
            Event::PageLinksChange(l) => &l.envelope,
            Event::PageDelete(p) | Event::PageUndelete(p) => &p.envelope,
            Event::Other(e) => e,
        }
    }
}

/// A recentchange event with the parsed summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Change {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Database name (`enwiki`); derived from the server name when absent.
    pub wiki: String,
    /// Host name of the wiki (`en.wikipedia.org`).
    pub server_name: String,
    pub server_url: String,
    pub script_path: String,
    pub rc_id: Option<i64>,
    #[serde(rename = "type")]
    pub change_kind: ChangeKind,
    pub namespace: i64,
    pub title: String,
    pub user: Option<String>,
    pub editor: EditorKind,
    pub bot: bool,
    pub minor: bool,
    pub patrolled: Option<bool>,
    pub summary: String,
    pub length_old: Option<i64>,
    pub length_new: Option<i64>,
    pub rev_old: Option<i64>,
    pub rev_new: Option<i64>,
    pub log_id: Option<i64>,
    pub log_type: Option<String>,
    pub log_action: Option<String>,
    pub hashtags: Vec<Hashtag>,
    /// Tags that were rejected for being longer than the limit.
    pub hashtags_too_long: u32,
    pub mentions: Vec<String>,
    /// Section name of the first `/* … */` autocomment, unless machine-generated.
    pub section: Option<String>,
    /// Wikibase machine autocomment key such as `wbsetclaim-create`.
    pub machine_comment: Option<String>,
    /// The summary without its leading autocomment (WikiMon's `parsed_summary`).
    pub parsed_summary: String,
}

impl Change {
    /// `length.new - length.old`; a new page counts from zero.
    pub fn size_change(&self) -> Option<i64> {
        match (self.length_old, self.length_new) {
            (Some(o), Some(n)) => Some(n - o),
            (None, Some(n)) if self.change_kind == ChangeKind::New => Some(n),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Performer {
    pub name: String,
    pub id: Option<i64>,
    pub bot: bool,
    pub groups: Vec<String>,
    /// `user_registration_dt` in epoch ms.
    pub registration_ms: Option<i64>,
    pub edit_count: Option<i64>,
}

/// A page-links-change event restricted to external links.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LinksChange {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub wiki: String,
    pub page_id: Option<i64>,
    /// Prefixed title with spaces (the stream sends the DB key with underscores).
    pub page_title: String,
    pub page_namespace: i64,
    pub rev_id: Option<i64>,
    pub performer: Option<Performer>,
    /// External links added, as received (percent-encoded).
    pub added: Vec<String>,
    /// External links removed, as received.
    pub removed: Vec<String>,
    /// Internal links in the event; counted, never stored.
    pub internal_links: u32,
}

/// A page-delete or page-undelete event.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PageLifecycle {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub wiki: String,
    pub page_id: Option<i64>,
    pub page_title: String,
    pub page_namespace: i64,
    pub rev_id: Option<i64>,
    pub performer: Option<Performer>,
    pub comment: String,
}

fn owned(c: &Option<Cow<'_, str>>) -> Option<String> {
    c.as_deref().map(str::to_owned)
}

/// `en.wikipedia.org` → `enwiki` for the families whose database names follow
/// the simple rule; used only when an event carries no database name.
pub fn dbname_from_host(host: &str) -> String {
    let special = [
        ("www.wikidata.org", "wikidatawiki"),
        ("wikidata.org", "wikidatawiki"),
        ("commons.wikimedia.org", "commonswiki"),
        ("meta.wikimedia.org", "metawiki"),
        ("species.wikimedia.org", "specieswiki"),
        ("www.mediawiki.org", "mediawikiwiki"),
        ("test.wikidata.org", "testwikidatawiki"),
        ("incubator.wikimedia.org", "incubatorwiki"),
        ("wikisource.org", "sourceswiki"),
    ];
    if let Some((_, db)) = special.iter().find(|(h, _)| *h == host) {
        return (*db).to_owned();
    }
    let mut parts = host.split('.');
    let (Some(lang), Some(family)) = (parts.next(), parts.next()) else {
        return host.to_owned();
    };
    let lang = lang.replace('-', "_");
    match family {
        "wikipedia" => format!("{lang}wiki"),
        "wikimedia" => format!("{lang}wiki"),
        other => format!("{lang}{other}"),
    }
}

impl<'a> RawEvent<'a> {
    /// Which stream this event belongs to, from `meta.stream`, `$schema`,
    /// `meta.schema_uri`, or `meta.topic`, in that order.
    pub fn stream(&self) -> Stream {
        if let Some(s) = self.meta.stream.as_deref().and_then(Stream::from_name) {
            return s;
        }
        if let Some(s) = self.schema.as_deref().and_then(Stream::from_schema) {
            return s;
        }
        if let Some(s) = self
            .meta
            .schema_uri
            .as_deref()
            .and_then(Stream::from_schema)
        {
            return s;
        }
        if let Some(topic) = self.meta.topic.as_deref() {
            // `eqiad.mediawiki.recentchange`
            let name = topic.split_once('.').map_or(topic, |(_, rest)| rest);
            if let Some(s) = Stream::from_name(name) {
                return s;
            }
        }
        Stream::Other
    }

    fn envelope(&self, stream: Stream) -> Envelope {
        let dt_ms = self
            .meta
            .dt
            .as_deref()
            .and_then(parse_dt_ms)
            .or_else(|| self.timestamp.map(|s| s.saturating_mul(1000)))
            .unwrap_or(0);
        Envelope {
            stream,
            meta_id: self.meta.id.as_deref().unwrap_or_default().to_owned(),
            dt_ms,
            domain: self.meta.domain.as_deref().unwrap_or_default().to_owned(),
            topic: owned(&self.meta.topic),
            partition: self.meta.partition,
            offset: self.meta.offset,
        }
    }

    fn performer(&self) -> Option<Performer> {
        let p = self.performer.as_ref()?;
        let name = p.user_text.as_deref()?.to_owned();
        Some(Performer {
            name,
            id: p.user_id,
            bot: p.user_is_bot.unwrap_or(false),
            groups: p
                .user_groups
                .as_ref()
                .map(|g| g.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
            registration_ms: p.user_registration_dt.as_deref().and_then(parse_dt_ms),
            edit_count: p.user_edit_count,
        })
    }

    fn wiki_from_database(&self, envelope: &Envelope) -> String {
        match self.database.as_deref().or(self.wiki.as_deref()) {
            Some(db) => db.to_owned(),
            None => dbname_from_host(&envelope.domain),
        }
    }

    /// Builds the owned, normalised event.
    pub fn normalize(&self, rules: &Rules) -> Event {
        let stream = self.stream();
        let envelope = self.envelope(stream);
        match stream {
            Stream::Recentchange => Event::Recentchange(Box::new(self.change(envelope, rules))),
            Stream::PageLinksChange => {
                let collect = |links: &Option<Vec<RawLink<'_>>>, internal: &mut u32| {
                    let mut out = Vec::new();
                    for l in links.iter().flatten() {
                        if l.external {
                            out.push(l.link.to_string());
                        } else {
                            *internal += 1;
                        }
                    }
                    out
                };
                let mut internal = 0;
                let added = collect(&self.added_links, &mut internal);
                let removed = collect(&self.removed_links, &mut internal);
                Event::PageLinksChange(Box::new(LinksChange {
                    wiki: self.wiki_from_database(&envelope),
                    page_id: self.page_id,
                    page_title: self
                        .page_title
                        .as_deref()
                        .unwrap_or_default()
                        .replace('_', " "),
                    page_namespace: self.page_namespace.unwrap_or(0),
                    rev_id: self.rev_id,
                    performer: self.performer(),
                    added,
                    removed,
                    internal_links: internal,
                    envelope,
                }))
            }
            Stream::PageDelete | Stream::PageUndelete => {
                let p = Box::new(PageLifecycle {
                    wiki: self.wiki_from_database(&envelope),
                    page_id: self.page_id,
                    page_title: self
                        .page_title
                        .as_deref()
                        .unwrap_or_default()
                        .replace('_', " "),
                    page_namespace: self.page_namespace.unwrap_or(0),
                    rev_id: self.rev_id,
                    performer: self.performer(),
                    comment: self.comment.as_deref().unwrap_or_default().to_owned(),
                    envelope,
                });
                if stream == Stream::PageDelete {
                    Event::PageDelete(p)
                } else {
                    Event::PageUndelete(p)
                }
            }
            Stream::Other => Event::Other(envelope),
        }
    }

    fn change(&self, envelope: Envelope, rules: &Rules) -> Change {
        let server_name = self
            .server_name
            .as_deref()
            .or(self.meta.domain.as_deref())
            .unwrap_or_default()
            .to_owned();
        let wiki = match self.wiki.as_deref() {
            Some(w) => w.to_owned(),
            None => dbname_from_host(&server_name),
        };
        let summary = self.comment.as_deref().unwrap_or_default().to_owned();
        let tags = extract::hashtags(&summary, &rules.hashtags);
        let auto = extract::autocomment(&summary);
        let user = owned(&self.user);
        let editor = user
            .as_deref()
            .map(extract::editor_kind)
            .unwrap_or(EditorKind::Named);
        Change {
            wiki,
            server_url: self
                .server_url
                .as_deref()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("https://{server_name}")),
            script_path: self
                .server_script_path
                .as_deref()
                .unwrap_or("/w")
                .to_owned(),
            server_name,
            rc_id: self.id,
            change_kind: self.kind.unwrap_or(ChangeKind::Other),
            namespace: self.namespace.unwrap_or(0),
            title: self.title.as_deref().unwrap_or_default().to_owned(),
            user,
            editor,
            bot: self.bot.unwrap_or(false),
            minor: self.minor.unwrap_or(false),
            patrolled: self.patrolled,
            length_old: self.length.as_ref().and_then(|l| l.old),
            length_new: self.length.as_ref().and_then(|l| l.new),
            rev_old: self.revision.as_ref().and_then(|r| r.old),
            rev_new: self.revision.as_ref().and_then(|r| r.new),
            log_id: self.log_id,
            log_type: owned(&self.log_type),
            log_action: owned(&self.log_action),
            hashtags: tags.tags,
            hashtags_too_long: tags.too_long,
            mentions: extract::mentions(&summary),
            section: auto.section,
            machine_comment: auto.machine,
            parsed_summary: auto.rest,
            summary,
            envelope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_date_forms() {
        assert_eq!(parse_dt_ms("2023-07-29T07:51:39Z"), Some(1_690_617_099_000));
        assert_eq!(
            parse_dt_ms("2018-03-07T16:16:17+00:00"),
            Some(1_520_439_377_000)
        );
        assert_eq!(
            parse_dt_ms("2026-03-03T11:15:25.048Z"),
            Some(1_772_536_525_048)
        );
        assert_eq!(parse_dt_ms("garbage"), None);
    }

    #[test]
    fn type_may_be_a_number_and_numbers_may_be_strings() {
        let raw = br#"{"$schema":"/mediawiki/recentchange/1.0.1","meta":{"id":"x","dt":"2023-07-29T07:51:39Z","domain":"en.wikipedia.org"},"type":1,"namespace":"4","title":"T","wiki":"enwiki","length":{"new":22}}"#;
        let Event::Recentchange(c) = parse(raw, &Rules::default()).unwrap() else {
            panic!("not a recentchange")
        };
        assert_eq!(c.change_kind, ChangeKind::New);
        assert_eq!(c.namespace, 4);
        assert_eq!(c.size_change(), Some(22));
    }

    #[test]
    fn legacy_schema_uri_and_nulls() {
        let raw = br#"{"meta":{"schema_uri":"mediawiki/recentchange/1","id":"a","dt":"2018-03-07T16:16:17+00:00","domain":"www.wikidata.org"},"id":null,"type":"log","revision":{"old":null,"new":5},"server_name":"www.wikidata.org"}"#;
        let Event::Recentchange(c) = parse(raw, &Rules::default()).unwrap() else {
            panic!("not a recentchange")
        };
        assert_eq!(c.rc_id, None);
        assert_eq!(c.rev_old, None);
        assert_eq!(c.wiki, "wikidatawiki");
    }

    #[test]
    fn dbnames_from_hosts() {
        assert_eq!(dbname_from_host("en.wikipedia.org"), "enwiki");
        assert_eq!(dbname_from_host("fr.wikisource.org"), "frwikisource");
        assert_eq!(dbname_from_host("zh-yue.wikipedia.org"), "zh_yuewiki");
        assert_eq!(dbname_from_host("www.wikidata.org"), "wikidatawiki");
    }
}
