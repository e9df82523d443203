//! [`HashtagQueries`] for SQLite, on the store's pool of read connections:
//! it runs the shared queries of `crate::store::hashtags` and reads their
//! rows (an export reuses one row's buffers), writes the media flags, and
//! bulk-loads edits for the benchmarks.

use std::path::Path;

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params, params_from_iter};

use super::write::EditInserts;
use super::{HashtagEdit, SqliteStore, StoreError};
use crate::hashtags::query::{
    Cursor, DayCount, EditPage, EditRow, HashtagQuery, HashtagStats, MediaCheck, MediaFlags,
    RowEncoder, TagInfo, TagOrder, TopBy, TopRow, TrendingRow,
};
use crate::store::hashtags::{
    self as sql, HashtagQueries, days_sql, edits_sql, media_pending_sql, stats_sql, tags_sql,
    top_sql, trending_sql,
};
use crate::store::sql::{Dialect, Query};

const D: Dialect = Dialect::Sqlite;

fn flag(v: Option<i64>) -> Option<bool> {
    v.map(|n| n != 0)
}

/// Every row of `q`, each read by `read`.
fn rows<T>(
    c: &Connection,
    q: &Query,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = c.prepare_cached(&q.sql)?;
    let rows = stmt
        .query_map(params_from_iter(q.params.iter()), read)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
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
    let rows = rows(c, &edits_sql(D, q, after, limit), edit_row)?;
    Ok(EditPage::from_rows(rows, limit))
}

/// [`edits_page`] encoded where it is read, through one reused row.
fn edits_encoded(
    c: &Connection,
    q: &HashtagQuery,
    after: Option<Cursor>,
    limit: usize,
    encode: RowEncoder,
) -> Result<(String, Option<Cursor>), StoreError> {
    let q = edits_sql(D, q, after, limit);
    let mut stmt = c.prepare_cached(&q.sql)?;
    let mut rows = stmt.query(params_from_iter(q.params.iter()))?;
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

fn stats_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HashtagStats> {
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
}

fn top_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TopRow> {
    Ok(TopRow {
        key: r.get(0)?,
        wiki: r.get(1)?,
        edits: r.get(2)?,
    })
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
        let q = stats_sql(D, q);
        self.read(move |c| Ok(rows(c, &q, stats_row)?.pop().unwrap_or_default()))
            .await
    }

    async fn hashtag_days(&self, q: &HashtagQuery) -> Result<Vec<DayCount>, StoreError> {
        let q = days_sql(D, q);
        self.read(move |c| {
            rows(c, &q, |r| {
                Ok(DayCount {
                    day: r.get(0)?,
                    edits: r.get(1)?,
                })
            })
        })
        .await
    }

    async fn hashtag_top(
        &self,
        q: &HashtagQuery,
        by: TopBy,
        limit: usize,
    ) -> Result<Vec<TopRow>, StoreError> {
        let q = top_sql(D, q, by, limit);
        self.read(move |c| rows(c, &q, top_row)).await
    }

    async fn hashtag_trending(
        &self,
        until_ms: i64,
        window_ms: i64,
        limit: usize,
    ) -> Result<Vec<TrendingRow>, StoreError> {
        let q = trending_sql(D, until_ms, window_ms, limit);
        self.read(move |c| {
            rows(c, &q, |r| {
                Ok(TrendingRow {
                    key: r.get(0)?,
                    tag: r.get(1)?,
                    edits: r.get(2)?,
                    previous: r.get(3)?,
                })
            })
        })
        .await
    }

    async fn hashtag_tags(
        &self,
        prefix: &str,
        order: TagOrder,
        limit: usize,
    ) -> Result<Vec<TagInfo>, StoreError> {
        let q = tags_sql(D, prefix, order, limit);
        self.read(move |c| {
            rows(c, &q, |r| {
                Ok(TagInfo {
                    key: r.get(0)?,
                    tag: r.get(1)?,
                    first_ms: r.get(2)?,
                    last_ms: r.get(3)?,
                    uses: r.get(4)?,
                })
            })
        })
        .await
    }

    async fn media_pending(
        &self,
        limit: usize,
        max_attempts: i64,
    ) -> Result<Vec<MediaCheck>, StoreError> {
        let q = media_pending_sql(D, limit, max_attempts);
        self.read(move |c| {
            rows(c, &q, |r| {
                Ok(MediaCheck {
                    id: r.get(0)?,
                    domain: r.get(1)?,
                    rev_old: r.get(2)?,
                    rev_new: r.get(3)?,
                })
            })
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
        self.read(|c| Ok(c.query_row(sql::NEWEST_SQL, [], |r| r.get(0))?))
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
            let mut inserts = EditInserts::new(&tx)?;
            for e in edits.by_ref().take(per_transaction) {
                let [added_edits, added_uses, added_tags] = inserts.insert(&tx, &e)?;
                n_edits += added_edits as u64;
                n_uses += added_uses as u64;
                n_tags += added_tags;
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
    use crate::hashtags::query::{MediaFilter, TagMode, WikiFilter};

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

    /// Migration 7 (the tag + wiki index) reaches a database without it
    /// when it is next opened.
    #[tokio::test]
    async fn a_database_without_migration_7_gets_the_tag_wiki_index() {
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
                "DROP INDEX hashtag_uses_tag_wiki_time; DELETE FROM schema_migrations WHERE version = 7;",
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
