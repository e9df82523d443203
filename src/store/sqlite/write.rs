//! SQLite's batch writer: applies one [`Batch`] and its stream position in
//! one transaction (hashtag edits, link changes, page deletions and
//! restorations), idempotently, keeping the row counts of `/api/status`.

use rusqlite::{CachedStatement, Connection, Transaction, params};

use super::{
    Batch, HashtagEdit, LinkAction, LinkChangeRow, Op, PageEventRow, StoreError, WriteOutcome,
};
use crate::clock::now_ms;
use crate::event::Performer;
use crate::store::batch::{
    COUNTED_TABLES, EDITS, LINK_EVENTS, PAGE_EVENTS, PAGE_LINKS, TAGS, USES,
};

pub(super) fn apply(conn: &mut Connection, batch: &Batch) -> Result<WriteOutcome, StoreError> {
    let tx = conn.transaction()?;
    let mut outcome = WriteOutcome::default();
    let mut counts = [0i64; 6];
    // The links of one event arrive as consecutive ops; the event's row in
    // link_change_events decides once whether they are new.
    let mut gate: Option<(&str, bool)> = None;
    for op in &batch.ops {
        match op {
            Op::HashtagEdit(e) => insert_hashtag_edit(&tx, e, &mut outcome, &mut counts)?,
            Op::Link(l) => {
                let is_new = match gate {
                    Some((id, is_new)) if id == l.meta_id => is_new,
                    _ => {
                        let is_new = tx
                            .prepare_cached(
                                "INSERT INTO link_change_events (meta_id) VALUES (?1) ON CONFLICT DO NOTHING",
                            )?
                            .execute([&l.meta_id])?
                            > 0;
                        gate = Some((l.meta_id.as_str(), is_new));
                        is_new
                    }
                };
                if is_new {
                    insert_link(&tx, l, &mut outcome, &mut counts)?;
                }
            }
            Op::PageDeleted(p) => page_deleted(&tx, p, &mut outcome, &mut counts)?,
            Op::PageRestored(p) => page_restored(&tx, p, &mut outcome, &mut counts)?,
        }
    }
    {
        let mut bump =
            tx.prepare_cached("UPDATE row_counts SET rows = rows + ?2 WHERE table_name = ?1")?;
        for (table, n) in COUNTED_TABLES.iter().zip(counts) {
            if n != 0 {
                bump.execute(params![table, n])?;
            }
        }
    }
    if let Some(position) = &batch.position {
        tx.prepare_cached(
            "INSERT INTO ingest_position (id, position, updated_ms) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms",
        )?
        .execute(params![position, now_ms()])?;
    }
    tx.commit()?;
    Ok(outcome)
}

fn insert_hashtag_edit(
    tx: &Transaction<'_>,
    e: &HashtagEdit,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    let [edits, uses, tags] = EditInserts::new(tx)?.insert(tx, e)?;
    outcome.hashtag_edits += edits as u64;
    outcome.hashtag_uses += uses as u64;
    counts[EDITS] += edits;
    counts[USES] += uses;
    counts[TAGS] += tags;
    Ok(())
}

/// The statements that store one hashtag edit with its tag uses and the
/// tag vocabulary, for the writer and the bulk loader.
pub(super) struct EditInserts<'t> {
    edit: CachedStatement<'t>,
    uses: CachedStatement<'t>,
    tags: CachedStatement<'t>,
}

impl<'t> EditInserts<'t> {
    pub(super) fn new(conn: &'t Connection) -> rusqlite::Result<Self> {
        Ok(EditInserts {
            edit: conn.prepare_cached(
                "INSERT INTO hashtag_edits (meta_id, wiki, domain, rc_id, rev_old, rev_new, title, namespace,
                    change_type, user_name, editor_kind, time_ms, summary, len_old, len_new, minor, is_new, bot)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT DO NOTHING",
            )?,
            uses: conn.prepare_cached(
                "INSERT INTO hashtag_uses (edit_id, tag_key, tag, time_ms, wiki, user_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?,
            tags: conn.prepare_cached(
                "INSERT INTO hashtag_tags (tag_key, tag, first_ms, last_ms, uses) VALUES (?1, ?2, ?3, ?3, 1)
                 ON CONFLICT (tag_key) DO UPDATE SET uses = uses + 1,
                     first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms)
                 RETURNING uses",
            )?,
        })
    }

    /// Stores `e` unless it is stored already (by `meta_id`); returns how
    /// many edits, uses and new tags that added.
    pub(super) fn insert(
        &mut self,
        conn: &Connection,
        e: &HashtagEdit,
    ) -> rusqlite::Result<[i64; 3]> {
        let inserted = self.edit.execute(params![
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
            return Ok([0; 3]);
        }
        let edit_id = conn.last_insert_rowid();
        let (mut uses, mut tags) = (0, 0);
        for tag in &e.tags {
            if self.uses.execute(params![
                edit_id, tag.key, tag.text, e.time_ms, e.wiki, e.user
            ])? == 0
            {
                continue;
            }
            uses += 1;
            let n: i64 = self
                .tags
                .query_row(params![tag.key, tag.text, e.time_ms], |r| r.get(0))?;
            if n == 1 {
                tags += 1;
            }
        }
        Ok([1, uses, tags])
    }
}

fn insert_link(
    tx: &Transaction<'_>,
    l: &LinkChangeRow,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    let (performer, performer_id, performer_bot, groups, registration, edit_count) =
        performer_columns(l.performer.as_ref());
    let inserted = tx
        .prepare_cached(
            "INSERT INTO link_events (meta_id, action, raw, wiki, wiki_domain, page_id, page_title,
                page_namespace, rev_id, performer, performer_id, performer_bot, performer_groups,
                performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                rhost, wrapper_kind, wrapper_host, error, rc_id, provenance, editor_kind, target)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
        )?
        .execute(params![
            l.meta_id,
            l.action.as_str(),
            l.link.raw,
            l.wiki,
            l.wiki_domain,
            l.page_id,
            l.page_title,
            l.page_namespace,
            l.rev_id,
            performer,
            performer_id,
            performer_bot,
            groups,
            registration,
            edit_count,
            l.time_ms,
            l.link.url,
            l.link.scheme,
            l.link.host,
            l.link.domain,
            l.rhost,
            l.link.wrapper.as_ref().map(|w| match w.kind {
                crate::extract::WrapperKind::Proxy => "proxy",
                crate::extract::WrapperKind::Archive => "archive",
            }),
            l.link.wrapper.as_ref().map(|w| w.host.as_str()),
            l.link.error,
            l.rc_id,
            l.provenance.as_str(),
            l.editor_kind.map(|k| k.as_str()),
            l.target,
        ])?;
    if inserted == 0 {
        return Ok(());
    }
    let event_id = tx.last_insert_rowid();
    outcome.link_events += 1;
    counts[LINK_EVENTS] += 1;
    match l.action {
        LinkAction::Added => {
            let params = params![
                l.wiki,
                l.page_id,
                l.link.raw,
                l.page_title,
                l.page_namespace,
                event_id
            ];
            let added = tx
                .prepare_cached(
                    "INSERT INTO page_links (wiki, page_id, raw, page_title, page_namespace, deleted, last_event_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6) ON CONFLICT DO NOTHING",
                )?
                .execute(params)?;
            if added > 0 {
                counts[PAGE_LINKS] += 1;
            } else {
                tx.prepare_cached(
                    "UPDATE page_links SET deleted = 0, last_event_id = ?6, page_title = ?4,
                         page_namespace = ?5
                     WHERE wiki = ?1 AND page_id = ?2 AND raw = ?3",
                )?
                .execute(params)?;
            }
        }
        LinkAction::Removed => {
            let n = tx
                .prepare_cached(
                    "DELETE FROM page_links WHERE wiki = ?1 AND page_id = ?2 AND raw = ?3",
                )?
                .execute(params![l.wiki, l.page_id, l.link.raw])?;
            counts[PAGE_LINKS] -= n as i64;
        }
        LinkAction::PageDeleted | LinkAction::PageRestored => {}
    }
    Ok(())
}

/// Records the page event; returns false when it was stored already.
fn insert_page_event(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    action: LinkAction,
    counts: &mut [i64; 6],
) -> Result<bool, StoreError> {
    let n = tx
        .prepare_cached(
            "INSERT INTO page_events (meta_id, action, wiki, page_id, page_title, page_namespace,
                performer, time_ms, links)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            p.meta_id,
            action.as_str(),
            p.wiki,
            p.page_id,
            p.page_title,
            p.page_namespace,
            p.performer.as_ref().map(|p| p.name.as_str()),
            p.time_ms
        ])?;
    counts[PAGE_EVENTS] += n as i64;
    Ok(n > 0)
}

/// Inserts one link event per present (or deleted) link of the page, copying
/// the link's analysis from the event that last added it.
fn link_events_from_page(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    action: LinkAction,
    deleted_state: i64,
) -> Result<usize, StoreError> {
    let (performer, performer_id, performer_bot, groups, registration, edit_count) =
        performer_columns(p.performer.as_ref());
    let n = tx
        .prepare_cached(
            "INSERT INTO link_events (meta_id, action, raw, wiki, wiki_domain, page_id, page_title,
                page_namespace, rev_id, performer, performer_id, performer_bot, performer_groups,
                performer_registration_ms, performer_edit_count, time_ms, url, scheme, host, domain,
                rhost, wrapper_kind, wrapper_host, error, provenance, editor_kind, target)
             SELECT ?1, ?2, pl.raw, pl.wiki, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                le.url, le.scheme, le.host, le.domain, le.rhost, le.wrapper_kind, le.wrapper_host, le.error,
                CASE WHEN ?8 IS NULL THEN 'system' ELSE 'edit' END, ?17, COALESCE(le.target, le.url)
             FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id
             WHERE pl.wiki = ?15 AND pl.page_id = ?4 AND pl.deleted = ?16
             ORDER BY pl.raw
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            p.meta_id,
            action.as_str(),
            p.wiki_domain,
            p.page_id,
            p.page_title,
            p.page_namespace,
            p.rev_id,
            performer,
            performer_id,
            performer_bot,
            groups,
            registration,
            edit_count,
            p.time_ms,
            p.wiki,
            deleted_state,
            p.performer
                .as_ref()
                .map(|u| crate::extract::editor_kind(&u.name).as_str()),
        ])?;
    Ok(n)
}

fn page_deleted(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    if !insert_page_event(tx, p, LinkAction::PageDeleted, counts)? {
        return Ok(());
    }
    let n = link_events_from_page(tx, p, LinkAction::PageDeleted, 0)?;
    tx.prepare_cached(
        "UPDATE page_links SET deleted = 1 WHERE wiki = ?1 AND page_id = ?2 AND deleted = 0",
    )?
    .execute(params![p.wiki, p.page_id])?;
    finish_page_event(tx, p, n, outcome, counts)
}

fn page_restored(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    if !insert_page_event(tx, p, LinkAction::PageRestored, counts)? {
        return Ok(());
    }
    let by_id: bool = tx
        .prepare_cached(
            "SELECT 1 FROM page_links WHERE wiki = ?1 AND page_id = ?2 AND deleted = 1",
        )?
        .exists(params![p.wiki, p.page_id])?;
    if !by_id {
        // A restored page can come back under a new id; find its links by title.
        tx.prepare_cached(
            "UPDATE OR REPLACE page_links SET page_id = ?3
             WHERE wiki = ?1 AND page_title = ?2 AND deleted = 1",
        )?
        .execute(params![p.wiki, p.page_title, p.page_id])?;
    }
    let n = link_events_from_page(tx, p, LinkAction::PageRestored, 1)?;
    tx.prepare_cached(
        "UPDATE page_links SET deleted = 0 WHERE wiki = ?1 AND page_id = ?2 AND deleted = 1",
    )?
    .execute(params![p.wiki, p.page_id])?;
    finish_page_event(tx, p, n, outcome, counts)
}

fn finish_page_event(
    tx: &Transaction<'_>,
    p: &PageEventRow,
    links: usize,
    outcome: &mut WriteOutcome,
    counts: &mut [i64; 6],
) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE page_events SET links = ?2 WHERE meta_id = ?1")?
        .execute(params![p.meta_id, links as i64])?;
    outcome.link_events += links as u64;
    counts[LINK_EVENTS] += links as i64;
    Ok(())
}

/// The `performer*` columns of a link event: name, id, bot, groups (JSON),
/// registration and edit count, all NULL without a performer.
#[allow(clippy::type_complexity)]
fn performer_columns(
    p: Option<&Performer>,
) -> (
    Option<&str>,
    Option<i64>,
    Option<bool>,
    Option<String>,
    Option<i64>,
    Option<i64>,
) {
    match p {
        Some(u) => (
            Some(u.name.as_str()),
            u.id,
            Some(u.bot),
            Some(serde_json::to_string(&u.groups).unwrap_or_default()),
            u.registration_ms,
            u.edit_count,
        ),
        None => (None, None, None, None, None, None),
    }
}
