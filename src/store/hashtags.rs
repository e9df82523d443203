//! The hashtag read operations: the [`HashtagQueries`] trait every backend
//! implements, and the SQL both run for it, written once with the
//! [`SqlBuilder`]; per backend stays only what truly differs (how an edit's
//! tags are joined into one column, and `COLLATE "C"` on PostgreSQL, see
//! [`Dialect::byte_order`]).
//!
//! Semantics, whatever the backend:
//! - a query matches *edits* (rows of `hashtag_edits`), never tag rows: an edit
//!   carrying two of the requested tags is one result and counts once;
//! - `any` matches edits with at least one of the tags, `all` edits carrying
//!   every tag themselves (same wiki and rc id; never an rc id shared across
//!   wikis);
//! - results come newest first, `(time_ms, id)` descending, and a [`Cursor`]
//!   continues after the last row seen (keyset, never OFFSET).
//!
//! Every query is one `FROM … WHERE …` built by [`matching`], which yields
//! each matching edit exactly once:
//! - one tag: the rows of `hashtag_uses` for that key, in the order of the
//!   `(tag_key, time_ms, edit_id)` index, so the newest page is an index walk;
//! - `any` of several: the edits whose ids the tags' index ranges give (one
//!   edit once however many of the tags it has); the edits page instead merges
//!   each tag's own newest-first walk (`UNION` of per-tag `LIMIT`ed scans);
//! - `all`: the use rows of the first key whose edit also has every other key;
//! - no tag: the edits themselves.

use async_trait::async_trait;

use super::StoreError;
use super::sql::{Dialect, Query, SqlBuilder, SqlValue, like_escape};
use crate::hashtags::query::{
    Cursor, DayCount, EditPage, HashtagQuery, HashtagStats, MediaCheck, MediaFlags, RowEncoder,
    TagInfo, TagMode, TagOrder, TopBy, TopRow, TrendingRow, WikiFilter,
};

pub const HOUR_MS: i64 = 3_600_000;

/// The read side of hashtag tracking. Implemented by each backend over the
/// SQL below; nothing else builds these queries.
#[async_trait]
pub trait HashtagQueries: Send + Sync {
    /// Matching edits newest first, `limit` at most, after `after`.
    async fn hashtag_edits(
        &self,
        q: &HashtagQuery,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<EditPage, StoreError>;

    /// Matching edits newest first, as [`HashtagQueries::hashtag_edits`],
    /// each passed to `encode` (which appends it to the text, using the
    /// second string as scratch space) instead of returned: the exports'
    /// path. A backend may reuse one row's buffers for every edit and encode
    /// where it reads. Returns the text and where the next page starts.
    async fn hashtag_edits_encoded(
        &self,
        q: &HashtagQuery,
        after: Option<Cursor>,
        limit: usize,
        encode: RowEncoder,
    ) -> Result<(String, Option<Cursor>), StoreError> {
        let page = self.hashtag_edits(q, after, limit).await?;
        let (mut out, mut scratch) = (String::new(), String::new());
        for r in &page.rows {
            encode(&mut out, &mut scratch, r);
        }
        Ok((out, page.next))
    }

    async fn hashtag_stats(&self, q: &HashtagQuery) -> Result<HashtagStats, StoreError>;

    /// Distinct matching edits per UTC day, ascending, without empty days.
    async fn hashtag_days(&self, q: &HashtagQuery) -> Result<Vec<DayCount>, StoreError>;

    async fn hashtag_top(
        &self,
        q: &HashtagQuery,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError>;

    /// Tags with the most edits in `[until_ms - window_ms, until_ms)`, and
    /// their count in the window before.
    async fn hashtag_trending(
        &self,
        until_ms: i64,
        window_ms: i64,
        limit: usize,
    ) -> Result<Vec<TrendingRow>, StoreError>;

    /// The tag vocabulary, optionally by key prefix.
    async fn hashtag_tags(
        &self,
        prefix: &str,
        order: TagOrder,
        limit: usize,
    ) -> Result<Vec<TagInfo>, StoreError>;

    /// Time of the newest stored hashtag edit.
    async fn hashtag_newest_ms(&self) -> Result<Option<i64>, StoreError>;

    /// Edits with a revision whose media flags are unknown and that have
    /// been tried fewer than `max_attempts` times, newest first.
    async fn media_pending(
        &self,
        limit: usize,
        max_attempts: i64,
    ) -> Result<Vec<MediaCheck>, StoreError>;

    /// Records checks: `Some` sets the flags, `None` counts a failed attempt.
    async fn media_record(&self, results: Vec<(i64, Option<MediaFlags>)>)
    -> Result<(), StoreError>;
}

/// The `FROM … WHERE …` of a query (its parameters are in the builder), and
/// the time and id columns rows are ordered by.
pub struct Matching {
    pub sql: String,
    pub time: &'static str,
    pub id: &'static str,
}

/// The matching part of `q` after `after`; `join_edits` false leaves the
/// edits out (only when [`HashtagQuery::uses_suffice`]).
pub fn matching(
    b: &mut SqlBuilder,
    q: &HashtagQuery,
    after: Option<Cursor>,
    join_edits: bool,
) -> Matching {
    let mut m = Matching {
        sql: String::new(),
        time: "e.time_ms",
        id: "e.id",
    };
    // Any of several tags: the edits whose ids the tags' index ranges
    // give (a set, so an edit with two of the tags is there once).
    let several = q.mode == TagMode::Any && q.tags.len() > 1;
    if q.tags.is_empty() {
        m.sql = String::from(" FROM hashtag_edits e WHERE 1 = 1");
    } else if several {
        let ps = b.list(q.tags.iter().cloned().map(SqlValue::Text));
        let mut sql = format!(
            " FROM hashtag_edits e WHERE e.id IN (SELECT u.edit_id FROM hashtag_uses u \
             WHERE u.tag_key IN ({ps})"
        );
        // The time range narrows the index ranges too.
        if let Some(from) = q.from_ms {
            sql.push_str(&format!(" AND u.time_ms >= {}", b.int(from)));
        }
        if let Some(until) = q.until_ms {
            sql.push_str(&format!(" AND u.time_ms < {}", b.int(until)));
        }
        sql.push(')');
        m.sql = sql;
    } else {
        m.time = "u.time_ms";
        m.id = "u.edit_id";
        let mut sql = String::from(if join_edits {
            " FROM hashtag_uses u JOIN hashtag_edits e ON e.id = u.edit_id WHERE "
        } else {
            " FROM hashtag_uses u WHERE "
        });
        // One tag, or all of them: the first tag's use rows whose edit
        // also carries every other tag.
        sql.push_str(&format!("u.tag_key = {}", b.text(q.tags[0].clone())));
        for t in &q.tags[1..] {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM hashtag_uses u2 WHERE u2.edit_id = u.edit_id AND u2.tag_key = {})",
                b.text(t.clone())
            ));
        }
        m.sql = sql;
    }
    let time = m.time;
    if let Some(from) = q.from_ms.filter(|_| !several) {
        m.sql.push_str(&format!(" AND {time} >= {}", b.int(from)));
    }
    if let Some(until) = q.until_ms.filter(|_| !several) {
        m.sql.push_str(&format!(" AND {time} < {}", b.int(until)));
    }
    // With tags, the use row's copies of the wiki and the user (the same
    // values): the (tag_key, wiki, time_ms, edit_id) index narrows a tag
    // to a wiki, and a count needs no join.
    let (wiki, user) = if q.tags.is_empty() || several {
        ("e.wiki", "e.user_name")
    } else {
        ("u.wiki", "u.user_name")
    };
    if !q.wikis.is_empty() {
        let mut ors = Vec::new();
        for w in &q.wikis {
            let (col, like, v) = match w {
                WikiFilter::DbName(s) => (wiki, false, s),
                WikiFilter::Domain(s) => ("e.domain", false, s),
                WikiFilter::DbNameLike(s) => (wiki, true, s),
                WikiFilter::DomainLike(s) => ("e.domain", true, s),
            };
            let p = b.text(v.clone());
            if like {
                ors.push(format!("{col} LIKE {p} ESCAPE '\\'"));
            } else {
                ors.push(format!("{col} = {p}"));
            }
        }
        m.sql.push_str(&format!(" AND ({})", ors.join(" OR ")));
    }
    if !q.users.is_empty() {
        let ps = b.list(q.users.iter().cloned().map(SqlValue::Text));
        m.sql.push_str(&format!(" AND {user} IN ({ps})"));
    }
    if !q.namespaces.is_empty() {
        let ps = b.list(q.namespaces.iter().copied().map(SqlValue::Int));
        m.sql.push_str(&format!(" AND e.namespace IN ({ps})"));
    }
    if !q.types.is_empty() {
        let ps = b.list(q.types.iter().cloned().map(SqlValue::Text));
        m.sql.push_str(&format!(" AND e.change_type IN ({ps})"));
    }
    if let Some(text) = &q.text {
        let p = b.text(format!("%{}%", like_escape(&text.to_lowercase())));
        m.sql
            .push_str(&format!(" AND lower(e.summary) LIKE {p} ESCAPE '\\'"));
    }
    for (on, col) in [
        (q.media.image, "e.has_image"),
        (q.media.video, "e.has_video"),
        (q.media.audio, "e.has_audio"),
    ] {
        if on {
            m.sql.push_str(&format!(" AND {col} = 1"));
        }
    }
    if let Some(c) = after {
        // A row value: the index range starts right after the cursor.
        let t = b.int(c.time_ms);
        let i = b.int(c.id);
        let id = m.id;
        m.sql.push_str(&format!(" AND ({time}, {id}) < ({t}, {i})"));
    }
    m
}

/// Every hashtag of edit `e`, as written, in key order, joined by spaces
/// (tags are runs of word characters: a space never occurs in one).
fn tags_column(d: Dialect) -> &'static str {
    match d {
        // The (edit_id, tag_key) primary key gives the key order.
        Dialect::Sqlite => {
            "(SELECT group_concat(t.tag, ' ') FROM hashtag_uses t WHERE t.edit_id = e.id)"
        }
        Dialect::Postgres => {
            "(SELECT string_agg(t.tag, ' ' ORDER BY t.tag_key COLLATE \"C\") FROM hashtag_uses t WHERE t.edit_id = e.id)"
        }
    }
}

/// The page query: `limit + 1` matching edits newest first (one more than
/// asked tells whether there is a next page). Columns: id, time_ms, wiki,
/// domain, rc_id, rev_old, rev_new, title, namespace, change_type,
/// user_name, summary, len_old, len_new, is_new, minor, has_image,
/// has_video, has_audio, tags.
pub fn edits_sql(d: Dialect, q: &HashtagQuery, after: Option<Cursor>, limit: usize) -> Query {
    let mut b = SqlBuilder::new(d);
    let m = if q.mode == TagMode::Any && q.tags.len() > 1 {
        // Several tags: a merge of each tag's own newest-first index walk,
        // each stopping after a page; an edit with two of the tags is one
        // (time, id) row of the UNION.
        let mut branches = Vec::new();
        for (n, t) in q.tags.iter().enumerate() {
            let one = HashtagQuery {
                tags: vec![t.clone()],
                ..q.clone()
            };
            let m = matching(&mut b, &one, after, true);
            let lim = b.int(limit as i64 + 1);
            branches.push(format!(
                "SELECT * FROM (SELECT u.time_ms AS t, u.edit_id AS i {} \
                 ORDER BY u.time_ms DESC, u.edit_id DESC LIMIT {lim}) b{n}",
                m.sql
            ));
        }
        Matching {
            sql: format!(
                " FROM ({}) m JOIN hashtag_edits e ON e.id = m.i",
                branches.join(" UNION ")
            ),
            time: "m.t",
            id: "m.i",
        }
    } else {
        matching(&mut b, q, after, true)
    };
    let lim = b.int(limit as i64 + 1);
    let sql = format!(
        "SELECT e.id, e.time_ms, e.wiki, e.domain, e.rc_id, e.rev_old, e.rev_new, e.title, e.namespace,
            e.change_type, e.user_name, e.summary, e.len_old, e.len_new, e.is_new, e.minor,
            e.has_image, e.has_video, e.has_audio,
            {}
         {} ORDER BY {} DESC, {} DESC LIMIT {lim}",
        tags_column(d),
        m.sql,
        m.time,
        m.id
    );
    b.query(sql)
}

/// One tag, no other filter, all time: the per-tag aggregates answer.
fn whole_tag(q: &HashtagQuery) -> Option<&str> {
    (q.is_single_tag_only() && q.from_ms.is_none() && q.until_ms.is_none())
        .then(|| q.tags[0].as_str())
}

/// At most one row of [`HashtagStats`] in field order (none: all zero).
pub fn stats_sql(d: Dialect, q: &HashtagQuery) -> Query {
    let mut b = SqlBuilder::new(d);
    if let Some(tag) = whole_tag(q) {
        let p = b.text(tag);
        return b.query(format!(
            "SELECT t.edits, t.pages, t.users, t.wikis, t.bytes_added, t.bytes_removed,
                t.pages_created, v.first_ms, v.last_ms
             FROM hashtag_tag_totals t JOIN hashtag_tags v ON v.tag_key = t.tag_key
             WHERE t.tag_key = {p}"
        ));
    }
    let m = matching(&mut b, q, None, true);
    let sql = format!(
        "SELECT COUNT(*), COUNT(DISTINCT e.wiki || '|' || e.title), COUNT(DISTINCT e.user_name),
            COUNT(DISTINCT e.wiki),
            CAST(COALESCE(SUM(CASE WHEN e.len_new - e.len_old > 0 THEN e.len_new - e.len_old
                              WHEN e.len_old IS NULL AND e.change_type = 'new' THEN COALESCE(e.len_new, 0)
                              ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN e.len_new - e.len_old < 0 THEN e.len_old - e.len_new ELSE 0 END), 0) AS BIGINT),
            CAST(COALESCE(SUM(CASE WHEN e.change_type = 'new' THEN 1 ELSE 0 END), 0) AS BIGINT),
            MIN({t}), MAX({t})
         {}",
        m.sql,
        t = m.time
    );
    b.query(sql)
}

/// Distinct matching edits per UTC day: day, edits.
pub fn days_sql(d: Dialect, q: &HashtagQuery) -> Query {
    let mut b = SqlBuilder::new(d);
    let aligned = |v: Option<i64>| v.is_none_or(|ms| ms % HOUR_MS == 0);
    if q.is_single_tag_only() && aligned(q.from_ms) && aligned(q.until_ms) {
        // Exact from the hourly rollup: a use row is one edit of one tag.
        let mut sql = format!(
            "SELECT hour / 24, CAST(SUM(edits) AS BIGINT) FROM hashtag_tag_hours WHERE tag_key = {}",
            b.text(q.tags[0].clone())
        );
        if let Some(from) = q.from_ms {
            sql.push_str(&format!(" AND hour >= {}", b.int(from / HOUR_MS)));
        }
        if let Some(until) = q.until_ms {
            sql.push_str(&format!(" AND hour < {}", b.int(until / HOUR_MS)));
        }
        sql.push_str(" GROUP BY hour / 24 ORDER BY 1");
        return b.query(sql);
    }
    let m = matching(&mut b, q, None, !q.uses_suffice());
    let sql = format!(
        "SELECT {t} / 86400000, COUNT(*) {} GROUP BY {t} / 86400000 ORDER BY 1",
        m.sql,
        t = m.time
    );
    b.query(sql)
}

/// The leaders of `by`: key, wiki, edits.
pub fn top_sql(d: Dialect, q: &HashtagQuery, by: TopBy, limit: usize) -> Query {
    let mut b = SqlBuilder::new(d);
    let c = d.byte_order();
    if let Some(tag) = whole_tag(q) {
        // The per-tag leaderboards (kept exact on write) answer a tag alone
        // by an index range instead of reading every edit of the tag.
        let p = b.text(tag);
        let lim = b.int(limit as i64);
        return b.query(match by {
            TopBy::User => format!(
                "SELECT user_name, CAST(NULL AS TEXT), edits FROM hashtag_tag_users WHERE tag_key = {p}
                 ORDER BY edits DESC, user_name{c} LIMIT {lim}"
            ),
            TopBy::Wiki => format!(
                "SELECT domain, CAST(NULL AS TEXT), edits FROM hashtag_tag_wikis WHERE tag_key = {p}
                 ORDER BY edits DESC, domain{c} LIMIT {lim}"
            ),
            TopBy::Page => format!(
                "SELECT title, domain, edits FROM hashtag_tag_pages WHERE tag_key = {p}
                 ORDER BY edits DESC, domain{c}, title{c} LIMIT {lim}"
            ),
        });
    }
    let m = matching(&mut b, q, None, true);
    let lim = b.int(limit as i64);
    let sql = match by {
        TopBy::User => format!(
            "SELECT e.user_name, CAST(NULL AS TEXT), COUNT(*) {} AND e.user_name IS NOT NULL
             GROUP BY e.user_name ORDER BY 3 DESC, e.user_name{c} LIMIT {lim}",
            m.sql
        ),
        TopBy::Wiki => format!(
            "SELECT e.domain, CAST(NULL AS TEXT), COUNT(*) {} GROUP BY e.domain
             ORDER BY 3 DESC, e.domain{c} LIMIT {lim}",
            m.sql
        ),
        TopBy::Page => format!(
            "SELECT e.title, e.domain, COUNT(*) {} GROUP BY e.domain, e.title
             ORDER BY 3 DESC, e.domain{c}, e.title{c} LIMIT {lim}",
            m.sql
        ),
    };
    b.query(sql)
}

/// Tags with the most edits in the window ending at `until_ms`, and their
/// count in the window before: key, tag, edits, previous.
pub fn trending_sql(d: Dialect, until_ms: i64, window_ms: i64, limit: usize) -> Query {
    let end = until_ms.div_euclid(HOUR_MS) + 1;
    let hours = (window_ms / HOUR_MS).max(1);
    let mut b = SqlBuilder::new(d);
    let cur = b.int(end - hours);
    let prev = b.int(end - 2 * hours);
    let end = b.int(end);
    let lim = b.int(limit as i64);
    b.query(format!(
        "SELECT h.tag_key, t.tag,
            CAST(SUM(CASE WHEN h.hour >= {cur} THEN h.edits ELSE 0 END) AS BIGINT) AS cur,
            CAST(SUM(CASE WHEN h.hour < {cur} THEN h.edits ELSE 0 END) AS BIGINT) AS prev
         FROM hashtag_tag_hours h JOIN hashtag_tags t ON t.tag_key = h.tag_key
         WHERE h.hour >= {prev} AND h.hour < {end}
         GROUP BY h.tag_key, t.tag
         HAVING SUM(CASE WHEN h.hour >= {cur} THEN h.edits ELSE 0 END) > 0
         ORDER BY cur DESC, h.tag_key LIMIT {lim}"
    ))
}

/// The `ORDER BY` of the vocabulary query.
pub fn tag_order_sql(order: TagOrder) -> &'static str {
    match order {
        TagOrder::Uses => "uses DESC, tag_key",
        TagOrder::Key => "tag_key",
        TagOrder::Recent => "last_ms DESC, tag_key",
    }
}

/// The tag vocabulary by key prefix: key, tag, first_ms, last_ms, uses.
/// (`tag_key` is `COLLATE "C"` on PostgreSQL: byte order, as in SQLite.)
pub fn tags_sql(d: Dialect, prefix: &str, order: TagOrder, limit: usize) -> Query {
    let mut b = SqlBuilder::new(d);
    let filter = if prefix.is_empty() {
        String::new()
    } else {
        let lo = b.text(prefix);
        let hi = b.text(format!("{prefix}\u{10FFFF}"));
        format!("WHERE tag_key >= {lo} AND tag_key < {hi}")
    };
    let lim = b.int(limit as i64);
    b.query(format!(
        "SELECT tag_key, tag, first_ms, last_ms, uses FROM hashtag_tags {filter} ORDER BY {} LIMIT {lim}",
        tag_order_sql(order)
    ))
}

/// Edits whose media flags are unknown: id, domain, rev_old, rev_new.
pub fn media_pending_sql(d: Dialect, limit: usize, max_attempts: i64) -> Query {
    let mut b = SqlBuilder::new(d);
    let max = b.int(max_attempts);
    let lim = b.int(limit as i64);
    b.query(format!(
        "SELECT id, domain, rev_old, rev_new FROM hashtag_edits
         WHERE has_image IS NULL AND rev_new IS NOT NULL AND media_attempts < {max}
         ORDER BY id DESC LIMIT {lim}"
    ))
}

/// The time of the newest hashtag edit, one column.
pub const NEWEST_SQL: &str = "SELECT MAX(time_ms) FROM hashtag_edits";
