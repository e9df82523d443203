//! What the pipeline hands to the store: a batch of ordered write operations
//! and the stream position reached after them. The store applies a batch in
//! one transaction, so rows and position are never out of step.

use serde::Serialize;

use crate::event::Performer;
use crate::extract::{EditorKind, Hashtag, LinkInfo};
pub use crate::links::filter::{LinkAction, Provenance};

/// One transaction's worth of writes.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    /// The SSE `id` after the last event this batch covers (stored with the rows).
    pub position: Option<String>,
    /// Writes in stream order: a deletion must see the links added before it.
    pub ops: Vec<Op>,
    /// Events covered (including those that produced no rows).
    pub events: u64,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.position.is_none()
    }
}

#[derive(Debug, Clone)]
pub enum Op {
    HashtagEdit(Box<HashtagEdit>),
    Link(Box<LinkChangeRow>),
    PageDeleted(Box<PageEventRow>),
    PageRestored(Box<PageEventRow>),
}

/// A recentchange event that carries at least one hashtag.
#[derive(Debug, Clone, Serialize)]
pub struct HashtagEdit {
    pub meta_id: String,
    pub wiki: String,
    pub domain: String,
    pub rc_id: Option<i64>,
    pub rev_old: Option<i64>,
    pub rev_new: Option<i64>,
    pub title: String,
    pub namespace: i64,
    pub change_type: String,
    pub user: Option<String>,
    pub editor_kind: EditorKind,
    pub time_ms: i64,
    pub summary: String,
    pub len_old: Option<i64>,
    pub len_new: Option<i64>,
    pub minor: bool,
    pub is_new: bool,
    pub bot: bool,
    pub tags: Vec<Hashtag>,
}

/// One external link added or removed by a page-links-change event.
#[derive(Debug, Clone)]
pub struct LinkChangeRow {
    pub meta_id: String,
    pub action: LinkAction,
    pub wiki: String,
    /// `meta.domain` of the event (`en.wikipedia.org`).
    pub wiki_domain: String,
    pub page_id: i64,
    pub page_title: String,
    pub page_namespace: i64,
    pub rev_id: Option<i64>,
    pub performer: Option<Performer>,
    pub time_ms: i64,
    pub link: LinkInfo,
    /// `reversed_host` of the effective host, for label-boundary matching.
    pub rhost: Option<String>,
    /// The recentchange this event was paired with (provenance `edit`).
    pub rc_id: Option<i64>,
    pub provenance: Provenance,
    /// Of the performer's name; `None` without a performer.
    pub editor_kind: Option<EditorKind>,
    /// The archived or proxied URL for wrapped links, else `link.url`.
    pub target: String,
}

/// A page deletion or restoration; the store turns it into link events for the
/// links it knows were present on the page.
#[derive(Debug, Clone)]
pub struct PageEventRow {
    pub meta_id: String,
    pub wiki: String,
    pub wiki_domain: String,
    pub page_id: i64,
    pub page_title: String,
    pub page_namespace: i64,
    pub rev_id: Option<i64>,
    pub performer: Option<Performer>,
    pub time_ms: i64,
}

/// What applying a batch changed. Replaying a batch yields all zeros.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WriteOutcome {
    pub hashtag_edits: u64,
    pub hashtag_uses: u64,
    pub link_events: u64,
}

/// The tables whose rows `/api/status` counts: each backend's writer keeps
/// their totals in `row_counts`, adding a batch's deltas (indexed by the
/// constants below) in the batch's transaction.
pub(crate) const COUNTED_TABLES: [&str; 6] = [
    "hashtag_edits",
    "hashtag_uses",
    "hashtag_tags",
    "link_events",
    "page_links",
    "page_events",
];
pub(crate) const EDITS: usize = 0;
pub(crate) const USES: usize = 1;
pub(crate) const TAGS: usize = 2;
pub(crate) const LINK_EVENTS: usize = 3;
pub(crate) const PAGE_LINKS: usize = 4;
pub(crate) const PAGE_EVENTS: usize = 5;
