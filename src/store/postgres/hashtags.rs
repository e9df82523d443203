//! [`HashtagQueries`] for PostgreSQL: the same queries and the same answers
//! as SQLite (`sqlite_hashtags.rs`), with `$N` placeholders, and the per-tag
//! aggregates (`migrations/postgres/0002_hashtags.sql`) kept exact by the
//! batch writer rather than by a per-row trigger.
//!
//! Every query is one `FROM … WHERE …` built by [`Matching`], which yields each
//! matching edit exactly once (see `sqlite_hashtags.rs` for the plan per tag
//! mode). Where SQLite's results depend on its byte-order text comparison,
//! these queries say `COLLATE "C"`, so the order is the same whatever the
//! database's default collation.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Transaction};

use super::{HashtagEdit, PostgresStore, StoreError};
use crate::hashtags::query::{
    Cursor, DayCount, EditPage, EditRow, HashtagQuery, HashtagStats, MediaCheck, MediaFlags,
    TagInfo, TagMode, TagOrder, TopBy, TopRow, TrendingRow, WikiFilter,
};
use crate::store::hashtags::{HashtagQueries, tag_order_sql};

const HOUR_MS: i64 = 3_600_000;

/// A query parameter.
enum Val {
    Int(i64),
    Text(String),
}

fn params(values: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| match v {
            Val::Int(n) => n as &(dyn ToSql + Sync),
            Val::Text(s) => s as &(dyn ToSql + Sync),
        })
        .collect()
}

/// The `FROM … WHERE …` of a query, its parameters, and the time and id
/// columns rows are ordered by.
struct Matching {
    sql: String,
    params: Vec<Val>,
    time: &'static str,
    id: &'static str,
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
    /// Adds a parameter and returns its placeholder.
    fn bind(&mut self, v: Val) -> String {
        self.params.push(v);
        format!("${}", self.params.len())
    }

    fn bind_all(&mut self, vs: impl IntoIterator<Item = Val>) -> String {
        vs.into_iter()
            .map(|v| self.bind(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn new(q: &HashtagQuery, after: Option<Cursor>) -> Matching {
        Matching::build(Vec::new(), q, after, true)
    }

    /// Continues after `params` (their placeholders keep their numbers);
    /// `join_edits` false leaves the edits out (only when [`HashtagQuery::uses_suffice`]).
    fn build(
        params: Vec<Val>,
        q: &HashtagQuery,
        after: Option<Cursor>,
        join_edits: bool,
    ) -> Matching {
        let mut m = Matching {
            sql: String::new(),
            params,
            time: "e.time_ms",
            id: "e.id",
        };
        // Any of several tags: the edits whose ids the tags' index ranges
        // give (a set, so an edit with two of the tags is there once).
        let several = q.mode == TagMode::Any && q.tags.len() > 1;
        if q.tags.is_empty() {
            m.sql = String::from(" FROM hashtag_edits e WHERE 1 = 1");
        } else if several {
            let ps = m.bind_all(q.tags.iter().cloned().map(Val::Text));
            let mut sql = format!(
                " FROM hashtag_edits e WHERE e.id IN (SELECT u.edit_id FROM hashtag_uses u \
                 WHERE u.tag_key IN ({ps})"
            );
            // The time range narrows the index ranges too.
            if let Some(from) = q.from_ms {
                let p = m.bind(Val::Int(from));
                sql.push_str(&format!(" AND u.time_ms >= {p}"));
            }
            if let Some(until) = q.until_ms {
                let p = m.bind(Val::Int(until));
                sql.push_str(&format!(" AND u.time_ms < {p}"));
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
            let p = m.bind(Val::Text(q.tags[0].clone()));
            sql.push_str(&format!("u.tag_key = {p}"));
            for t in &q.tags[1..] {
                let p = m.bind(Val::Text(t.clone()));
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM hashtag_uses u2 WHERE u2.edit_id = u.edit_id AND u2.tag_key = {p})"
                ));
            }
            m.sql = sql;
        }
        let time = m.time;
        if let Some(from) = q.from_ms.filter(|_| !several) {
            let p = m.bind(Val::Int(from));
            m.sql.push_str(&format!(" AND {time} >= {p}"));
        }
        if let Some(until) = q.until_ms.filter(|_| !several) {
            let p = m.bind(Val::Int(until));
            m.sql.push_str(&format!(" AND {time} < {p}"));
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
                let (col, op, v) = match w {
                    WikiFilter::DbName(s) => (wiki, "=", s),
                    WikiFilter::Domain(s) => ("e.domain", "=", s),
                    WikiFilter::DbNameLike(s) => (wiki, "LIKE", s),
                    WikiFilter::DomainLike(s) => ("e.domain", "LIKE", s),
                };
                let p = m.bind(Val::Text(v.clone()));
                if op == "LIKE" {
                    ors.push(format!("{col} LIKE {p} ESCAPE '\\'"));
                } else {
                    ors.push(format!("{col} = {p}"));
                }
            }
            m.sql.push_str(&format!(" AND ({})", ors.join(" OR ")));
        }
        if !q.users.is_empty() {
            let ps = m.bind_all(q.users.iter().cloned().map(Val::Text));
            m.sql.push_str(&format!(" AND {user} IN ({ps})"));
        }
        if !q.namespaces.is_empty() {
            let ps = m.bind_all(q.namespaces.iter().copied().map(Val::Int));
            m.sql.push_str(&format!(" AND e.namespace IN ({ps})"));
        }
        if !q.types.is_empty() {
            let ps = m.bind_all(q.types.iter().cloned().map(Val::Text));
            m.sql.push_str(&format!(" AND e.change_type IN ({ps})"));
        }
        if let Some(text) = &q.text {
            let p = m.bind(Val::Text(format!(
                "%{}%",
                like_escape(&text.to_lowercase())
            )));
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
            let t = m.bind(Val::Int(c.time_ms));
            let i = m.bind(Val::Int(c.id));
            let id = m.id;
            m.sql.push_str(&format!(" AND ({time}, {id}) < ({t}, {i})"));
        }
        m
    }
}

fn flag(v: Option<i16>) -> Option<bool> {
    v.map(|n| n != 0)
}

fn edit_row(r: &Row) -> EditRow {
    EditRow {
        id: r.get(0),
        time_ms: r.get(1),
        wiki: r.get(2),
        domain: r.get(3),
        rc_id: r.get(4),
        rev_old: r.get(5),
        rev_new: r.get(6),
        title: r.get(7),
        namespace: r.get(8),
        change_type: r.get(9),
        user: r.get(10),
        summary: r.get(11),
        len_old: r.get(12),
        len_new: r.get(13),
        is_new: r.get::<_, i16>(14) != 0,
        minor: r.get::<_, i16>(15) != 0,
        // Tags are runs of word characters: a space never occurs in one.
        tags: r
            .get::<_, Option<String>>(19)
            .map(|t| t.split(' ').map(str::to_owned).collect())
            .unwrap_or_default(),
        has_image: flag(r.get(16)),
        has_video: flag(r.get(17)),
        has_audio: flag(r.get(18)),
    }
}

fn stats_row(r: &Row) -> HashtagStats {
    HashtagStats {
        edits: r.get(0),
        pages: r.get(1),
        users: r.get(2),
        wikis: r.get(3),
        bytes_added: r.get(4),
        bytes_removed: r.get(5),
        pages_created: r.get(6),
        first_ms: r.get(7),
        last_ms: r.get(8),
    }
}

/// One tag, no other filter, all time: the per-tag aggregates answer.
fn whole_tag(q: &HashtagQuery) -> Option<&str> {
    (q.is_single_tag_only() && q.from_ms.is_none() && q.until_ms.is_none())
        .then(|| q.tags[0].as_str())
}

impl PostgresStore {
    async fn hq_rows(&self, sql: &str, values: &[Val]) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        client
            .query(sql, &params(values))
            .await
            .map_err(|e| self.err(e))
    }
}

#[async_trait]
impl HashtagQueries for PostgresStore {
    async fn hashtag_edits(
        &self,
        q: &HashtagQuery,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<EditPage, StoreError> {
        let mut m = if q.mode == TagMode::Any && q.tags.len() > 1 {
            // Several tags: a merge of each tag's own newest-first index
            // walk, each stopping after a page; an edit with two of the tags
            // is one (time, id) row of the UNION.
            let mut params = Vec::new();
            let mut branches = Vec::new();
            for (n, t) in q.tags.iter().enumerate() {
                let one = HashtagQuery {
                    tags: vec![t.clone()],
                    ..q.clone()
                };
                let mut b = Matching::build(params, &one, after, true);
                let lim = b.bind(Val::Int(limit as i64 + 1));
                branches.push(format!(
                    "SELECT * FROM (SELECT u.time_ms AS t, u.edit_id AS i {} \
                     ORDER BY u.time_ms DESC, u.edit_id DESC LIMIT {lim}) b{n}",
                    b.sql
                ));
                params = b.params;
            }
            Matching {
                sql: format!(
                    " FROM ({}) m JOIN hashtag_edits e ON e.id = m.i",
                    branches.join(" UNION ")
                ),
                params,
                time: "m.t",
                id: "m.i",
            }
        } else {
            Matching::new(q, after)
        };
        // One more than asked tells whether there is a next page.
        let lim = m.bind(Val::Int(limit as i64 + 1));
        let sql = format!(
            "SELECT e.id, e.time_ms, e.wiki, e.domain, e.rc_id, e.rev_old, e.rev_new, e.title, e.namespace,
                e.change_type, e.user_name, e.summary, e.len_old, e.len_new, e.is_new, e.minor,
                e.has_image, e.has_video, e.has_audio,
                (SELECT string_agg(t.tag, ' ' ORDER BY t.tag_key COLLATE \"C\") FROM hashtag_uses t WHERE t.edit_id = e.id)
             {} ORDER BY {} DESC, {} DESC LIMIT {lim}",
            m.sql, m.time, m.id
        );
        let mut rows: Vec<EditRow> = self
            .hq_rows(&sql, &m.params)
            .await?
            .iter()
            .map(edit_row)
            .collect();
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(EditRow::cursor)
        } else {
            None
        };
        Ok(EditPage { rows, next })
    }

    async fn hashtag_stats(&self, q: &HashtagQuery) -> Result<HashtagStats, StoreError> {
        if let Some(tag) = whole_tag(q) {
            let rows = self
                .hq_rows(
                    "SELECT t.edits, t.pages, t.users, t.wikis, t.bytes_added, t.bytes_removed,
                        t.pages_created, v.first_ms, v.last_ms
                     FROM hashtag_tag_totals t JOIN hashtag_tags v ON v.tag_key = t.tag_key
                     WHERE t.tag_key = $1",
                    &[Val::Text(tag.to_owned())],
                )
                .await?;
            return Ok(rows.first().map(stats_row).unwrap_or_default());
        }
        let m = Matching::new(q, None);
        let sql = format!(
            "SELECT COUNT(*), COUNT(DISTINCT e.wiki || '|' || e.title), COUNT(DISTINCT e.user_name),
                COUNT(DISTINCT e.wiki),
                COALESCE(SUM(CASE WHEN e.len_new - e.len_old > 0 THEN e.len_new - e.len_old
                                  WHEN e.len_old IS NULL AND e.change_type = 'new' THEN COALESCE(e.len_new, 0)
                                  ELSE 0 END), 0)::bigint,
                COALESCE(SUM(CASE WHEN e.len_new - e.len_old < 0 THEN e.len_old - e.len_new ELSE 0 END), 0)::bigint,
                COALESCE(SUM(CASE WHEN e.change_type = 'new' THEN 1 ELSE 0 END), 0)::bigint,
                MIN({t}), MAX({t})
             {}",
            m.sql,
            t = m.time
        );
        let rows = self.hq_rows(&sql, &m.params).await?;
        Ok(rows.first().map(stats_row).unwrap_or_default())
    }

    async fn hashtag_days(&self, q: &HashtagQuery) -> Result<Vec<DayCount>, StoreError> {
        let aligned = |v: Option<i64>| v.is_none_or(|ms| ms % HOUR_MS == 0);
        let (sql, values) = if q.is_single_tag_only() && aligned(q.from_ms) && aligned(q.until_ms) {
            // Exact from the hourly rollup: a use row is one edit of one tag.
            let mut sql = String::from(
                "SELECT hour / 24, SUM(edits)::bigint FROM hashtag_tag_hours WHERE tag_key = $1",
            );
            let mut values = vec![Val::Text(q.tags[0].clone())];
            if let Some(from) = q.from_ms {
                values.push(Val::Int(from / HOUR_MS));
                sql.push_str(&format!(" AND hour >= ${}", values.len()));
            }
            if let Some(until) = q.until_ms {
                values.push(Val::Int(until / HOUR_MS));
                sql.push_str(&format!(" AND hour < ${}", values.len()));
            }
            sql.push_str(" GROUP BY hour / 24 ORDER BY 1");
            (sql, values)
        } else {
            let m = Matching::build(Vec::new(), q, None, !q.uses_suffice());
            (
                format!(
                    "SELECT {t} / 86400000, COUNT(*) {} GROUP BY {t} / 86400000 ORDER BY 1",
                    m.sql,
                    t = m.time
                ),
                m.params,
            )
        };
        Ok(self
            .hq_rows(&sql, &values)
            .await?
            .iter()
            .map(|r| DayCount {
                day: r.get(0),
                edits: r.get(1),
            })
            .collect())
    }

    async fn hashtag_top(
        &self,
        q: &HashtagQuery,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError> {
        let to_top = |r: &Row| TopRow {
            key: r.get(0),
            wiki: r.get(1),
            edits: r.get(2),
        };
        if let Some(tag) = whole_tag(q) {
            // The per-tag leaderboards (kept exact by the batch writer)
            // answer a tag alone without reading every edit of the tag.
            let sql = match by {
                TopBy::User => {
                    "SELECT user_name, NULL::text, edits FROM hashtag_tag_users WHERE tag_key = $1
                     ORDER BY edits DESC, user_name COLLATE \"C\" LIMIT $2"
                }
                TopBy::Wiki => {
                    "SELECT domain, NULL::text, edits FROM hashtag_tag_wikis WHERE tag_key = $1
                     ORDER BY edits DESC, domain COLLATE \"C\" LIMIT $2"
                }
                TopBy::Page => {
                    "SELECT title, domain, edits FROM hashtag_tag_pages WHERE tag_key = $1
                     ORDER BY edits DESC, domain COLLATE \"C\", title COLLATE \"C\" LIMIT $2"
                }
            };
            let values = [Val::Text(tag.to_owned()), Val::Int(limit as i64)];
            return Ok(self
                .hq_rows(sql, &values)
                .await?
                .iter()
                .map(to_top)
                .collect());
        }
        let mut m = Matching::new(q, None);
        let lim = m.bind(Val::Int(limit as i64));
        let sql = match by {
            TopBy::User => format!(
                "SELECT e.user_name, NULL::text, COUNT(*) {} AND e.user_name IS NOT NULL
                 GROUP BY e.user_name ORDER BY 3 DESC, e.user_name COLLATE \"C\" LIMIT {lim}",
                m.sql
            ),
            TopBy::Wiki => format!(
                "SELECT e.domain, NULL::text, COUNT(*) {} GROUP BY e.domain
                 ORDER BY 3 DESC, e.domain COLLATE \"C\" LIMIT {lim}",
                m.sql
            ),
            TopBy::Page => format!(
                "SELECT e.title, e.domain, COUNT(*) {} GROUP BY e.domain, e.title
                 ORDER BY 3 DESC, e.domain COLLATE \"C\", e.title COLLATE \"C\" LIMIT {lim}",
                m.sql
            ),
        };
        Ok(self
            .hq_rows(&sql, &m.params)
            .await?
            .iter()
            .map(to_top)
            .collect())
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
        let rows = self
            .hq_rows(
                "SELECT h.tag_key, t.tag,
                    SUM(CASE WHEN h.hour >= $1 THEN h.edits ELSE 0 END)::bigint AS cur,
                    SUM(CASE WHEN h.hour < $1 THEN h.edits ELSE 0 END)::bigint AS prev
                 FROM hashtag_tag_hours h JOIN hashtag_tags t ON t.tag_key = h.tag_key
                 WHERE h.hour >= $2 AND h.hour < $3
                 GROUP BY h.tag_key, t.tag
                 HAVING SUM(CASE WHEN h.hour >= $1 THEN h.edits ELSE 0 END) > 0
                 ORDER BY cur DESC, h.tag_key LIMIT $4",
                &[
                    Val::Int(cur),
                    Val::Int(prev),
                    Val::Int(end),
                    Val::Int(limit as i64),
                ],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| TrendingRow {
                key: r.get(0),
                tag: r.get(1),
                edits: r.get(2),
                previous: r.get(3),
            })
            .collect())
    }

    async fn hashtag_tags(
        &self,
        prefix: &str,
        order: TagOrder,
        limit: usize,
    ) -> Result<Vec<TagInfo>, StoreError> {
        // tag_key is COLLATE "C" (migration 0002): byte order, as in SQLite.
        let order_by = tag_order_sql(order);
        let (filter, values) = if prefix.is_empty() {
            (String::new(), vec![Val::Int(limit as i64)])
        } else {
            (
                "WHERE tag_key >= $1 AND tag_key < $2".to_owned(),
                vec![
                    Val::Text(prefix.to_owned()),
                    Val::Text(format!("{prefix}\u{10FFFF}")),
                    Val::Int(limit as i64),
                ],
            )
        };
        let sql = format!(
            "SELECT tag_key, tag, first_ms, last_ms, uses FROM hashtag_tags {filter} ORDER BY {order_by} LIMIT ${}",
            values.len()
        );
        Ok(self
            .hq_rows(&sql, &values)
            .await?
            .iter()
            .map(|r| TagInfo {
                key: r.get(0),
                tag: r.get(1),
                first_ms: r.get(2),
                last_ms: r.get(3),
                uses: r.get(4),
            })
            .collect())
    }

    async fn hashtag_newest_ms(&self) -> Result<Option<i64>, StoreError> {
        let rows = self
            .hq_rows("SELECT MAX(time_ms) FROM hashtag_edits", &[])
            .await?;
        Ok(rows.first().and_then(|r| r.get(0)))
    }

    async fn media_pending(
        &self,
        limit: usize,
        max_attempts: i64,
    ) -> Result<Vec<MediaCheck>, StoreError> {
        let rows = self
            .hq_rows(
                "SELECT id, domain, rev_old, rev_new FROM hashtag_edits
                 WHERE has_image IS NULL AND rev_new IS NOT NULL AND media_attempts < $1
                 ORDER BY id DESC LIMIT $2",
                &[Val::Int(max_attempts), Val::Int(limit as i64)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| MediaCheck {
                id: r.get(0),
                domain: r.get(1),
                rev_old: r.get(2),
                rev_new: r.get(3),
            })
            .collect())
    }

    async fn media_record(
        &self,
        results: Vec<(i64, Option<MediaFlags>)>,
    ) -> Result<(), StoreError> {
        // Flags are written beside ingest on a pooled connection: row locks
        // on the few edits touched are all the two writers share.
        let (mut ids, mut img, mut vid, mut aud, mut failed) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (id, flags) in results {
            match flags {
                Some(f) => {
                    ids.push(id);
                    img.push(i16::from(f.image));
                    vid.push(i16::from(f.video));
                    aud.push(i16::from(f.audio));
                }
                None => failed.push(id),
            }
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        if !ids.is_empty() {
            tx.execute(
                "UPDATE hashtag_edits e SET has_image = u.i, has_video = u.v, has_audio = u.a,
                    media_attempts = e.media_attempts + 1
                 FROM UNNEST($1::int8[], $2::int2[], $3::int2[], $4::int2[]) AS u(id, i, v, a)
                 WHERE e.id = u.id",
                &[&ids, &img, &vid, &aud],
            )
            .await
            .map_err(|e| self.err(e))?;
        }
        if !failed.is_empty() {
            tx.execute(
                "UPDATE hashtag_edits SET media_attempts = media_attempts + 1 WHERE id = ANY($1::int8[])",
                &[&failed],
            )
            .await
            .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }
}

/// What one new use row adds to its tag's totals.
#[derive(Default)]
struct Totals {
    edits: i64,
    pages: i64,
    users: i64,
    wikis: i64,
    bytes_added: i64,
    bytes_removed: i64,
    pages_created: i64,
}

/// Bytes added by an edit, as the SQLite trigger computes it.
fn bytes_added(e: &HashtagEdit) -> i64 {
    match (e.len_old, e.len_new) {
        (Some(o), Some(n)) if n - o > 0 => n - o,
        (None, n) if e.change_type == "new" => n.unwrap_or(0),
        _ => 0,
    }
}

fn bytes_removed(e: &HashtagEdit) -> i64 {
    match (e.len_old, e.len_new) {
        (Some(o), Some(n)) if n < o => o - n,
        _ => 0,
    }
}

/// Upserts `(keys…, count)` rows and returns, per tag key, how many of them
/// were new (a user, wiki or page seen for the first time under the tag).
async fn upsert_counts(
    tx: &Transaction<'_>,
    sql: &str,
    values: &[&(dyn ToSql + Sync)],
) -> Result<HashMap<String, i64>, tokio_postgres::Error> {
    let mut fresh: HashMap<String, i64> = HashMap::new();
    for r in tx.query(sql, values).await? {
        if r.get::<_, bool>(1) {
            *fresh.entry(r.get(0)).or_default() += 1;
        }
    }
    Ok(fresh)
}

/// Adds the use rows a batch has just inserted (tag key and its edit) to the
/// per-tag aggregates, in the batch's transaction: one upsert per table,
/// each with unique keys (aggregated here first, in key order so concurrent
/// writers would take row locks in the same order).
pub(super) async fn add_to_aggregates(
    tx: &Transaction<'_>,
    uses: &[(&str, &HashtagEdit)],
) -> Result<(), tokio_postgres::Error> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut hours: BTreeMap<(&str, i64), i64> = BTreeMap::new();
    let mut users: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    let mut wikis: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    let mut pages: BTreeMap<(&str, &str, &str), i64> = BTreeMap::new();
    let mut totals: BTreeMap<&str, Totals> = BTreeMap::new();
    for (key, e) in uses {
        *hours.entry((key, e.time_ms / HOUR_MS)).or_default() += 1;
        if let Some(u) = &e.user {
            *users.entry((key, u.as_str())).or_default() += 1;
        }
        *wikis.entry((key, e.domain.as_str())).or_default() += 1;
        *pages
            .entry((key, e.domain.as_str(), e.title.as_str()))
            .or_default() += 1;
        let t = totals.entry(key).or_default();
        t.edits += 1;
        t.bytes_added += bytes_added(e);
        t.bytes_removed += bytes_removed(e);
        t.pages_created += i64::from(e.change_type == "new");
    }

    let (k, h): (Vec<&str>, Vec<i64>) = hours.keys().copied().unzip();
    let n: Vec<i64> = hours.values().copied().collect();
    tx.execute(
        "INSERT INTO hashtag_tag_hours (tag_key, hour, edits)
         SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[])
         ON CONFLICT (tag_key, hour) DO UPDATE SET edits = hashtag_tag_hours.edits + excluded.edits",
        &[&k, &h, &n],
    )
    .await?;

    let (k, u): (Vec<&str>, Vec<&str>) = users.keys().copied().unzip();
    let n: Vec<i64> = users.values().copied().collect();
    let new_users = upsert_counts(
        tx,
        "INSERT INTO hashtag_tag_users (tag_key, user_name, edits)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[])
         ON CONFLICT (tag_key, user_name) DO UPDATE SET edits = hashtag_tag_users.edits + excluded.edits
         RETURNING tag_key, (xmax = 0)",
        &[&k, &u, &n],
    )
    .await?;

    let (k, d): (Vec<&str>, Vec<&str>) = wikis.keys().copied().unzip();
    let n: Vec<i64> = wikis.values().copied().collect();
    let new_wikis = upsert_counts(
        tx,
        "INSERT INTO hashtag_tag_wikis (tag_key, domain, edits)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[])
         ON CONFLICT (tag_key, domain) DO UPDATE SET edits = hashtag_tag_wikis.edits + excluded.edits
         RETURNING tag_key, (xmax = 0)",
        &[&k, &d, &n],
    )
    .await?;

    let k: Vec<&str> = pages.keys().map(|p| p.0).collect();
    let d: Vec<&str> = pages.keys().map(|p| p.1).collect();
    let t: Vec<&str> = pages.keys().map(|p| p.2).collect();
    let n: Vec<i64> = pages.values().copied().collect();
    let new_pages = upsert_counts(
        tx,
        "INSERT INTO hashtag_tag_pages (tag_key, domain, title, edits)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[])
         ON CONFLICT (tag_key, domain, title) DO UPDATE SET edits = hashtag_tag_pages.edits + excluded.edits
         RETURNING tag_key, (xmax = 0)",
        &[&k, &d, &t, &n],
    )
    .await?;

    for (key, t) in totals.iter_mut() {
        t.users = new_users.get(*key).copied().unwrap_or(0);
        t.wikis = new_wikis.get(*key).copied().unwrap_or(0);
        t.pages = new_pages.get(*key).copied().unwrap_or(0);
    }
    let col = |f: fn(&Totals) -> i64| totals.values().map(f).collect::<Vec<i64>>();
    let k: Vec<&str> = totals.keys().copied().collect();
    tx.execute(
        "INSERT INTO hashtag_tag_totals (tag_key, edits, pages, users, wikis, bytes_added, bytes_removed, pages_created)
         SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[],
            $7::int8[], $8::int8[])
         ON CONFLICT (tag_key) DO UPDATE SET edits = hashtag_tag_totals.edits + excluded.edits,
            pages = hashtag_tag_totals.pages + excluded.pages,
            users = hashtag_tag_totals.users + excluded.users,
            wikis = hashtag_tag_totals.wikis + excluded.wikis,
            bytes_added = hashtag_tag_totals.bytes_added + excluded.bytes_added,
            bytes_removed = hashtag_tag_totals.bytes_removed + excluded.bytes_removed,
            pages_created = hashtag_tag_totals.pages_created + excluded.pages_created",
        &[
            &k,
            &col(|t| t.edits),
            &col(|t| t.pages),
            &col(|t| t.users),
            &col(|t| t.wikis),
            &col(|t| t.bytes_added),
            &col(|t| t.bytes_removed),
            &col(|t| t.pages_created),
        ],
    )
    .await?;
    Ok(())
}
