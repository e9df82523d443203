//! The decode stage: SSE items in, store batches out.
//!
//! [`Pipeline`] is synchronous and does no I/O: it parses each event, drops
//! canaries and duplicates, counts malformed and oversized ones, normalises the
//! rest, derives the store operations, and tracks the stream position so each
//! batch carries the SSE `id` of the last event it covers (skipped events
//! included, so the position never stalls on them). [`run`] is the stage's
//! task around it: channels in and out, and the timers that cut a batch or
//! release a held event.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc};

use crate::event::{self, Event, LinksChange, PageLifecycle};
use crate::extract::{self, Rules};
use crate::sse::SseItem;
use crate::store::{Batch, HashtagEdit, LinkAction, LinkChangeRow, Op, PageEventRow, Provenance};
use crate::telemetry::Telemetry;

use super::dedupe::RecentIds;
use super::pairing::{PairKey, Pairing};

/// Longest a page-links-change event waits for its recentchange.
pub const HOLD_MAX: Duration = Duration::from_secs(3);
/// …or this many later events, whichever comes first.
pub const HOLD_EVENTS: u64 = 20_000;
/// Recentchange edits remembered for links events that arrive after them.
const RECENT_EDITS: usize = 100_000;

/// Which hashtag edits are kept.
#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    pub rules: Rules,
    pub hashtags_include_bots: bool,
    pub hashtags_include_wikidata: bool,
    pub batch_events: usize,
}

pub struct Pipeline {
    options: PipelineOptions,
    seen: RecentIds,
    batch: Batch,
    batch_started: Option<Instant>,
    /// Events waiting behind a held page-links-change event, in stream order.
    queue: VecDeque<Entry>,
    pairing: Pairing,
    /// Held entries by sequence number, oldest first, with when they were
    /// held; and by pairing key. Both index into `queue`, so pairing,
    /// expiry and the count bound cost O(log n), not a scan of the queue
    /// (which can hold `HOLD_EVENTS` entries).
    held: BTreeMap<u64, Instant>,
    held_by_key: HashMap<PairKey, BTreeSet<u64>>,
    /// Events handled so far.
    seq: u64,
}

/// One event's operations and SSE id, not yet in the batch.
struct Entry {
    seq: u64,
    ops: Vec<Op>,
    id: Option<String>,
    hold: Option<Hold>,
    /// Its operations went into a batch ahead of a held event (see
    /// [`writes_ahead`]); only its position is still to pass.
    written_ahead: bool,
}

/// Whether an event queued behind a held links event may be written before
/// it: hashtag edits touch nothing a links event or a page deletion does, so
/// their order against them does not matter. Writing them ahead lets a
/// process that lives less than the hold time still commit them (an event
/// with nothing to write just waits); the
/// position stays before the held event, so a restart reads them again and
/// the store's idempotent writes ignore them.
fn writes_ahead(ops: &[Op]) -> bool {
    !ops.is_empty() && ops.iter().all(|op| matches!(op, Op::HashtagEdit(_)))
}

/// A page-links-change event waiting for its recentchange.
struct Hold {
    key: PairKey,
    since: Instant,
}

impl Pipeline {
    pub fn new(options: PipelineOptions) -> Self {
        Pipeline {
            options,
            seen: RecentIds::new(500_000),
            batch: Batch::default(),
            batch_started: None,
            queue: VecDeque::new(),
            pairing: Pairing::new(RECENT_EDITS),
            held: BTreeMap::new(),
            held_by_key: HashMap::new(),
            seq: 0,
        }
    }

    /// When the pending batch was started, if there is one.
    pub fn batch_started(&self) -> Option<Instant> {
        self.batch_started
    }

    /// When the oldest held links event must be released unpaired.
    pub fn hold_deadline(&self) -> Option<Instant> {
        self.held.values().next().map(|since| *since + HOLD_MAX)
    }

    pub fn batch_full(&self) -> bool {
        self.batch.events as usize >= self.options.batch_events.max(1)
    }

    /// Takes the pending batch, if it holds anything to write. Held events
    /// stay behind, and the batch's position stops before them.
    pub fn take_batch(&mut self) -> Option<Batch> {
        self.batch_started = None;
        let batch = std::mem::take(&mut self.batch);
        (!batch.is_empty()).then_some(batch)
    }

    /// Releases held links events (as `propagated`) that have waited
    /// [`HOLD_MAX`] by `now`.
    pub fn expire_held(&mut self, now: Instant) {
        while let Some((&seq, &since)) = self.held.iter().next() {
            if now < since + HOLD_MAX {
                break;
            }
            self.release(seq);
        }
        self.drain();
    }

    /// Ends the hold of the queued entry `seq`; returns the entry.
    fn release(&mut self, seq: u64) -> Option<&mut Entry> {
        self.held.remove(&seq);
        let i = self.queue.binary_search_by_key(&seq, |e| e.seq).ok()?;
        let entry = self.queue.get_mut(i)?;
        if let Some(h) = entry.hold.take()
            && let Some(set) = self.held_by_key.get_mut(&h.key)
        {
            set.remove(&seq);
            if set.is_empty() {
                self.held_by_key.remove(&h.key);
            }
        }
        Some(entry)
    }

    /// Releases every held event (as `propagated`): at shutdown, so the final
    /// batch carries everything read.
    pub fn release_all(&mut self) {
        for e in self.queue.iter_mut() {
            e.hold = None;
        }
        self.held.clear();
        self.held_by_key.clear();
        self.drain();
    }

    /// Moves entries that are not held, from the front, into the batch.
    fn drain(&mut self) {
        while self.queue.front().is_some_and(|e| e.hold.is_none()) {
            if let Some(e) = self.queue.pop_front() {
                self.push_entry(e);
            }
        }
    }

    fn push_entry(&mut self, e: Entry) {
        if self.batch_started.is_none() {
            self.batch_started = Some(Instant::now());
        }
        if !e.written_ahead {
            self.batch.events += 1;
        }
        if e.id.is_some() {
            self.batch.position = e.id;
        }
        self.batch.ops.extend(e.ops);
    }

    /// Puts the operations of an event that waits behind a held one into the
    /// batch now, leaving its position to pass in stream order.
    fn write_ahead(&mut self, e: &mut Entry) {
        if self.batch_started.is_none() {
            self.batch_started = Some(Instant::now());
        }
        self.batch.events += 1;
        self.batch.ops.append(&mut e.ops);
        e.written_ahead = true;
    }

    fn enqueue(&mut self, mut e: Entry) {
        if self.queue.is_empty() && e.hold.is_none() {
            self.push_entry(e);
            return;
        }
        if e.hold.is_none() && writes_ahead(&e.ops) {
            self.write_ahead(&mut e);
        }
        if let Some(h) = &e.hold {
            self.held.insert(e.seq, h.since);
            self.held_by_key
                .entry(h.key.clone())
                .or_default()
                .insert(e.seq);
        }
        self.queue.push_back(e);
        // The count bound: deterministic for a given input.
        let seq = self.seq;
        while let Some(&oldest) = self.held.keys().next() {
            if seq - oldest < HOLD_EVENTS {
                break;
            }
            self.release(oldest);
        }
        self.drain();
    }

    /// Handles one item from the SSE parser. Returns the normalised event when
    /// there is one (for live subscribers).
    pub fn handle(&mut self, item: SseItem, telemetry: &Telemetry) -> Option<Event> {
        self.seq += 1;
        let (id, event) = match item {
            SseItem::Retry(_) => return None,
            SseItem::Oversized { id, bytes } => {
                telemetry
                    .oversized
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(
                    id = id.as_deref().unwrap_or(""),
                    bytes,
                    "skipped an oversized event"
                );
                (id, None)
            }
            SseItem::Event(ev) => {
                if ev.event == "error" {
                    tracing::warn!(
                        data = %String::from_utf8_lossy(&ev.data),
                        "upstream sent an error event"
                    );
                    (ev.id, None)
                } else {
                    let event = self.decode(&ev.data, ev.id.as_deref(), telemetry);
                    (ev.id, event)
                }
            }
        };
        let mut entry = Entry {
            seq: self.seq,
            ops: Vec::new(),
            id,
            hold: None,
            written_ahead: false,
        };
        if let Some(event) = &event {
            self.derive_ops(event, telemetry, &mut entry);
        }
        self.enqueue(entry);
        event
    }

    fn decode(&mut self, data: &[u8], id: Option<&str>, telemetry: &Telemetry) -> Option<Event> {
        use std::sync::atomic::Ordering::Relaxed;
        let raw = match event::parse_raw(data) {
            Ok(raw) => raw,
            Err(e) => {
                telemetry.malformed.fetch_add(1, Relaxed);
                tracing::debug!(id = id.unwrap_or(""), error = %e, "skipped a malformed event");
                return None;
            }
        };
        if raw.meta.domain.as_deref() == Some("canary") {
            telemetry.canaries.fetch_add(1, Relaxed);
            return None;
        }
        if let Some(meta_id) = raw.meta.id.as_deref()
            && !self.seen.first_time(meta_id)
        {
            telemetry.duplicates.fetch_add(1, Relaxed);
            return None;
        }
        let event = raw.normalize(&self.options.rules);
        let env = event.envelope();
        telemetry.record_events(env.stream, 1, env.dt_ms);
        Some(event)
    }

    fn derive_ops(&mut self, event: &Event, telemetry: &Telemetry, entry: &mut Entry) {
        match event {
            Event::Recentchange(c) => {
                if let (Some(rev), Some(user)) = (c.rev_new, c.user.as_deref()) {
                    self.pair_recentchange((c.wiki.clone(), rev, user.to_owned()), c.rc_id);
                }
                if c.hashtags_too_long > 0 {
                    telemetry.hashtags_too_long.fetch_add(
                        u64::from(c.hashtags_too_long),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
                if c.hashtags.is_empty()
                    || (c.bot && !self.options.hashtags_include_bots)
                    || (c.wiki == "wikidatawiki" && !self.options.hashtags_include_wikidata)
                {
                    return;
                }
                entry.ops.push(Op::HashtagEdit(Box::new(HashtagEdit {
                    meta_id: c.envelope.meta_id.clone(),
                    wiki: c.wiki.clone(),
                    domain: c.server_name.clone(),
                    rc_id: c.rc_id,
                    rev_old: c.rev_old,
                    rev_new: c.rev_new,
                    title: c.title.clone(),
                    namespace: c.namespace,
                    change_type: c.change_kind.as_str().to_owned(),
                    user: c.user.clone(),
                    editor_kind: c.editor,
                    time_ms: c.envelope.dt_ms,
                    summary: c.summary.clone(),
                    len_old: c.length_old,
                    len_new: c.length_new,
                    minor: c.minor,
                    is_new: c.change_kind == event::ChangeKind::New,
                    bot: c.bot,
                    tags: c.hashtags.clone(),
                })));
            }
            Event::PageLinksChange(l) => {
                // MediaWiki lists a URL once per array; should one repeat, it
                // is one change, as a unique key on (event, action, URL) would say.
                let mut seen = std::collections::HashSet::new();
                for raw in &l.added {
                    if seen.insert((LinkAction::Added, raw.as_str())) {
                        entry.ops.push(self.link_op(l, raw, LinkAction::Added));
                    }
                }
                for raw in &l.removed {
                    if seen.insert((LinkAction::Removed, raw.as_str())) {
                        entry.ops.push(self.link_op(l, raw, LinkAction::Removed));
                    }
                }
                if entry.ops.is_empty() {
                    return;
                }
                // Provenance: no performer → system; a recentchange of the
                // same wiki, revision and user seen → edit; otherwise hold
                // the event briefly for its recentchange.
                let Some(performer) = &l.performer else {
                    set_provenance(&mut entry.ops, Provenance::System, None);
                    return;
                };
                let Some(rev) = l.rev_id else {
                    set_provenance(&mut entry.ops, Provenance::Propagated, None);
                    return;
                };
                let key = (l.wiki.clone(), rev, performer.name.clone());
                if let Some(rc_id) = self.pairing.take(&key) {
                    set_provenance(&mut entry.ops, Provenance::Edit, rc_id);
                } else {
                    set_provenance(&mut entry.ops, Provenance::Propagated, None);
                    entry.hold = Some(Hold {
                        key,
                        since: Instant::now(),
                    });
                }
            }
            Event::PageDelete(p) => entry.ops.push(Op::PageDeleted(Box::new(page_row(p)))),
            Event::PageUndelete(p) => entry.ops.push(Op::PageRestored(Box::new(page_row(p)))),
            Event::Other(_) => {}
        }
    }

    /// A recentchange arrived: pair it with a held links event, or remember
    /// it for one arriving later.
    fn pair_recentchange(&mut self, key: PairKey, rc_id: Option<i64>) {
        let first_held = self
            .held_by_key
            .get(&key)
            .and_then(|seqs| seqs.iter().next().copied());
        if let Some(seq) = first_held {
            if let Some(e) = self.release(seq) {
                set_provenance(&mut e.ops, Provenance::Edit, rc_id);
            }
            self.drain();
            return;
        }
        self.pairing.remember(key, rc_id);
    }

    fn link_op(&self, l: &LinksChange, raw: &str, action: LinkAction) -> Op {
        let link = extract::analyze_link(raw, &self.options.rules.links);
        let rhost = link.host.as_deref().map(extract::reversed_host);
        let target = match &link.wrapper {
            Some(_) => extract::unwrap_url(&link.url, &self.options.rules.links)
                .map(|u| u.target)
                .unwrap_or_else(|| link.url.clone()),
            None => link.url.clone(),
        };
        Op::Link(Box::new(LinkChangeRow {
            meta_id: l.envelope.meta_id.clone(),
            action,
            wiki: l.wiki.clone(),
            wiki_domain: l.envelope.domain.clone(),
            page_id: l.page_id.unwrap_or(-1),
            page_title: l.page_title.clone(),
            page_namespace: l.page_namespace,
            rev_id: l.rev_id,
            performer: l.performer.clone(),
            time_ms: l.envelope.dt_ms,
            link,
            rhost,
            rc_id: None,
            provenance: Provenance::Propagated,
            editor_kind: l.performer.as_ref().map(|p| extract::editor_kind(&p.name)),
            target,
        }))
    }
}

fn set_provenance(ops: &mut [Op], provenance: Provenance, rc_id: Option<i64>) {
    for op in ops {
        if let Op::Link(l) = op {
            l.provenance = provenance;
            l.rc_id = rc_id;
        }
    }
}

fn page_row(p: &PageLifecycle) -> PageEventRow {
    PageEventRow {
        meta_id: p.envelope.meta_id.clone(),
        wiki: p.wiki.clone(),
        wiki_domain: p.envelope.domain.clone(),
        page_id: p.page_id.unwrap_or(-1),
        page_title: p.page_title.clone(),
        page_namespace: p.page_namespace,
        rev_id: p.rev_id,
        performer: p.performer.clone(),
        time_ms: p.envelope.dt_ms,
    }
}

/// The decode stage as a task: feeds each chunk of SSE items through `pipeline`,
/// offers every normalised event to `live` (never waiting), and sends a batch
/// when it is full or `batch_max` after it was started. When `items` closes,
/// everything still held is released and the last batch sent.
pub(super) async fn run(
    mut pipeline: Pipeline,
    batch_max: Duration,
    mut items: mpsc::Receiver<Vec<SseItem>>,
    batches: mpsc::Sender<Batch>,
    telemetry: Arc<Telemetry>,
    live: Option<broadcast::Sender<Arc<Event>>>,
) {
    loop {
        let deadline = [
            pipeline.batch_started().map(|t| t + batch_max),
            pipeline.hold_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(tokio::time::Instant::from_std);
        let received = match deadline {
            Some(d) => tokio::select! {
                r = items.recv() => Some(r),
                _ = tokio::time::sleep_until(d) => None,
            },
            None => Some(items.recv().await),
        };
        match received {
            // The batch's (or a held event's) time is up.
            None => pipeline.expire_held(std::time::Instant::now()),
            // The client has stopped: flush everything, held events too, and finish.
            Some(None) => {
                pipeline.release_all();
                if let Some(b) = pipeline.take_batch() {
                    let _ = batches.send(b).await;
                }
                return;
            }
            Some(Some(chunk)) => {
                for item in chunk {
                    let event = pipeline.handle(item, &telemetry);
                    if let (Some(live), Some(event)) = (&live, event)
                        && live.receiver_count() > 0
                    {
                        let _ = live.send(Arc::new(event));
                    }
                    if pipeline.batch_full()
                        && let Some(b) = pipeline.take_batch()
                        && batches.send(b).await.is_err()
                    {
                        return;
                    }
                }
                continue;
            }
        }
        if let Some(b) = pipeline.take_batch()
            && batches.send(b).await.is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseEvent;

    fn item(id: &str, data: &str) -> SseItem {
        SseItem::Event(SseEvent {
            event: "message".into(),
            data: data.as_bytes().to_vec(),
            id: Some(id.into()),
        })
    }

    #[test]
    fn skipped_events_still_advance_the_position() {
        let t = Telemetry::new();
        let mut p = Pipeline::new(PipelineOptions {
            batch_events: 10,
            ..Default::default()
        });
        p.handle(item("1", "{not json"), &t);
        p.handle(
            item(
                "2",
                r#"{"meta":{"domain":"canary","id":"c","stream":"mediawiki.recentchange"}}"#,
            ),
            &t,
        );
        p.handle(
            SseItem::Oversized {
                id: Some("3".into()),
                bytes: 99,
            },
            &t,
        );
        let batch = p.take_batch().unwrap();
        assert_eq!(batch.position.as_deref(), Some("3"));
        assert_eq!(batch.events, 3);
        assert!(batch.ops.is_empty());
        use std::sync::atomic::Ordering::Relaxed;
        assert_eq!(t.malformed.load(Relaxed), 1);
        assert_eq!(t.canaries.load(Relaxed), 1);
        assert_eq!(t.oversized.load(Relaxed), 1);
    }

    #[test]
    fn duplicates_by_meta_id_are_dropped() {
        let t = Telemetry::new();
        let mut p = Pipeline::new(PipelineOptions::default());
        let ev = r#"{"meta":{"id":"same","stream":"mediawiki.recentchange","domain":"en.wikipedia.org"}}"#;
        assert!(p.handle(item("1", ev), &t).is_some());
        assert!(p.handle(item("2", ev), &t).is_none());
        assert_eq!(t.duplicates.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    fn links_event(id: &str, meta_id: &str, rev: i64, user: Option<&str>) -> SseItem {
        let performer = user
            .map(|u| format!(r#","performer":{{"user_text":"{u}","user_is_bot":false}}"#))
            .unwrap_or_default();
        item(
            id,
            &format!(
                r#"{{"meta":{{"id":"{meta_id}","stream":"mediawiki.page-links-change","domain":"en.wikipedia.org","dt":"2026-01-01T00:00:00Z"}},"database":"enwiki","page_id":1,"page_title":"P","page_namespace":0,"rev_id":{rev}{performer},"added_links":[{{"link":"https://example.org/","external":true}}]}}"#
            ),
        )
    }

    fn rc_event(id: &str, meta_id: &str, rev: i64, user: &str, rc: i64) -> SseItem {
        item(id, &rc_json(meta_id, rev, user, rc, ""))
    }

    fn rc_json(meta_id: &str, rev: i64, user: &str, rc: i64, comment: &str) -> String {
        format!(
            r#"{{"meta":{{"id":"{meta_id}","stream":"mediawiki.recentchange","domain":"en.wikipedia.org","dt":"2026-01-01T00:00:00Z"}},"id":{rc},"type":"edit","namespace":0,"title":"P","user":"{user}","bot":false,"comment":"{comment}","revision":{{"old":1,"new":{rev}}},"wiki":"enwiki","server_name":"en.wikipedia.org"}}"#
        )
    }

    fn provenances(b: &Batch) -> Vec<(String, Option<i64>)> {
        b.ops
            .iter()
            .filter_map(|op| match op {
                Op::Link(l) => Some((l.provenance.as_str().to_owned(), l.rc_id)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn links_events_pair_with_their_recentchange_either_way_round() {
        let t = Telemetry::new();
        let mut p = Pipeline::new(PipelineOptions {
            batch_events: 100,
            ..Default::default()
        });
        // Before its recentchange: held, and the position stays before it.
        p.handle(links_event("1", "a", 10, Some("Ann")), &t);
        p.handle(item("2", "{not json"), &t);
        assert!(p.take_batch().is_none(), "nothing may pass a held event");
        p.handle(rc_event("3", "b", 10, "Ann", 77), &t);
        // After its recentchange: paired at once.
        p.handle(rc_event("4", "c", 11, "Bo", 78), &t);
        p.handle(links_event("5", "d", 11, Some("Bo")), &t);
        // No performer: system; never paired: propagated, released at shutdown.
        p.handle(links_event("6", "e", 12, None), &t);
        p.handle(links_event("7", "f", 13, Some("Cy")), &t);
        let b = p.take_batch().unwrap();
        assert_eq!(b.position.as_deref(), Some("6"));
        assert_eq!(
            provenances(&b),
            vec![
                ("edit".to_owned(), Some(77)),
                ("edit".to_owned(), Some(78)),
                ("system".to_owned(), None)
            ]
        );
        p.release_all();
        let b = p.take_batch().unwrap();
        assert_eq!(b.position.as_deref(), Some("7"));
        assert_eq!(provenances(&b), vec![("propagated".to_owned(), None)]);
    }

    #[test]
    fn held_events_are_released_after_the_hold_time() {
        let t = Telemetry::new();
        let mut p = Pipeline::new(PipelineOptions::default());
        p.handle(links_event("1", "a", 10, Some("Ann")), &t);
        let deadline = p.hold_deadline().unwrap();
        p.expire_held(deadline - Duration::from_millis(1));
        assert!(p.take_batch().is_none());
        p.expire_held(deadline);
        let b = p.take_batch().unwrap();
        assert_eq!(provenances(&b), vec![("propagated".to_owned(), None)]);
    }

    #[test]
    fn hashtag_edits_behind_a_held_links_event_are_written_at_once_and_the_position_waits() {
        let t = Telemetry::new();
        let mut p = Pipeline::new(PipelineOptions {
            batch_events: 100,
            ..Default::default()
        });
        p.handle(item("1", &rc_json("a", 9, "Ann", 70, "plain")), &t);
        p.handle(links_event("2", "b", 10, Some("Bo")), &t);
        p.handle(item("3", &rc_json("c", 11, "Cy", 71, "#wpwp tagged")), &t);
        let b = p.take_batch().unwrap();
        assert_eq!(
            b.position.as_deref(),
            Some("1"),
            "the position stops before the held event"
        );
        assert_eq!(b.events, 2, "the plain edit and the tagged one");
        assert!(
            matches!(b.ops.as_slice(), [Op::HashtagEdit(e)] if e.meta_id == "c"),
            "the tagged edit is written ahead of the held links event"
        );
        p.release_all();
        let b = p.take_batch().unwrap();
        assert_eq!(b.position.as_deref(), Some("3"), "then it passes both");
        assert_eq!(b.events, 1, "the written-ahead edit is not counted twice");
        assert_eq!(provenances(&b), vec![("propagated".to_owned(), None)]);
    }
}
