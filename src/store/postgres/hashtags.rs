//! [`HashtagQueries`] for PostgreSQL: it runs the shared queries of
//! `crate::store::hashtags` (which say `COLLATE "C"` where SQLite's results
//! depend on its byte-order text comparison) and reads their rows, writes
//! the media flags, and keeps the per-tag aggregates
//! (`migrations/postgres/0002_hashtags.sql`) exact from the batch writer
//! rather than by a per-row trigger.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Transaction};

use super::{HashtagEdit, PostgresStore, StoreError};
use crate::hashtags::query::{
    Cursor, DayCount, EditPage, EditRow, HashtagQuery, HashtagStats, MediaCheck, MediaFlags,
    TagInfo, TagOrder, TopBy, TopRow, TrendingRow,
};
use crate::store::hashtags::{
    self as sql, HashtagQueries, days_sql, edits_sql, media_pending_sql, stats_sql, tags_sql,
    top_sql, trending_sql,
};
use crate::store::sql::{Dialect, Query, pg_params};

const HOUR_MS: i64 = crate::store::hashtags::HOUR_MS;
const D: Dialect = Dialect::Postgres;

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

fn top_row(r: &Row) -> TopRow {
    TopRow {
        key: r.get(0),
        wiki: r.get(1),
        edits: r.get(2),
    }
}

impl PostgresStore {
    async fn hq_rows(&self, q: &Query) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        client
            .query(&q.sql, &pg_params(&q.params))
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
        let rows: Vec<EditRow> = self
            .hq_rows(&edits_sql(D, q, after, limit))
            .await?
            .iter()
            .map(edit_row)
            .collect();
        Ok(EditPage::from_rows(rows, limit))
    }

    async fn hashtag_stats(&self, q: &HashtagQuery) -> Result<HashtagStats, StoreError> {
        let rows = self.hq_rows(&stats_sql(D, q)).await?;
        Ok(rows.first().map(stats_row).unwrap_or_default())
    }

    async fn hashtag_days(&self, q: &HashtagQuery) -> Result<Vec<DayCount>, StoreError> {
        Ok(self
            .hq_rows(&days_sql(D, q))
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
        Ok(self
            .hq_rows(&top_sql(D, q, by, limit))
            .await?
            .iter()
            .map(top_row)
            .collect())
    }

    async fn hashtag_trending(
        &self,
        until_ms: i64,
        window_ms: i64,
        limit: usize,
    ) -> Result<Vec<TrendingRow>, StoreError> {
        let rows = self
            .hq_rows(&trending_sql(D, until_ms, window_ms, limit))
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
        Ok(self
            .hq_rows(&tags_sql(D, prefix, order, limit))
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
            .hq_rows(&Query {
                sql: sql::NEWEST_SQL.into(),
                params: Vec::new(),
            })
            .await?;
        Ok(rows.first().and_then(|r| r.get(0)))
    }

    async fn media_pending(
        &self,
        limit: usize,
        max_attempts: i64,
    ) -> Result<Vec<MediaCheck>, StoreError> {
        let rows = self
            .hq_rows(&media_pending_sql(D, limit, max_attempts))
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
