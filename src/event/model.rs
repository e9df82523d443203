//! The normalised, owned events the rest of the program uses.

use serde::Serialize;

use crate::extract::{EditorKind, Hashtag};

use super::{ChangeKind, Stream};

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
