//! Hashtags in edit summaries. STUB: to be implemented.
use serde::Serialize;
use std::collections::HashSet;

/// A hashtag as written (`text`, without `#`) and its search key (NFC + lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hashtag {
    pub text: String,
    pub key: String,
}

/// Result of scanning one summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub tags: Vec<Hashtag>,
    /// Candidates rejected for exceeding `max_chars`.
    pub too_long: u32,
}

#[derive(Debug, Clone)]
pub struct HashtagRules {
    /// Lowercase keys that are never hashtags.
    pub excluded: HashSet<String>,
    pub max_chars: usize,
}

impl Default for HashtagRules {
    fn default() -> Self {
        HashtagRules {
            excluded: HashSet::new(),
            max_chars: 128,
        }
    }
}

impl HashtagRules {
    pub fn with_excluded<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        HashtagRules {
            excluded: words.into_iter().map(hashtag_key).collect(),
            max_chars: 128,
        }
    }
}

/// NFC + lowercase.
pub fn hashtag_key(tag: &str) -> String {
    tag.to_lowercase()
}

pub fn hashtags(_summary: &str, _rules: &HashtagRules) -> Extracted {
    Extracted::default()
}
