//! The hashtag query: one validated query type, its parameters' domain
//! enums and the rows and reports it is answered with. No SQL: the store
//! turns a [`HashtagQuery`] into queries (`crate::store::hashtags`), and the
//! JSON API, the pages, the feeds and the exports all build one.
//!
//! Semantics, whatever the backend:
//! - a query matches *edits* (rows of `hashtag_edits`), never tag rows: an edit
//!   carrying two of the requested tags is one result and counts once;
//! - `any` matches edits with at least one of the tags, `all` edits carrying
//!   every tag themselves (same wiki and rc id; never an rc id shared across
//!   wikis);
//! - results come newest first, `(time_ms, id)` descending, and a [`Cursor`]
//!   continues after the last row seen (keyset, never OFFSET).

use serde::Serialize;

/// How several tags combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TagMode {
    #[default]
    Any,
    All,
}

/// One wiki filter: by database name (`frwikisource`) or by domain
/// (`fr.wikisource.org`); `*` in either is a wildcard (`*.wikipedia.org`, `en.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WikiFilter {
    DbName(String),
    Domain(String),
    /// A LIKE pattern (`%` for `*`, with `\` escaping) over the database name.
    DbNameLike(String),
    /// A LIKE pattern over the domain.
    DomainLike(String),
}

impl WikiFilter {
    /// Parses one user-supplied wiki: anything with a dot is a domain.
    pub fn parse(s: &str) -> Option<WikiFilter> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*'))
        {
            return None;
        }
        let domain = s.contains('.');
        if s.contains('*') {
            let mut like = String::new();
            for c in s.chars() {
                match c {
                    '*' => like.push('%'),
                    '_' | '%' | '\\' => {
                        like.push('\\');
                        like.push(c);
                    }
                    c => like.push(c),
                }
            }
            Some(if domain {
                WikiFilter::DomainLike(like)
            } else {
                WikiFilter::DbNameLike(like)
            })
        } else if domain {
            Some(WikiFilter::Domain(s))
        } else {
            Some(WikiFilter::DbName(s))
        }
    }
}

/// Event types a query can be limited to (`edit`, `new` page, `log` entry,
/// `categorize`), as stored in `hashtag_edits.change_type`.
pub const CHANGE_TYPES: &[&str] = &["edit", "new", "log", "categorize"];

/// Media flags a query can require ("the edit added an image / video / audio
/// file"). Unchecked edits (flag unknown) never match a required flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MediaFilter {
    pub image: bool,
    pub video: bool,
    pub audio: bool,
}

impl MediaFilter {
    pub fn any(&self) -> bool {
        self.image || self.video || self.audio
    }
}

/// A validated hashtag query, built at the HTTP edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HashtagQuery {
    /// Tag keys (NFC + lowercase, without `#`), de-duplicated, in the order given.
    /// Empty means every hashtag edit.
    pub tags: Vec<String>,
    pub mode: TagMode,
    pub wikis: Vec<WikiFilter>,
    pub users: Vec<String>,
    pub namespaces: Vec<i64>,
    pub types: Vec<String>,
    /// Inclusive lower bound, ms since the epoch.
    pub from_ms: Option<i64>,
    /// Exclusive upper bound, ms since the epoch (the day after an inclusive end date).
    pub until_ms: Option<i64>,
    /// Text the summary must contain (case-insensitive for ASCII letters).
    pub text: Option<String>,
    pub media: MediaFilter,
}

impl HashtagQuery {
    /// True when the query filters on nothing but one tag and a time range,
    /// which per-tag rollups answer exactly.
    pub fn is_single_tag_only(&self) -> bool {
        self.tags.len() == 1
            && self.wikis.is_empty()
            && self.users.is_empty()
            && self.namespaces.is_empty()
            && self.types.is_empty()
            && self.text.is_none()
            && !self.media.any()
    }

    /// True when the use rows alone answer which edits match: tags, times,
    /// users and wikis by database name are copied onto every use row, so a
    /// count needs no join to the edits.
    pub fn uses_suffice(&self) -> bool {
        !self.tags.is_empty()
            && self
                .wikis
                .iter()
                .all(|w| matches!(w, WikiFilter::DbName(_) | WikiFilter::DbNameLike(_)))
            && self.namespaces.is_empty()
            && self.types.is_empty()
            && self.text.is_none()
            && !self.media.any()
    }
}

pub use crate::cursor::Cursor;

/// One matching edit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EditRow {
    /// Internal id (the keyset tiebreaker).
    pub id: i64,
    pub time_ms: i64,
    pub wiki: String,
    pub domain: String,
    pub rc_id: Option<i64>,
    pub rev_old: Option<i64>,
    pub rev_new: Option<i64>,
    pub title: String,
    pub namespace: i64,
    pub change_type: String,
    pub user: Option<String>,
    pub summary: String,
    pub len_old: Option<i64>,
    pub len_new: Option<i64>,
    pub is_new: bool,
    pub minor: bool,
    /// Every hashtag of the edit, as written, in key order.
    pub tags: Vec<String>,
    pub has_image: Option<bool>,
    pub has_video: Option<bool>,
    pub has_audio: Option<bool>,
}

impl EditRow {
    pub fn size_change(&self) -> Option<i64> {
        match (self.len_old, self.len_new) {
            (Some(o), Some(n)) => Some(n - o),
            (None, Some(n)) if self.is_new => Some(n),
            _ => None,
        }
    }

    pub fn cursor(&self) -> Cursor {
        Cursor {
            time_ms: self.time_ms,
            id: self.id,
        }
    }
}

/// A page of edits and the token for the next one (None on the last page).
#[derive(Debug, Clone)]
pub struct EditPage {
    pub rows: Vec<EditRow>,
    pub next: Option<Cursor>,
}

impl EditPage {
    /// The page of `limit` from the rows of a query asked for `limit + 1`:
    /// the one more than asked tells that there is a next page.
    pub fn from_rows(mut rows: Vec<EditRow>, limit: usize) -> EditPage {
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(EditRow::cursor)
        } else {
            None
        };
        EditPage { rows, next }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct HashtagStats {
    pub edits: i64,
    pub pages: i64,
    pub users: i64,
    pub wikis: i64,
    pub bytes_added: i64,
    pub bytes_removed: i64,
    pub pages_created: i64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

/// Edits per UTC day (`day` = days since the epoch); days without edits are absent.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct DayCount {
    pub day: i64,
    pub edits: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TopBy {
    User,
    Wiki,
    Page,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TopRow {
    /// User name, wiki domain, or page title.
    pub key: String,
    /// The wiki of a page (`by=page`), its domain.
    pub wiki: Option<String>,
    pub edits: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TagInfo {
    pub key: String,
    pub tag: String,
    pub first_ms: i64,
    pub last_ms: i64,
    pub uses: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOrder {
    Uses,
    Key,
    Recent,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TrendingRow {
    pub key: String,
    pub tag: String,
    /// Edits carrying the tag in the window.
    pub edits: i64,
    /// The same in the window before it.
    pub previous: i64,
}

/// An edit whose media flags are not known yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaCheck {
    pub id: i64,
    pub domain: String,
    pub rev_old: Option<i64>,
    pub rev_new: i64,
}

/// Whether an edit added an image, a video or an audio file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaFlags {
    pub image: bool,
    pub video: bool,
    pub audio: bool,
}

/// Appends one edit to an export (text, scratch space, the edit).
pub type RowEncoder = fn(&mut String, &mut String, &EditRow);
