//! [`HashtagQueries`] for SQLite, on the store's pool of read connections.
//!
//! Every query is one `FROM … WHERE …` built by [`Matching`], which yields each
//! matching edit exactly once:
//! - one tag: the rows of `hashtag_uses` for that key, in the order of the
//!   `(tag_key, time_ms, edit_id)` index, so the newest page is an index walk;
//! - `any` of several: the edits whose ids the tags' index ranges give (one
//!   edit once however many of the tags it has); the edits page instead merges
//!   each tag's own newest-first walk (`UNION` of per-tag `LIMIT`ed scans);
//! - `all`: the use rows of the first key whose edit also has every other key;
//! - no tag: the edits themselves.
//!
//! The SQL is kept to what PostgreSQL also runs (no SQLite-only functions in
//! the filters), so the PostgreSQL backend can share its shape.

use std::path::Path;

use async_trait::async_trait;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{HashtagEdit, SqliteStore, StoreError};
use crate::hashtags::query::{
    Cursor, DayCount, EditPage, EditRow, HashtagQuery, HashtagStats, MediaCheck, MediaFlags,
    RowEncoder, TagInfo, TagMode, TagOrder, TopBy, TopRow, TrendingRow, WikiFilter,
};
use crate::store::hashtags::{HashtagQueries, tag_order_sql};

const HOUR_MS: i64 = 3_600_000;

/// The `FROM … WHERE …` of a query, its parameters, and the time and id
/// columns rows are ordered by.
struct Matching {
    sql: String,
    params: Vec<Value>,
    time: &'static str,
    id: &'static str,
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Matching {
    fn new(q: &HashtagQuery, after: Option<Cursor>) -> Matching {
        Matching::build(q, after, true)
    }

    /// `join_edits` false leaves the edits out (only when [`HashtagQuery::uses_suffice`]).
    fn build(q: &HashtagQuery, after: Option<Cursor>, join_edits: bool) -> Matching {
        let mut params: Vec<Value> = Vec::new();
        let mut sql;
        // Any of several tags: the edits whose ids the tags' index ranges
        // give (a set, so an edit with two of the tags is there once).
        let several = q.mode == TagMode::Any && q.tags.len() > 1;
        let (time, id) = if q.tags.is_empty() {
            sql = String::from(" FROM hashtag_edits e WHERE 1 = 1");
            ("e.time_ms", "e.id")
        } else if several {
            sql = format!(
                " FROM hashtag_edits e WHERE e.id IN (SELECT u.edit_id FROM hashtag_uses u \
                 WHERE u.tag_key IN ({})",
                placeholders(q.tags.len())
            );
            params.extend(q.tags.iter().cloned().map(Value::Text));
            // The time range narrows the index ranges too.
            if let Some(from) = q.from_ms {
                sql.push_str(" AND u.time_ms >= ?");
                params.push(Value::Integer(from));
            }
            if let Some(until) = q.until_ms {
                sql.push_str(" AND u.time_ms < ?");
                params.push(Value::Integer(until));
            }
            sql.push(')');
            ("e.time_ms", "e.id")
        } else {
            sql = String::from(if join_edits {
                " FROM hashtag_uses u JOIN hashtag_edits e ON e.id = u.edit_id WHERE "
            } else {
                " FROM hashtag_uses u WHERE "
            });
            // One tag, or all of them: the first tag's use rows whose edit
            // also carries every other tag.
            sql.push_str("u.tag_key = ?");
            params.push(Value::Text(q.tags[0].clone()));
            for t in &q.tags[1..] {
                sql.push_str(
                    " AND EXISTS (SELECT 1 FROM hashtag_uses u2 WHERE u2.edit_id = u.edit_id AND u2.tag_key = ?)",
                );
                params.push(Value::Text(t.clone()));
            }
            ("u.time_ms", "u.edit_id")
        };
        if let Some(from) = q.from_ms.filter(|_| !several) {
            sql.push_str(&format!(" AND {time} >= ?"));
            params.push(Value::Integer(from));
        }
        if let Some(until) = q.until_ms.filter(|_| !several) {
            sql.push_str(&format!(" AND {time} < ?"));
            params.push(Value::Integer(until));
        }
        // With tags, the use row's copies of the wiki and the user (the same
        // values): the (tag_key, wiki, time_ms, edit_id) index narrows a tag
        // to a wiki, and a count needs no join.
        let row = if q.tags.is_empty() || several {
            "e"
        } else {
            "u"
        };
        if !q.wikis.is_empty() {
            let mut ors = Vec::new();
            for w in &q.wikis {
                let (clause, v) = match w {
                    WikiFilter::DbName(s) => (format!("{row}.wiki = ?"), s),
                    WikiFilter::Domain(s) => ("e.domain = ?".to_owned(), s),
                    WikiFilter::DbNameLike(s) => (format!("{row}.wiki LIKE ? ESCAPE '\\'"), s),
                    WikiFilter::DomainLike(s) => ("e.domain LIKE ? ESCAPE '\\'".to_owned(), s),
                };
                ors.push(clause);
                params.push(Value::Text(v.clone()));
            }
            sql.push_str(&format!(" AND ({})", ors.join(" OR ")));
        }
        if !q.users.is_empty() {
            sql.push_str(&format!(
                " AND {row}.user_name IN ({})",
                placeholders(q.users.len())
            ));
            params.extend(q.users.iter().cloned().map(Value::Text));
        }
        if !q.namespaces.is_empty() {
            sql.push_str(&format!(
                " AND e.namespace IN ({})",
                placeholders(q.namespaces.len())
            ));
            params.extend(q.namespaces.iter().copied().map(Value::Integer));
        }
        if !q.types.is_empty() {
            sql.push_str(&format!(
                " AND e.change_type IN ({})",
                placeholders(q.types.len())
            ));
            params.extend(q.types.iter().cloned().map(Value::Text));
        }
        if let Some(text) = &q.text {
            sql.push_str(" AND lower(e.summary) LIKE ? ESCAPE '\\'");
            params.push(Value::Text(format!(
                "%{}%",
                like_escape(&text.to_lowercase())
            )));
        }
        for (on, col) in [
            (q.media.image, "e.has_image"),
            (q.media.video, "e.has_video"),
            (q.media.audio, "e.has_audio"),
        ] {
            if on {
                sql.push_str(&format!(" AND {col} = 1"));
            }
        }
        if let Some(c) = after {
            // A row value: the index range starts right after the cursor.
            sql.push_str(&format!(" AND ({time}, {id}) < (?, ?)"));
            params.push(Value::Integer(c.time_ms));
            params.push(Value::Integer(c.id));
        }
        Matching {
            sql,
            params,
            time,
            id,
        }
    }
}

fn flag(v: Option<i64>) -> Option<bool> {
    v.map(|n| n != 0)
}

/// The page query: `limit + 1` matching edits newest first (one more than
/// asked tells whether there is a next page), columns as [`edit_row`] reads.
fn edits_sql(q: &HashtagQuery, after: Option<Cursor>, limit: usize) -> (String, Vec<Value>) {
    let (from, mut params, time, id) = if q.mode == TagMode::Any && q.tags.len() > 1 {
        // Several tags: a merge of each tag's own newest-first index walk,
        // each stopping after a page; an edit with two of the tags is one
        // (time, id) row of the UNION.
        let mut params = Vec::new();
        let mut branches = Vec::new();
        for t in &q.tags {
            let one = HashtagQuery {
                tags: vec![t.clone()],
                ..q.clone()
            };
            let m = Matching::new(&one, after);
            branches.push(format!(
                "SELECT * FROM (SELECT u.time_ms AS t, u.edit_id AS i {} \
                 ORDER BY u.time_ms DESC, u.edit_id DESC LIMIT ?)",
                m.sql
            ));
            params.extend(m.params);
            params.push(Value::Integer(limit as i64 + 1));
        }
        (
            format!(
                " FROM ({}) m JOIN hashtag_edits e ON e.id = m.i",
                branches.join(" UNION ")
            ),
            params,
            "m.t",
            "m.i",
        )
    } else {
        let m = Matching::new(q, after);
        (m.sql, m.params, m.time, m.id)
    };
    let sql = format!(
        "SELECT e.id, e.time_ms, e.wiki, e.domain, e.rc_id, e.rev_old, e.rev_new, e.title, e.namespace,
            e.change_type, e.user_name, e.summary, e.len_old, e.len_new, e.is_new, e.minor,
            e.has_image, e.has_video, e.has_audio,
            (SELECT group_concat(t.tag, ' ') FROM hashtag_uses t WHERE t.edit_id = e.id)
         {from} ORDER BY {time} DESC, {id} DESC LIMIT ?"
    );
    // One more than asked tells whether there is a next page.
    params.push(Value::Integer(limit as i64 + 1));
    (sql, params)
}

fn edit_row(r: &rusqlite::Row) -> rusqlite::Result<EditRow> {
    Ok(EditRow {
        id: r.get(0)?,
        time_ms: r.get(1)?,
        wiki: r.get(2)?,
        domain: r.get(3)?,
        rc_id: r.get(4)?,
        rev_old: r.get(5)?,
        rev_new: r.get(6)?,
        title: r.get(7)?,
        namespace: r.get(8)?,
        change_type: r.get(9)?,
        user: r.get(10)?,
        summary: r.get(11)?,
        len_old: r.get(12)?,
        len_new: r.get(13)?,
        is_new: r.get::<_, i64>(14)? != 0,
        minor: r.get::<_, i64>(15)? != 0,
        // Tags are runs of word characters: a space never occurs in one.
        tags: r
            .get::<_, Option<String>>(19)?
            .map(|t| t.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
        has_image: flag(r.get(16)?),
        has_video: flag(r.get(17)?),
        has_audio: flag(r.get(18)?),
    })
}

/// Column `i` as text (NULL as None), borrowed from the row.
fn text_ref<'a>(r: &'a rusqlite::Row, i: usize) -> rusqlite::Result<Option<&'a str>> {
    match r.get_ref(i)? {
        ValueRef::Null => Ok(None),
        v => v.as_str().map(Some).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        }),
    }
}

fn set_text(into: &mut String, from: &str) {
    into.clear();
    into.push_str(from);
}

/// [`edit_row`] into an existing row, reusing its strings' buffers.
fn fill_edit_row(r: &rusqlite::Row, e: &mut EditRow) -> rusqlite::Result<()> {
    e.id = r.get(0)?;
    e.time_ms = r.get(1)?;
    set_text(&mut e.wiki, text_ref(r, 2)?.unwrap_or_default());
    set_text(&mut e.domain, text_ref(r, 3)?.unwrap_or_default());
    e.rc_id = r.get(4)?;
    e.rev_old = r.get(5)?;
    e.rev_new = r.get(6)?;
    set_text(&mut e.title, text_ref(r, 7)?.unwrap_or_default());
    e.namespace = r.get(8)?;
    set_text(&mut e.change_type, text_ref(r, 9)?.unwrap_or_default());
    match (text_ref(r, 10)?, &mut e.user) {
        (None, u) => *u = None,
        (Some(v), Some(u)) => set_text(u, v),
        (Some(v), u) => *u = Some(v.to_owned()),
    }
    set_text(&mut e.summary, text_ref(r, 11)?.unwrap_or_default());
    e.len_old = r.get(12)?;
    e.len_new = r.get(13)?;
    e.is_new = r.get::<_, i64>(14)? != 0;
    e.minor = r.get::<_, i64>(15)? != 0;
    e.has_image = flag(r.get(16)?);
    e.has_video = flag(r.get(17)?);
    e.has_audio = flag(r.get(18)?);
    let mut n = 0;
    if let Some(tags) = text_ref(r, 19)? {
        for t in tags.split(' ') {
            match e.tags.get_mut(n) {
                Some(into) => set_text(into, t),
                None => e.tags.push(t.to_owned()),
            }
            n += 1;
        }
    }
    e.tags.truncate(n);
    Ok(())
}

fn edits_page(
    c: &Connection,
    q: &HashtagQuery,
    after: Option<Cursor>,
    limit: usize,
) -> Result<EditPage, StoreError> {
    let (sql, params) = edits_sql(q, after, limit);
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt
        .query_map(params_from_iter(params), edit_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(EditRow::cursor)
    } else {
        None
    };
    Ok(EditPage { rows, next })
}

/// [`edits_page`] encoded where it is read, through one reused row.
fn edits_encoded(
    c: &Connection,
    q: &HashtagQuery,
    after: Option<Cursor>,
    limit: usize,
    encode: RowEncoder,
) -> Result<(String, Option<Cursor>), StoreError> {
    let (sql, params) = edits_sql(q, after, limit);
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let (mut out, mut scratch) = (String::new(), String::new());
    let mut e = EditRow {
        id: 0,
        time_ms: 0,
        wiki: String::new(),
        domain: String::new(),
        rc_id: None,
        rev_old: None,
        rev_new: None,
        title: String::new(),
        namespace: 0,
        change_type: String::new(),
        user: None,
        summary: String::new(),
        len_old: None,
        len_new: None,
        is_new: false,
        minor: false,
        tags: Vec::new(),
        has_image: None,
        has_video: None,
        has_audio: None,
    };
    let mut n = 0;
    while let Some(r) = rows.next()? {
        if n == limit {
            // The one more than asked: there is a next page.
            return Ok((out, Some(e.cursor())));
        }
        fill_edit_row(r, &mut e)?;
        encode(&mut out, &mut scratch, &e);
        n += 1;
    }
    Ok((out, None))
}

/// One tag, no other filter, all time: the per-tag aggregates answer.
fn whole_tag(q: &HashtagQuery) -> Option<&str> {
    (q.is_single_tag_only() && q.from_ms.is_none() && q.until_ms.is_none())
        .then(|| q.tags[0].as_str())
}

fn stats(c: &Connection, q: &HashtagQuery) -> Result<HashtagStats, StoreError> {
    if let Some(tag) = whole_tag(q) {
        let mut stmt = c.prepare_cached(
            "SELECT t.edits, t.pages, t.users, t.wikis, t.bytes_added, t.bytes_removed,
                t.pages_created, v.first_ms, v.last_ms
             FROM hashtag_tag_totals t JOIN hashtag_tags v ON v.tag_key = t.tag_key
             WHERE t.tag_key = ?1",
        )?;
        let found = stmt
            .query_row([tag], |r| {
                Ok(HashtagStats {
                    edits: r.get(0)?,
                    pages: r.get(1)?,
                    users: r.get(2)?,
                    wikis: r.get(3)?,
                    bytes_added: r.get(4)?,
                    bytes_removed: r.get(5)?,
                    pages_created: r.get(6)?,
                    first_ms: r.get(7)?,
                    last_ms: r.get(8)?,
                })
            })
            .optional()?;
        return Ok(found.unwrap_or_default());
    }
    let m = Matching::new(q, None);
    let sql = format!(
        "SELECT COUNT(*), COUNT(DISTINCT e.wiki || '|' || e.title), COUNT(DISTINCT e.user_name),
            COUNT(DISTINCT e.wiki),
            COALESCE(SUM(CASE WHEN e.len_new - e.len_old > 0 THEN e.len_new - e.len_old
                              WHEN e.len_old IS NULL AND e.change_type = 'new' THEN COALESCE(e.len_new, 0)
                              ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN e.len_new - e.len_old < 0 THEN e.len_old - e.len_new ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN e.change_type = 'new' THEN 1 ELSE 0 END), 0),
            MIN({t}), MAX({t})
         {}",
        m.sql,
        t = m.time
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let s = stmt.query_row(params_from_iter(m.params), |r| {
        Ok(HashtagStats {
            edits: r.get(0)?,
            pages: r.get(1)?,
            users: r.get(2)?,
            wikis: r.get(3)?,
            bytes_added: r.get(4)?,
            bytes_removed: r.get(5)?,
            pages_created: r.get(6)?,
            first_ms: r.get(7)?,
            last_ms: r.get(8)?,
        })
    })?;
    Ok(s)
}

fn days(c: &Connection, q: &HashtagQuery) -> Result<Vec<DayCount>, StoreError> {
    let aligned = |v: Option<i64>| v.is_none_or(|ms| ms % HOUR_MS == 0);
    let (sql, params) = if q.is_single_tag_only() && aligned(q.from_ms) && aligned(q.until_ms) {
        // Exact from the hourly rollup: a use row is one edit of one tag.
        let mut sql =
            String::from("SELECT hour / 24, SUM(edits) FROM hashtag_tag_hours WHERE tag_key = ?");
        let mut params = vec![Value::Text(q.tags[0].clone())];
        if let Some(from) = q.from_ms {
            sql.push_str(" AND hour >= ?");
            params.push(Value::Integer(from / HOUR_MS));
        }
        if let Some(until) = q.until_ms {
            sql.push_str(" AND hour < ?");
            params.push(Value::Integer(until / HOUR_MS));
        }
        sql.push_str(" GROUP BY hour / 24 ORDER BY 1");
        (sql, params)
    } else {
        let m = Matching::build(q, None, !q.uses_suffice());
        (
            format!(
                "SELECT {t} / 86400000, COUNT(*) {} GROUP BY {t} / 86400000 ORDER BY 1",
                m.sql,
                t = m.time
            ),
            m.params,
        )
    };
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(params), |r| {
            Ok(DayCount {
                day: r.get(0)?,
                edits: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn top(
    c: &Connection,
    q: &HashtagQuery,
    by: TopBy,
    limit: usize,
) -> Result<Vec<TopRow>, StoreError> {
    if let Some(tag) = whole_tag(q) {
        // The per-tag leaderboards (kept exact by the trigger) answer a tag
        // alone by an index range instead of reading every edit of the tag.
        let sql = match by {
            TopBy::User => {
                "SELECT user_name, NULL, edits FROM hashtag_tag_users WHERE tag_key = ?1
                 ORDER BY edits DESC, user_name LIMIT ?2"
            }
            TopBy::Wiki => {
                "SELECT domain, NULL, edits FROM hashtag_tag_wikis WHERE tag_key = ?1
                 ORDER BY edits DESC, domain LIMIT ?2"
            }
            TopBy::Page => {
                "SELECT title, domain, edits FROM hashtag_tag_pages WHERE tag_key = ?1
                 ORDER BY edits DESC, domain, title LIMIT ?2"
            }
        };
        let mut stmt = c.prepare_cached(sql)?;
        let rows = stmt
            .query_map(params![tag, limit as i64], |r| {
                Ok(TopRow {
                    key: r.get(0)?,
                    wiki: r.get(1)?,
                    edits: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(rows);
    }
    let m = Matching::new(q, None);
    let sql = match by {
        TopBy::User => format!(
            "SELECT e.user_name, NULL, COUNT(*) {} AND e.user_name IS NOT NULL
             GROUP BY e.user_name ORDER BY 3 DESC, 1 LIMIT ?",
            m.sql
        ),
        TopBy::Wiki => format!(
            "SELECT e.domain, NULL, COUNT(*) {} GROUP BY e.domain ORDER BY 3 DESC, 1 LIMIT ?",
            m.sql
        ),
        TopBy::Page => format!(
            "SELECT e.title, e.domain, COUNT(*) {} GROUP BY e.domain, e.title ORDER BY 3 DESC, 2, 1 LIMIT ?",
            m.sql
        ),
    };
    let mut params = m.params;
    params.push(Value::Integer(limit as i64));
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(params), |r| {
            Ok(TopRow {
                key: r.get(0)?,
                wiki: r.get(1)?,
                edits: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[async_trait]
impl HashtagQueries for SqliteStore {
    async fn hashtag_edits(
        &self,
        q: &HashtagQuery,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<EditPage, StoreError> {
        let q = q.clone();
        self.read(move |c| edits_page(c, &q, after, limit)).await
    }

    async fn hashtag_edits_encoded(
        &self,
        q: &HashtagQuery,
        after: Option<Cursor>,
        limit: usize,
        encode: RowEncoder,
    ) -> Result<(String, Option<Cursor>), StoreError> {
        let q = q.clone();
        self.read(move |c| edits_encoded(c, &q, after, limit, encode))
            .await
    }

    async fn hashtag_stats(&self, q: &HashtagQuery) -> Result<HashtagStats, StoreError> {
        let q = q.clone();
        self.read(move |c| stats(c, &q)).await
    }

    async fn hashtag_days(&self, q: &HashtagQuery) -> Result<Vec<DayCount>, StoreError> {
        let q = q.clone();
        self.read(move |c| days(c, &q)).await
    }

    async fn hashtag_top(
        &self,
        q: &HashtagQuery,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError> {
        let q = q.clone();
        self.read(move |c| top(c, &q, by, limit)).await
    }

    async fn hashtag_trending(
        &self,
        until_ms: i64,
        window_ms: i64,
        limit: usize,
    ) -> Result<Vec<TrendingRow>, StoreError> {
        let end = until_ms.div_euclid(HOUR_MS) + 1;
        let hours = (window_ms / HOUR_MS).max(1);
        let (cur, prev) = (end - hours, end - 2 * hours);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT h.tag_key, t.tag,
                    SUM(CASE WHEN h.hour >= ?1 THEN h.edits ELSE 0 END) AS cur,
                    SUM(CASE WHEN h.hour < ?1 THEN h.edits ELSE 0 END) AS prev
                 FROM hashtag_tag_hours h JOIN hashtag_tags t ON t.tag_key = h.tag_key
                 WHERE h.hour >= ?2 AND h.hour < ?3
                 GROUP BY h.tag_key, t.tag
                 HAVING SUM(CASE WHEN h.hour >= ?1 THEN h.edits ELSE 0 END) > 0
                 ORDER BY cur DESC, h.tag_key LIMIT ?4",
            )?;
            let rows = stmt
                .query_map(params![cur, prev, end, limit as i64], |r| {
                    Ok(TrendingRow {
                        key: r.get(0)?,
                        tag: r.get(1)?,
                        edits: r.get(2)?,
                        previous: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn hashtag_tags(
        &self,
        prefix: &str,
        order: TagOrder,
        limit: usize,
    ) -> Result<Vec<TagInfo>, StoreError> {
        let prefix = prefix.to_owned();
        self.read(move |c| {
            let order_by = tag_order_sql(order);
            let (filter, params) = if prefix.is_empty() {
                (String::new(), vec![Value::Integer(limit as i64)])
            } else {
                (
                    "WHERE tag_key >= ? AND tag_key < ?".to_owned(),
                    vec![
                        Value::Text(prefix.clone()),
                        Value::Text(format!("{prefix}\u{10FFFF}")),
                        Value::Integer(limit as i64),
                    ],
                )
            };
            let sql = format!(
                "SELECT tag_key, tag, first_ms, last_ms, uses FROM hashtag_tags {filter} ORDER BY {order_by} LIMIT ?"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt
                .query_map(params_from_iter(params), |r| {
                    Ok(TagInfo {
                        key: r.get(0)?,
                        tag: r.get(1)?,
                        first_ms: r.get(2)?,
                        last_ms: r.get(3)?,
                        uses: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn media_pending(
        &self,
        limit: usize,
        max_attempts: i64,
    ) -> Result<Vec<MediaCheck>, StoreError> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, domain, rev_old, rev_new FROM hashtag_edits
                 WHERE has_image IS NULL AND rev_new IS NOT NULL AND media_attempts < ?1
                 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![max_attempts, limit as i64], |r| {
                    Ok(MediaCheck {
                        id: r.get(0)?,
                        domain: r.get(1)?,
                        rev_old: r.get(2)?,
                        rev_new: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn media_record(
        &self,
        results: Vec<(i64, Option<MediaFlags>)>,
    ) -> Result<(), StoreError> {
        // Flags are written beside ingest on a connection of their own; WAL
        // and the busy timeout let the two writers take turns.
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            let tx = conn.transaction()?;
            {
                let mut set = tx.prepare_cached(
                    "UPDATE hashtag_edits SET has_image = ?2, has_video = ?3, has_audio = ?4,
                        media_attempts = media_attempts + 1 WHERE id = ?1",
                )?;
                let mut failed = tx.prepare_cached(
                    "UPDATE hashtag_edits SET media_attempts = media_attempts + 1 WHERE id = ?1",
                )?;
                for (id, flags) in results {
                    match flags {
                        Some(f) => set.execute(params![id, f.image, f.video, f.audio])?,
                        None => failed.execute([id])?,
                    };
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn hashtag_newest_ms(&self) -> Result<Option<i64>, StoreError> {
        self.read(|c| Ok(c.query_row("SELECT MAX(time_ms) FROM hashtag_edits", [], |r| r.get(0))?))
            .await
    }
}

/// Bulk-loads hashtag edits into the SQLite database at `path` (which
/// [`SqliteStore::open`] has created and migrated), in large transactions,
/// keeping the same derived tables as ingest. For benchmarks: it bypasses the
/// stream position and the ingest lease. Returns (edits, uses) inserted.
pub fn bulk_load_hashtag_edits(
    path: &Path,
    edits: impl Iterator<Item = HashtagEdit>,
    per_transaction: usize,
) -> Result<(u64, u64), StoreError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -1_048_576)?;
    let (mut n_edits, mut n_uses, mut n_tags) = (0u64, 0u64, 0i64);
    let mut edits = edits.peekable();
    while edits.peek().is_some() {
        let tx = conn.transaction()?;
        {
            let mut edit_stmt = tx.prepare_cached(
                "INSERT INTO hashtag_edits (meta_id, wiki, domain, rc_id, rev_old, rev_new, title, namespace,
                    change_type, user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT DO NOTHING",
            )?;
            let mut use_stmt = tx.prepare_cached(
                "INSERT INTO hashtag_uses (edit_id, tag_key, tag, time_ms, wiki, user_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?;
            let mut tag_stmt = tx.prepare_cached(
                "INSERT INTO hashtag_tags (tag_key, tag, first_ms, last_ms, uses) VALUES (?1, ?2, ?3, ?3, 1)
                 ON CONFLICT (tag_key) DO UPDATE SET uses = uses + 1,
                     first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms)
                 RETURNING uses",
            )?;
            for e in edits.by_ref().take(per_transaction) {
                let inserted = edit_stmt.execute(params![
                    e.meta_id,
                    e.wiki,
                    e.domain,
                    e.rc_id,
                    e.rev_old,
                    e.rev_new,
                    e.title,
                    e.namespace,
                    e.change_type,
                    e.user,
                    e.editor_kind.as_str(),
                    e.time_ms,
                    e.summary,
                    e.len_old,
                    e.len_new,
                    e.minor,
                    e.is_new,
                    e.bot,
                ])?;
                if inserted == 0 {
                    continue;
                }
                let id = tx.last_insert_rowid();
                n_edits += 1;
                for t in &e.tags {
                    if use_stmt.execute(params![id, t.key, t.text, e.time_ms, e.wiki, e.user])? == 0
                    {
                        continue;
                    }
                    n_uses += 1;
                    let uses: i64 =
                        tag_stmt.query_row(params![t.key, t.text, e.time_ms], |r| r.get(0))?;
                    if uses == 1 {
                        n_tags += 1;
                    }
                }
            }
        }
        tx.commit()?;
    }
    let tx = conn.transaction()?;
    for (table, n) in [
        ("hashtag_edits", n_edits as i64),
        ("hashtag_uses", n_uses as i64),
        ("hashtag_tags", n_tags),
    ] {
        tx.execute(
            "UPDATE row_counts SET rows = rows + ?2 WHERE table_name = ?1",
            params![table, n],
        )?;
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;
    Ok((n_edits, n_uses))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{EditorKind, Hashtag, hashtag_key};
    use crate::hashtags::query::MediaFilter;

    fn edit(i: i64) -> HashtagEdit {
        let tags: Vec<&str> = match i % 5 {
            0 => vec!["Alpha"],
            1 => vec!["Alpha", "Beta"],
            2 => vec!["Beta"],
            3 => vec!["Gamma", "Beta"],
            _ => vec!["Alpha", "Gamma"],
        };
        let (wiki, domain) = [
            ("enwiki", "en.wikipedia.org"),
            ("frwiki", "fr.wikipedia.org"),
            ("commonswiki", "commons.wikimedia.org"),
        ][(i % 3) as usize];
        HashtagEdit {
            meta_id: format!("t-{i}"),
            wiki: wiki.into(),
            domain: domain.into(),
            rc_id: Some(i),
            rev_old: Some(1000 + i),
            rev_new: Some(2000 + i),
            title: format!("Page {}", i % 11),
            namespace: 0,
            change_type: "edit".into(),
            user: Some(format!("User{}", i % 7)),
            editor_kind: EditorKind::Named,
            // Several edits share a time: the id breaks the tie.
            time_ms: 1_700_000_000_000 + (i / 3) * 60_000,
            summary: "s".into(),
            len_old: Some(10),
            len_new: Some(20),
            minor: false,
            is_new: false,
            bot: false,
            tags: tags
                .iter()
                .map(|t| Hashtag {
                    text: (*t).into(),
                    key: hashtag_key(t),
                })
                .collect(),
        }
    }

    fn line(out: &mut String, _scratch: &mut String, r: &EditRow) {
        out.push_str(&format!("{} {}\n", r.id, r.tags.join(" ")));
    }

    /// Every page of the edits and of the encoded export, with a small page
    /// size so both cross many page boundaries: the same edits, each once,
    /// newest first, as many as the stats count.
    #[tokio::test]
    async fn pages_and_encoded_exports_agree_for_every_tag_plan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let store = SqliteStore::open(&path).await.unwrap();
        bulk_load_hashtag_edits(&path, (0..400).map(edit), 100).unwrap();
        let q = |tags: &[&str], wikis: Vec<WikiFilter>| HashtagQuery {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            mode: TagMode::Any,
            wikis,
            users: vec![],
            namespaces: vec![],
            types: vec![],
            from_ms: None,
            until_ms: None,
            text: None,
            media: MediaFilter::default(),
        };
        let cases = [
            (q(&["alpha"], vec![]), 240),
            (q(&["alpha", "beta"], vec![]), 400),
            (q(&["alpha", "gamma"], vec![]), 320),
            (q(&["beta"], vec![WikiFilter::DbName("enwiki".into())]), 80),
            (
                q(
                    &["alpha", "beta"],
                    vec![WikiFilter::DomainLike("%.wikipedia.org".into())],
                ),
                267,
            ),
        ];
        for (query, want) in cases {
            let mut pages = Vec::new();
            let mut after = None;
            loop {
                let p = store.hashtag_edits(&query, after, 7).await.unwrap();
                pages.extend(
                    p.rows
                        .iter()
                        .map(|r| format!("{} {}\n", r.id, r.tags.join(" "))),
                );
                after = p.next;
                if after.is_none() {
                    break;
                }
            }
            let mut encoded = String::new();
            let mut after = None;
            loop {
                let (text, next) = store
                    .hashtag_edits_encoded(&query, after, 7, line)
                    .await
                    .unwrap();
                encoded.push_str(&text);
                after = next;
                if after.is_none() {
                    break;
                }
            }
            assert_eq!(encoded, pages.concat(), "{query:?}");
            assert_eq!(pages.len(), want, "{query:?}");
            let ids: std::collections::HashSet<&String> = pages.iter().collect();
            assert_eq!(ids.len(), want, "each edit once: {query:?}");
            let ids: Vec<i64> = pages
                .iter()
                .map(|l| l.split(' ').next().unwrap().parse().unwrap())
                .collect();
            assert!(
                ids.windows(2).all(|w| w[0] > w[1]),
                "newest first: {query:?}"
            );
            let stats = store.hashtag_stats(&query).await.unwrap();
            assert_eq!(stats.edits, want as i64, "{query:?}");
            let days: i64 = store
                .hashtag_days(&query)
                .await
                .unwrap()
                .iter()
                .map(|d| d.edits)
                .sum();
            assert_eq!(days, want as i64, "{query:?}");
        }
    }

    /// Migration 6 (the tag + wiki index) reaches a database already at
    /// version 5 when it is next opened.
    #[tokio::test]
    async fn a_database_at_version_5_gets_the_tag_wiki_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        drop(SqliteStore::open(&path).await.unwrap());
        let has_index = || -> i64 {
            Connection::open(&path)
                .unwrap()
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'hashtag_uses_tag_wiki_time'",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(has_index(), 1);
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "DROP INDEX hashtag_uses_tag_wiki_time; DELETE FROM schema_migrations WHERE version = 6;",
            )
            .unwrap();
        bulk_load_hashtag_edits(&path, (0..20).map(edit), 10).unwrap();
        assert_eq!(has_index(), 0);
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(has_index(), 1);
        let q = HashtagQuery {
            tags: vec!["beta".into()],
            wikis: vec![WikiFilter::DbName("enwiki".into())],
            ..HashtagQuery::default()
        };
        assert_eq!(store.hashtag_stats(&q).await.unwrap().edits, 4);
    }
}
