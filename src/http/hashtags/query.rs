//! Parsing a hashtag request into the domain's [`HashtagQuery`] (tags, mode,
//! wikis, users, namespaces, types, dates, text, media), plus the tag-list
//! order and the continuation cursor; a bad value is a 400 naming it.

use crate::extract::hashtag_key;
use crate::hashtags::query::{
    CHANGE_TYPES, Cursor, HashtagQuery, MediaFilter, TagMode, TagOrder, WikiFilter,
};
use crate::http::error::ApiError;
use crate::http::params::{Choices, DAY_MS, Params};

const MAX_TAGS: usize = 20;

/// A tag as typed (`#WPWP`, `wpwp`, `＃WPWP`) → its key, or None if empty.
pub fn tag_key_of(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.trim_start_matches(['#', '＃']).trim();
    (!s.is_empty()).then(|| hashtag_key(s))
}

/// Parses the shared query parameters.
pub fn parse_query(p: &Params) -> Result<HashtagQuery, ApiError> {
    let mut q = HashtagQuery::default();
    let mut raw_tags = p.list("tags", ',');
    raw_tags.extend(p.list("tag", ','));
    for t in raw_tags {
        let Some(key) = tag_key_of(&t) else { continue };
        if key.chars().count() > 128 {
            return Err(ApiError::bad("tags", "a tag has at most 128 characters"));
        }
        if key.chars().any(char::is_whitespace) {
            return Err(ApiError::bad(
                "tags",
                format!("{t:?} is not a tag: separate several tags with commas"),
            ));
        }
        if !q.tags.contains(&key) {
            q.tags.push(key);
        }
    }
    if q.tags.len() > MAX_TAGS {
        return Err(ApiError::bad(
            "tags",
            format!("at most {MAX_TAGS} tags per query"),
        ));
    }
    q.mode = p.choice("mode", &MODES)?.unwrap_or(TagMode::Any);
    for w in p.list("wiki", ',') {
        q.wikis.push(WikiFilter::parse(&w).ok_or_else(|| {
            ApiError::bad(
                "wiki",
                format!(
                    "{w:?} is not a wiki: use a domain (fr.wikisource.org), a database name (frwikisource) or a wildcard (*.wikipedia.org, en.*)"
                ),
            )
        })?);
    }
    for u in p.list("user", '|') {
        let u = u.replace('_', " ");
        if !q.users.contains(&u) {
            q.users.push(u);
        }
    }
    for n in p.list("namespace", ',') {
        q.namespaces.push(n.parse().map_err(|_| {
            ApiError::bad(
                "namespace",
                format!("namespace must be a number, not {n:?}"),
            )
        })?);
    }
    for t in p.list("type", ',') {
        let t = t.to_ascii_lowercase();
        if !CHANGE_TYPES.contains(&t.as_str()) {
            return Err(ApiError::bad(
                "type",
                format!("type must be one of {}, not {t:?}", CHANGE_TYPES.join(", ")),
            ));
        }
        q.types.push(t);
    }
    q.from_ms = p.date("start")?;
    // The end date is inclusive: everything before the next midnight.
    q.until_ms = p.date("end")?.map(|ms| ms + DAY_MS);
    if let (Some(f), Some(u)) = (q.from_ms, q.until_ms)
        && u <= f
    {
        return Err(ApiError::bad("end", "end must not be before start"));
    }
    if let Some(t) = p.one("text") {
        if t.chars().count() > 200 {
            return Err(ApiError::bad("text", "text has at most 200 characters"));
        }
        q.text = Some(t.to_owned());
    }
    q.media = MediaFilter {
        image: p.flag("image")?,
        video: p.flag("video")?,
        audio: p.flag("audio")?,
    };
    Ok(q)
}

pub fn cursor(p: &Params) -> Result<Option<Cursor>, ApiError> {
    p.cursor("cursor", |c| Cursor::decode(c).ok_or(()))
}

const MODES: Choices<TagMode> = Choices {
    entries: &[
        (&["any", "or"], TagMode::Any),
        (&["all", "and"], TagMode::All),
    ],
    fold_case: true,
};

const TAG_ORDERS: Choices<TagOrder> = Choices {
    entries: &[
        (&["uses"], TagOrder::Uses),
        (&["name"], TagOrder::Key),
        (&["recent"], TagOrder::Recent),
    ],
    fold_case: false,
};

/// A request for the list of tags: `prefix` (as typed), `order`, `limit`.
pub struct TagList {
    pub prefix: String,
    pub order: TagOrder,
    pub limit: usize,
}

impl TagList {
    /// The tag list `p` asks for, `default_limit` tags unless it says.
    pub fn from_params(p: &Params, default_limit: usize) -> Result<TagList, ApiError> {
        Ok(TagList {
            prefix: p.one("prefix").and_then(tag_key_of).unwrap_or_default(),
            order: p.choice("order", &TAG_ORDERS)?.unwrap_or(TagOrder::Uses),
            limit: p.limit(default_limit, 10_000)?,
        })
    }
}

pub fn describe(q: &HashtagQuery) -> String {
    if q.tags.is_empty() {
        "all hashtags".to_owned()
    } else {
        let sep = if q.mode == TagMode::All {
            " and "
        } else {
            " or "
        };
        q.tags
            .iter()
            .map(|t| format!("#{t}"))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::params::DAY_MS;

    fn params(s: &str) -> Params {
        Params::decode(Some(s))
    }

    #[test]
    fn query_parsing() {
        let q = parse_query(&params(
            "tags=%23WPWP,+1Lib1Ref,wpwp&mode=all&wiki=*.wikipedia.org,frwikisource&start=2026-01-01&end=2026-01-01",
        ))
        .unwrap();
        assert_eq!(q.tags, vec!["wpwp", "1lib1ref"]);
        assert_eq!(q.mode, TagMode::All);
        assert_eq!(
            q.wikis,
            vec![
                WikiFilter::DomainLike("%.wikipedia.org".into()),
                WikiFilter::DbName("frwikisource".into())
            ]
        );
        assert_eq!(q.until_ms.unwrap() - q.from_ms.unwrap(), DAY_MS);
        for (bad, param) in [
            ("mode=both", "mode"),
            ("start=2026-13-01", "start"),
            ("start=2026-01-02&end=2026-01-01", "end"),
            ("namespace=x", "namespace"),
            ("type=foo", "type"),
            ("wiki=a%20b", "wiki"),
            ("image=maybe", "image"),
        ] {
            match parse_query(&params(bad)) {
                Err(ApiError::BadRequest { parameter, .. }) => assert_eq!(parameter, param),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
