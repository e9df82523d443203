//! Which stream an event came from and which kind of change a recentchange
//! event is, with the names EventStreams and MediaWiki use for them.

use serde::{Deserialize, Serialize};

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
