//! PostgreSQL's batch writer: applies one [`Batch`] and its stream position
//! in one transaction, set-wise (hashtag edits and link changes by `UNNEST`
//! of column arrays; page deletions and restorations in order between
//! them), idempotently, with the monthly partitions and retention of the
//! link log and the row counts of `/api/status`.

use std::collections::{HashMap, HashSet};

use tokio_postgres::Transaction;

use super::hashtags;
use super::{
    Batch, HashtagEdit, LinkAction, LinkChangeRow, MONTH_MS_APPROX, Op, PageEventRow,
    PostgresStore, StoreError, WriteOutcome, month_start, partition_name,
};
use crate::clock::now_ms;
use crate::store::batch::{
    COUNTED_TABLES, EDITS, LINK_EVENTS, PAGE_EVENTS, PAGE_LINKS, TAGS, USES,
};

impl PostgresStore {
    /// Applies `batch` and its position in one transaction.
    pub(super) async fn write(&self, batch: &Batch) -> Result<WriteOutcome, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| self.err(e))?;
        let mut w = Writer {
            store: self,
            tx: &tx,
            outcome: WriteOutcome::default(),
            counts: [0; 6],
        };
        // Runs of hashtag and link ops go set-wise; page events in order
        // between runs.
        let mut edits: Vec<&HashtagEdit> = Vec::new();
        let mut links: Vec<&LinkChangeRow> = Vec::new();
        for op in &batch.ops {
            match op {
                Op::HashtagEdit(e) => edits.push(e),
                Op::Link(l) => links.push(l),
                Op::PageDeleted(p) | Op::PageRestored(p) => {
                    // A page event only has to wait for pending links of its
                    // own page (by id, or by title for a restoration);
                    // hashtag edits never interact with it.
                    let restoring = matches!(op, Op::PageRestored(_));
                    let touches = links.iter().any(|l| {
                        l.wiki == p.wiki
                            && (l.page_id == p.page_id
                                || (restoring && l.page_title == p.page_title))
                    });
                    if touches {
                        w.links(&links).await?;
                        links.clear();
                    }
                    if matches!(op, Op::PageDeleted(_)) {
                        w.page_deleted(p).await?;
                    } else {
                        w.page_restored(p).await?;
                    }
                }
            }
        }
        w.hashtag_edits(&edits).await?;
        w.links(&links).await?;
        let (outcome, counts) = (w.outcome, w.counts);
        let tables: Vec<String> = COUNTED_TABLES.iter().map(|t| (*t).to_owned()).collect();
        let deltas: Vec<i64> = counts.to_vec();
        if deltas.iter().any(|d| *d != 0) {
            tx.execute(
                "UPDATE row_counts r SET rows = r.rows + u.d
                 FROM UNNEST($1::text[], $2::int8[]) AS u(t, d) WHERE r.table_name = u.t AND u.d <> 0",
                &[&tables, &deltas],
            )
            .await
            .map_err(|e| self.err(e))?;
        }
        if let Some(position) = &batch.position {
            tx.execute(
                "INSERT INTO ingest_position (id, position, updated_ms) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms",
                &[position, &now_ms()],
            )
            .await
            .map_err(|e| self.err(e))?;
        }
        self.apply_retention(&tx).await?;
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(outcome)
    }

    /// Creates the monthly partitions covering `times` that do not exist yet.
    pub(super) async fn ensure_partitions(
        &self,
        tx: &Transaction<'_>,
        times: impl IntoIterator<Item = i64>,
    ) -> Result<(), StoreError> {
        let mut wanted: Vec<(i64, i64)> = Vec::new();
        {
            let known = self
                .partitions
                .lock()
                .map_err(|_| StoreError::Task("partition cache poisoned".into()))?;
            for t in times {
                let m = month_start(t);
                if !known.contains(&m.0) && !wanted.contains(&m) {
                    wanted.push(m);
                }
            }
        }
        for (start, end) in wanted {
            let name = partition_name(start);
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {name} PARTITION OF link_events FOR VALUES FROM ({start}) TO ({end})"
            );
            tx.batch_execute(&sql).await.map_err(|e| self.err(e))?;
            if let Ok(mut known) = self.partitions.lock() {
                known.insert(start);
            }
        }
        Ok(())
    }

    /// Drops whole monthly partitions older than `retention_months`, at most
    /// once an hour.
    async fn apply_retention(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let Some(months) = self.options.retention_months else {
            return Ok(());
        };
        let now = now_ms();
        {
            let Ok(mut last) = self.last_retention_ms.lock() else {
                return Ok(());
            };
            if now - *last < 3_600_000 {
                return Ok(());
            }
            *last = now;
        }
        let cutoff = month_start(now - i64::from(months) * MONTH_MS_APPROX).0;
        let rows = tx
            .query(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
                 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'link_events'::regclass",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        for r in rows {
            let name: String = r.get(0);
            let bound: String = r.get(1);
            // FOR VALUES FROM ('1767225600000') TO ('1769904000000')
            let upper = bound
                .rsplit("TO (")
                .next()
                .map(|s| s.trim_matches(|c: char| !c.is_ascii_digit()))
                .and_then(|s| s.parse::<i64>().ok());
            if let Some(upper) = upper
                && upper <= cutoff
                && name.starts_with("link_events_2")
            {
                let n: i64 = tx
                    .query_one(&format!("SELECT count(*) FROM {name}"), &[])
                    .await
                    .map_err(|e| self.err(e))?
                    .get(0);
                tx.batch_execute(&format!("DROP TABLE {name}"))
                    .await
                    .map_err(|e| self.err(e))?;
                tx.execute(
                    "UPDATE row_counts SET rows = rows - $1 WHERE table_name = 'link_events'",
                    &[&n],
                )
                .await
                .map_err(|e| self.err(e))?;
                tracing::info!(partition = %name, rows = n, "retention: dropped a month of link events");
            }
        }
        Ok(())
    }
}

fn flag(b: bool) -> i16 {
    i16::from(b)
}

struct Writer<'a, 'b> {
    store: &'a PostgresStore,
    tx: &'a Transaction<'b>,
    outcome: WriteOutcome,
    counts: [i64; 6],
}

impl Writer<'_, '_> {
    pub(super) fn err(&self, e: impl std::fmt::Display) -> StoreError {
        self.store.err(e)
    }

    async fn hashtag_edits(&mut self, edits: &[&HashtagEdit]) -> Result<(), StoreError> {
        if edits.is_empty() {
            return Ok(());
        }
        let col = |f: fn(&HashtagEdit) -> String| edits.iter().map(|e| f(e)).collect::<Vec<_>>();
        let meta: Vec<String> = col(|e| e.meta_id.clone());
        let wiki = col(|e| e.wiki.clone());
        let domain = col(|e| e.domain.clone());
        let rc: Vec<Option<i64>> = edits.iter().map(|e| e.rc_id).collect();
        let rev_old: Vec<Option<i64>> = edits.iter().map(|e| e.rev_old).collect();
        let rev_new: Vec<Option<i64>> = edits.iter().map(|e| e.rev_new).collect();
        let title = col(|e| e.title.clone());
        let ns: Vec<i64> = edits.iter().map(|e| e.namespace).collect();
        let kind = col(|e| e.change_type.clone());
        let user: Vec<Option<String>> = edits.iter().map(|e| e.user.clone()).collect();
        let editor = col(|e| e.editor_kind.as_str().to_owned());
        let time: Vec<i64> = edits.iter().map(|e| e.time_ms).collect();
        let summary = col(|e| e.summary.clone());
        let len_old: Vec<Option<i64>> = edits.iter().map(|e| e.len_old).collect();
        let len_new: Vec<Option<i64>> = edits.iter().map(|e| e.len_new).collect();
        let minor: Vec<i16> = edits.iter().map(|e| flag(e.minor)).collect();
        let is_new: Vec<i16> = edits.iter().map(|e| flag(e.is_new)).collect();
        let bot: Vec<i16> = edits.iter().map(|e| flag(e.bot)).collect();
        let rows = self
            .tx
            .query(
                "INSERT INTO hashtag_edits (meta_id, wiki, domain, rc_id, rev_old, rev_new, title, namespace,
                    change_type, user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[],
                    $7::text[], $8::int8[], $9::text[], $10::text[], $11::text[], $12::int8[], $13::text[],
                    $14::int8[], $15::int8[], $16::int2[], $17::int2[], $18::int2[])
                 ON CONFLICT DO NOTHING
                 RETURNING id, meta_id",
                &[
                    &meta, &wiki, &domain, &rc, &rev_old, &rev_new, &title, &ns, &kind, &user, &editor,
                    &time, &summary, &len_old, &len_new, &minor, &is_new, &bot,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        let ids: HashMap<String, i64> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
        self.outcome.hashtag_edits += ids.len() as u64;
        self.counts[EDITS] += ids.len() as i64;

        // Uses of the new edits, in order; then the tag vocabulary, aggregated
        // so each tag is upserted once per run.
        let (mut u_edit, mut u_key, mut u_tag, mut u_time, mut u_wiki, mut u_user) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let mut u_src: Vec<&HashtagEdit> = Vec::new();
        for e in edits {
            let Some(id) = ids.get(&e.meta_id) else {
                continue;
            };
            for t in &e.tags {
                u_src.push(e);
                u_edit.push(*id);
                u_key.push(t.key.clone());
                u_tag.push(t.text.clone());
                u_time.push(e.time_ms);
                u_wiki.push(e.wiki.clone());
                u_user.push(e.user.clone());
            }
        }
        if u_edit.is_empty() {
            return Ok(());
        }
        let inserted = self
            .tx
            .query(
                "INSERT INTO hashtag_uses (edit_id, tag_key, tag, time_ms, wiki, user_name)
                 SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[])
                 ON CONFLICT DO NOTHING
                 RETURNING edit_id, tag_key",
                &[&u_edit, &u_key, &u_tag, &u_time, &u_wiki, &u_user],
            )
            .await
            .map_err(|e| self.err(e))?;
        let inserted: HashSet<(i64, String)> =
            inserted.iter().map(|r| (r.get(0), r.get(1))).collect();
        self.outcome.hashtag_uses += inserted.len() as u64;
        self.counts[USES] += inserted.len() as i64;
        // The per-tag aggregates, from exactly the use rows just inserted.
        let new_uses: Vec<(&str, &HashtagEdit)> = (0..u_edit.len())
            .filter(|&i| inserted.contains(&(u_edit[i], u_key[i].clone())))
            .map(|i| (u_key[i].as_str(), u_src[i]))
            .collect();
        hashtags::add_to_aggregates(self.tx, &new_uses)
            .await
            .map_err(|e| self.err(e))?;
        // tag_key → (first spelling, first_ms, last_ms, uses), in use order.
        let mut order: Vec<String> = Vec::new();
        let mut agg: HashMap<String, (String, i64, i64, i64)> = HashMap::new();
        for i in 0..u_edit.len() {
            if !inserted.contains(&(u_edit[i], u_key[i].clone())) {
                continue;
            }
            let e = agg.entry(u_key[i].clone()).or_insert_with(|| {
                order.push(u_key[i].clone());
                (u_tag[i].clone(), u_time[i], u_time[i], 0)
            });
            e.1 = e.1.min(u_time[i]);
            e.2 = e.2.max(u_time[i]);
            e.3 += 1;
        }
        let keys: Vec<String> = order.clone();
        let tags: Vec<String> = order.iter().map(|k| agg[k].0.clone()).collect();
        let firsts: Vec<i64> = order.iter().map(|k| agg[k].1).collect();
        let lasts: Vec<i64> = order.iter().map(|k| agg[k].2).collect();
        let uses: Vec<i64> = order.iter().map(|k| agg[k].3).collect();
        let new_tags = self
            .tx
            .query(
                "INSERT INTO hashtag_tags (tag_key, tag, first_ms, last_ms, uses)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[])
                 ON CONFLICT (tag_key) DO UPDATE SET uses = hashtag_tags.uses + excluded.uses,
                     first_ms = least(hashtag_tags.first_ms, excluded.first_ms),
                     last_ms = greatest(hashtag_tags.last_ms, excluded.last_ms)
                 RETURNING (xmax = 0) AS inserted",
                &[&keys, &tags, &firsts, &lasts, &uses],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.counts[TAGS] += new_tags.iter().filter(|r| r.get::<_, bool>(0)).count() as i64;
        Ok(())
    }

    async fn links(&mut self, links: &[&LinkChangeRow]) -> Result<(), StoreError> {
        if links.is_empty() {
            return Ok(());
        }
        // Gate: an event's links are written once, when its id is new.
        let mut event_ids: Vec<String> = Vec::new();
        for l in links {
            if event_ids.last() != Some(&l.meta_id) && !event_ids.contains(&l.meta_id) {
                event_ids.push(l.meta_id.clone());
            }
        }
        let fresh: HashSet<String> = self
            .tx
            .query(
                "INSERT INTO link_change_events (meta_id) SELECT * FROM UNNEST($1::text[])
                 ON CONFLICT DO NOTHING RETURNING meta_id",
                &[&event_ids],
            )
            .await
            .map_err(|e| self.err(e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let rows: Vec<&LinkChangeRow> = links
            .iter()
            .copied()
            .filter(|l| fresh.contains(&l.meta_id))
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        self.store
            .ensure_partitions(self.tx, rows.iter().map(|l| l.time_ms))
            .await?;
        // Ids first, so page_links can point at the rows just written.
        let ids: Vec<i64> = self
            .tx
            .query(
                "SELECT nextval('link_events_id_seq') FROM generate_series(1, $1::int8)",
                &[&(rows.len() as i64)],
            )
            .await
            .map_err(|e| self.err(e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let s = |f: &dyn Fn(&LinkChangeRow) -> String| {
            rows.iter().map(|l| f(l)).collect::<Vec<String>>()
        };
        let o = |f: &dyn Fn(&LinkChangeRow) -> Option<String>| {
            rows.iter().map(|l| f(l)).collect::<Vec<Option<String>>>()
        };
        let oi = |f: &dyn Fn(&LinkChangeRow) -> Option<i64>| {
            rows.iter().map(|l| f(l)).collect::<Vec<Option<i64>>>()
        };
        let meta = s(&|l| l.meta_id.clone());
        let action = s(&|l| l.action.as_str().to_owned());
        let raw = s(&|l| l.link.raw.clone());
        let wiki = s(&|l| l.wiki.clone());
        let wiki_domain = s(&|l| l.wiki_domain.clone());
        let page_id: Vec<i64> = rows.iter().map(|l| l.page_id).collect();
        let page_title = s(&|l| l.page_title.clone());
        let page_ns: Vec<i64> = rows.iter().map(|l| l.page_namespace).collect();
        let rev_id = oi(&|l| l.rev_id);
        let performer = o(&|l| l.performer.as_ref().map(|p| p.name.clone()));
        let performer_id = oi(&|l| l.performer.as_ref().and_then(|p| p.id));
        let performer_bot: Vec<Option<i16>> = rows
            .iter()
            .map(|l| l.performer.as_ref().map(|p| flag(p.bot)))
            .collect();
        let groups = o(&|l| {
            l.performer
                .as_ref()
                .map(|p| serde_json::to_string(&p.groups).unwrap_or_default())
        });
        let registration = oi(&|l| l.performer.as_ref().and_then(|p| p.registration_ms));
        let edit_count = oi(&|l| l.performer.as_ref().and_then(|p| p.edit_count));
        let time: Vec<i64> = rows.iter().map(|l| l.time_ms).collect();
        let url = s(&|l| l.link.url.clone());
        let scheme = o(&|l| l.link.scheme.clone());
        let host = o(&|l| l.link.host.clone());
        let domain = o(&|l| l.link.domain.clone());
        let rhost = o(&|l| l.rhost.clone());
        let wrapper_kind = o(&|l| {
            l.link.wrapper.as_ref().map(|w| match w.kind {
                crate::extract::WrapperKind::Proxy => "proxy".to_owned(),
                crate::extract::WrapperKind::Archive => "archive".to_owned(),
            })
        });
        let wrapper_host = o(&|l| l.link.wrapper.as_ref().map(|w| w.host.clone()));
        let error = o(&|l| l.link.error.clone());
        let rc_id = oi(&|l| l.rc_id);
        let provenance = s(&|l| l.provenance.as_str().to_owned());
        let editor_kind = o(&|l| l.editor_kind.map(|k| k.as_str().to_owned()));
        let target = s(&|l| l.target.clone());
        self.tx
            .execute(
                "INSERT INTO link_events (id, meta_id, action, raw, wiki, wiki_domain, page_id, page_title,
                    page_namespace, rev_id, performer, performer_id, performer_bot, performer_groups,
                    performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                    rhost, wrapper_kind, wrapper_host, error, rc_id, provenance, editor_kind, target)
                 SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                    $7::int8[], $8::text[], $9::int8[], $10::int8[], $11::text[], $12::int8[], $13::int2[],
                    $14::text[], $15::int8[], $16::int8[], $17::int8[], $18::text[], $19::text[], $20::text[],
                    $21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::int8[], $27::text[],
                    $28::text[], $29::text[])",
                &[
                    &ids, &meta, &action, &raw, &wiki, &wiki_domain, &page_id, &page_title, &page_ns,
                    &rev_id, &performer, &performer_id, &performer_bot, &groups, &registration,
                    &edit_count, &time, &url, &scheme, &host, &domain, &rhost, &wrapper_kind,
                    &wrapper_host, &error, &rc_id, &provenance, &editor_kind, &target,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.outcome.link_events += rows.len() as u64;
        self.counts[LINK_EVENTS] += rows.len() as i64;

        // The present-links set: the last action per (wiki, page, link) in
        // this run decides, which is what applying them one by one gives.
        let mut last: HashMap<(&str, i64, &str), usize> = HashMap::new();
        let mut order: Vec<(&str, i64, &str)> = Vec::new();
        for (i, l) in rows.iter().enumerate() {
            if !matches!(l.action, LinkAction::Added | LinkAction::Removed) {
                continue;
            }
            let key = (l.wiki.as_str(), l.page_id, l.link.raw.as_str());
            if last.insert(key, i).is_none() {
                order.push(key);
            }
        }
        let (mut a_wiki, mut a_page, mut a_raw, mut a_title, mut a_ns, mut a_id) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let (mut r_wiki, mut r_page, mut r_raw) = (Vec::new(), Vec::new(), Vec::new());
        for key in order {
            let i = last[&key];
            let l = rows[i];
            if l.action == LinkAction::Added {
                a_wiki.push(l.wiki.clone());
                a_page.push(l.page_id);
                a_raw.push(l.link.raw.clone());
                a_title.push(l.page_title.clone());
                a_ns.push(l.page_namespace);
                a_id.push(ids[i]);
            } else {
                r_wiki.push(l.wiki.clone());
                r_page.push(l.page_id);
                r_raw.push(l.link.raw.clone());
            }
        }
        if !a_wiki.is_empty() {
            let added = self
                .tx
                .query(
                    "INSERT INTO page_links (wiki, page_id, raw, page_title, page_namespace, deleted, last_event_id)
                     SELECT w, p, r, t, n, 0, i FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[],
                        $5::int8[], $6::int8[]) AS u(w, p, r, t, n, i)
                     ON CONFLICT (wiki, page_id, md5(raw)) DO UPDATE SET deleted = 0,
                        last_event_id = excluded.last_event_id, page_title = excluded.page_title,
                        page_namespace = excluded.page_namespace
                     RETURNING (xmax = 0) AS inserted",
                    &[&a_wiki, &a_page, &a_raw, &a_title, &a_ns, &a_id],
                )
                .await
                .map_err(|e| self.err(e))?;
            self.counts[PAGE_LINKS] += added.iter().filter(|r| r.get::<_, bool>(0)).count() as i64;
        }
        if !r_wiki.is_empty() {
            let n = self
                .tx
                .execute(
                    "DELETE FROM page_links pl USING UNNEST($1::text[], $2::int8[], $3::text[]) AS u(w, p, r)
                     WHERE pl.wiki = u.w AND pl.page_id = u.p AND pl.raw = u.r",
                    &[&r_wiki, &r_page, &r_raw],
                )
                .await
                .map_err(|e| self.err(e))?;
            self.counts[PAGE_LINKS] -= n as i64;
        }
        Ok(())
    }

    async fn insert_page_event(
        &mut self,
        p: &PageEventRow,
        action: LinkAction,
    ) -> Result<bool, StoreError> {
        let performer = p.performer.as_ref().map(|u| u.name.clone());
        let n = self
            .tx
            .execute(
                "INSERT INTO page_events (meta_id, action, wiki, page_id, page_title, page_namespace,
                    performer, time_ms, links)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) ON CONFLICT DO NOTHING",
                &[
                    &p.meta_id,
                    &action.as_str(),
                    &p.wiki,
                    &p.page_id,
                    &p.page_title,
                    &p.page_namespace,
                    &performer,
                    &p.time_ms,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.counts[PAGE_EVENTS] += n as i64;
        Ok(n > 0)
    }

    /// One link event per link of the page in `deleted_state`, copying each
    /// link's analysis from the event that last added it.
    async fn link_events_from_page(
        &mut self,
        p: &PageEventRow,
        action: LinkAction,
        deleted_state: i16,
    ) -> Result<u64, StoreError> {
        self.store.ensure_partitions(self.tx, [p.time_ms]).await?;
        let u = p.performer.as_ref();
        let performer = u.map(|u| u.name.clone());
        let performer_id = u.and_then(|u| u.id);
        let performer_bot = u.map(|u| flag(u.bot));
        let groups = u.map(|u| serde_json::to_string(&u.groups).unwrap_or_default());
        let registration = u.and_then(|u| u.registration_ms);
        let edit_count = u.and_then(|u| u.edit_count);
        let editor_kind = u.map(|u| crate::extract::editor_kind(&u.name).as_str().to_owned());
        let n = self
            .tx
            .execute(
                "INSERT INTO link_events (meta_id, action, raw, wiki, wiki_domain, page_id, page_title,
                    page_namespace, rev_id, performer, performer_id, performer_bot, performer_groups,
                    performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                    rhost, wrapper_kind, wrapper_host, error, provenance, editor_kind, target)
                 SELECT $1, $2, pl.raw, pl.wiki, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                    le.url, le.scheme, le.host, le.domain, le.rhost, le.wrapper_kind, le.wrapper_host, le.error,
                    CASE WHEN $8::text IS NULL THEN 'system' ELSE 'edit' END, $17::text, COALESCE(le.target, le.url)
                 FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id
                 WHERE pl.wiki = $15 AND pl.page_id = $4 AND pl.deleted = $16
                 ORDER BY pl.raw",
                &[
                    &p.meta_id,
                    &action.as_str(),
                    &p.wiki_domain,
                    &p.page_id,
                    &p.page_title,
                    &p.page_namespace,
                    &p.rev_id,
                    &performer,
                    &performer_id,
                    &performer_bot,
                    &groups,
                    &registration,
                    &edit_count,
                    &p.time_ms,
                    &p.wiki,
                    &deleted_state,
                    &editor_kind,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(n)
    }

    async fn finish_page_event(&mut self, p: &PageEventRow, links: u64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE page_events SET links = $2 WHERE meta_id = $1",
                &[&p.meta_id, &(links as i64)],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.outcome.link_events += links;
        self.counts[LINK_EVENTS] += links as i64;
        Ok(())
    }

    async fn page_deleted(&mut self, p: &PageEventRow) -> Result<(), StoreError> {
        if !self.insert_page_event(p, LinkAction::PageDeleted).await? {
            return Ok(());
        }
        let n = self
            .link_events_from_page(p, LinkAction::PageDeleted, 0)
            .await?;
        if n == 0 {
            // Nothing was present: nothing to mark, and `links` is already 0.
            return Ok(());
        }
        self.tx
            .execute(
                "UPDATE page_links SET deleted = 1 WHERE wiki = $1 AND page_id = $2 AND deleted = 0",
                &[&p.wiki, &p.page_id],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.finish_page_event(p, n).await
    }

    async fn page_restored(&mut self, p: &PageEventRow) -> Result<(), StoreError> {
        if !self.insert_page_event(p, LinkAction::PageRestored).await? {
            return Ok(());
        }
        let by_id = self
            .tx
            .query_opt(
                "SELECT 1 FROM page_links WHERE wiki = $1 AND page_id = $2 AND deleted = 1 LIMIT 1",
                &[&p.wiki, &p.page_id],
            )
            .await
            .map_err(|e| self.err(e))?
            .is_some();
        if !by_id {
            // A restored page can come back under a new id: move its deleted
            // links by title, replacing any rows already under the new id
            // (what SQLite's UPDATE OR REPLACE does).
            self.tx
                .execute(
                    "DELETE FROM page_links WHERE wiki = $1 AND page_id = $3 AND raw IN
                        (SELECT raw FROM page_links WHERE wiki = $1 AND page_title = $2 AND deleted = 1)",
                    &[&p.wiki, &p.page_title, &p.page_id],
                )
                .await
                .map_err(|e| self.err(e))?;
            self.tx
                .execute(
                    "UPDATE page_links SET page_id = $3 WHERE wiki = $1 AND page_title = $2 AND deleted = 1",
                    &[&p.wiki, &p.page_title, &p.page_id],
                )
                .await
                .map_err(|e| self.err(e))?;
        }
        let n = self
            .link_events_from_page(p, LinkAction::PageRestored, 1)
            .await?;
        self.tx
            .execute(
                "UPDATE page_links SET deleted = 0 WHERE wiki = $1 AND page_id = $2 AND deleted = 1",
                &[&p.wiki, &p.page_id],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.finish_page_event(p, n).await
    }
}
