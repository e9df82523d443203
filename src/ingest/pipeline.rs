//! The decode stage: SSE items in, store batches out.
//!
//! [`Pipeline`] is synchronous and does no I/O: it parses each event, drops
//! canaries and duplicates, counts malformed and oversized ones, normalises the
//! rest, derives the store operations, and tracks the stream position so each
//! batch carries the SSE `id` of the last event it covers (skipped events
//! included, so the position never stalls on them).

use std::time::Instant;

use crate::event::{self, Event, LinksChange, PageLifecycle};
use crate::extract::{self, Rules};
use crate::sse::SseItem;
use crate::store::{Batch, HashtagEdit, LinkAction, LinkChangeRow, Op, PageEventRow};
use crate::telemetry::Telemetry;

use super::dedupe::RecentIds;

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
}

impl Pipeline {
    pub fn new(options: PipelineOptions) -> Self {
        Pipeline {
            options,
            seen: RecentIds::new(500_000),
            batch: Batch::default(),
            batch_started: None,
        }
    }

    /// When the pending batch was started, if there is one.
    pub fn batch_started(&self) -> Option<Instant> {
        self.batch_started
    }

    pub fn batch_full(&self) -> bool {
        self.batch.events as usize >= self.options.batch_events.max(1)
    }

    /// Takes the pending batch, if it holds anything to write.
    pub fn take_batch(&mut self) -> Option<Batch> {
        self.batch_started = None;
        let batch = std::mem::take(&mut self.batch);
        (!batch.is_empty()).then_some(batch)
    }

    fn advance(&mut self, id: Option<String>) {
        if self.batch_started.is_none() {
            self.batch_started = Some(Instant::now());
        }
        self.batch.events += 1;
        if id.is_some() {
            self.batch.position = id;
        }
    }

    /// Handles one item from the SSE parser. Returns the normalised event when
    /// there is one (for live subscribers).
    pub fn handle(&mut self, item: SseItem, telemetry: &Telemetry) -> Option<Event> {
        match item {
            SseItem::Retry(_) => None,
            SseItem::Oversized { id, bytes } => {
                telemetry
                    .oversized
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(
                    id = id.as_deref().unwrap_or(""),
                    bytes,
                    "skipped an oversized event"
                );
                self.advance(id);
                None
            }
            SseItem::Event(ev) => {
                self.advance(ev.id.clone());
                if ev.event == "error" {
                    tracing::warn!(
                        data = %String::from_utf8_lossy(&ev.data),
                        "upstream sent an error event"
                    );
                    return None;
                }
                self.decode(&ev.data, ev.id.as_deref(), telemetry)
            }
        }
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
        self.derive_ops(&event, telemetry);
        Some(event)
    }

    fn derive_ops(&mut self, event: &Event, telemetry: &Telemetry) {
        match event {
            Event::Recentchange(c) => {
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
                self.batch.ops.push(Op::HashtagEdit(Box::new(HashtagEdit {
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
                        self.push_link(l, raw, LinkAction::Added);
                    }
                }
                for raw in &l.removed {
                    if seen.insert((LinkAction::Removed, raw.as_str())) {
                        self.push_link(l, raw, LinkAction::Removed);
                    }
                }
            }
            Event::PageDelete(p) => self.batch.ops.push(Op::PageDeleted(Box::new(page_row(p)))),
            Event::PageUndelete(p) => self.batch.ops.push(Op::PageRestored(Box::new(page_row(p)))),
            Event::Other(_) => {}
        }
    }

    fn push_link(&mut self, l: &LinksChange, raw: &str, action: LinkAction) {
        let link = extract::analyze_link(raw, &self.options.rules.links);
        let rhost = link.host.as_deref().map(extract::reversed_host);
        self.batch.ops.push(Op::Link(Box::new(LinkChangeRow {
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
        })));
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
}
