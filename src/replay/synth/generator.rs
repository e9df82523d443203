//! Deterministic synthetic EventStreams events for benchmarks, load tests and
//! the demo's live feed.
//!
//! Event *i* is a pure function of the seed and *i*, so any range can be
//! generated in any order (the replay server seeks into an endless feed by
//! binary search on time). The JSON has the exact shape of today's events
//! (see `fixtures/real/`): `$schema`, `meta{uri,request_id,id,dt,domain,
//! stream,topic,partition,offset}`, then the stream's own fields.
//!
//! The mix is modelled on the real streams (../shared/reference/eventstreams.md
//! §7, link-stream.md, hashtags-tool.md) and on the recordings:
//! - streams: 70% recentchange, 28% page-links-change, 2% page-delete, in a
//!   seed-shuffled pattern repeated every 100 events (so per-stream offsets are
//!   exact and O(1));
//! - wikis weighted like production traffic: Wikidata ~30%, Commons ~15%,
//!   English Wikipedia ~15%, then other languages and projects in Latin,
//!   Cyrillic, Arabic, Persian, Devanagari, Thai, CJK and Hangul scripts;
//! - recentchange types: 70% edit, 8% new, 7% log, 15% categorize; 15% bot
//!   edits; editors 8% IP (v4 and v6), 5% temporary accounts, the rest named;
//! - summaries: 30% with a `/* section */` autocomment, Wikidata machine
//!   comments, ~3% with campaign hashtags (#1Lib1Ref, #WPWP, Devanagari and
//!   Thai tags, QuickStatements batches), ~1% with @mentions;
//! - page-links-change: ~45% carry only internal links; the rest add 1–3
//!   external links (DOIs, JSTOR, library-proxied JSTOR, Wayback Machine
//!   wrappers, blogspot, IDN, protocol-relative, mailto, ftp) and 20% remove
//!   one; 3% have no performer;
//! - about 1 event in 200,000 is a page-links-change of 1–2 MB (a template
//!   adding thousands of links), as happens in reality.

use std::ops::Range;

use super::random::{Rng, splitmix};
use super::streams;

/// 2026-01-01T00:00:00Z: where synthetic recordings start by default.
pub const SYNTH_START_MS: i64 = 1_767_225_600_000;

/// One generated event.
#[derive(Debug, Clone)]
pub struct SynthEvent {
    /// Canonical stream name (`mediawiki.recentchange`).
    pub stream: &'static str,
    /// `meta.dt` in epoch ms.
    pub dt_ms: i64,
    /// `eqiad.<stream>`.
    pub topic: String,
    /// Per-stream Kafka offset (`meta.offset`), 0-based and increasing.
    pub offset: u64,
    /// Compact JSON, one line.
    pub json: String,
}

const BLOCK: u64 = 100;
const SHARE_RC: usize = 70;
const SHARE_LINKS: usize = 28;
pub(super) const STREAMS: [&str; 3] = [
    "mediawiki.recentchange",
    "mediawiki.page-links-change",
    "mediawiki.page-delete",
];

/// The generator: seed, start time and rate.
#[derive(Debug, Clone)]
pub struct Synth {
    seed: u64,
    start_ms: i64,
    rate: f64,
    /// Stream kind (index into `STREAMS`) of each position in a block.
    pattern: [u8; BLOCK as usize],
    /// Rank of each position among the block's positions of its kind.
    rank: [u8; BLOCK as usize],
    per_block: [u64; 3],
}

impl Synth {
    /// `rate` is events per second of stream time: event *i* has
    /// `meta.dt = start_ms + i·1000/rate` (never decreasing).
    pub fn new(seed: u64, start_ms: i64, rate: f64) -> Synth {
        let mut pattern = [0u8; BLOCK as usize];
        for (k, p) in pattern.iter_mut().enumerate() {
            *p = if k < SHARE_RC {
                0
            } else if k < SHARE_RC + SHARE_LINKS {
                1
            } else {
                2
            };
        }
        // Fisher–Yates with the seed, so the interleaving looks natural.
        let mut rng = Rng(splitmix(seed ^ 0x5EED));
        for k in (1..pattern.len()).rev() {
            let j = rng.below(k as u64 + 1) as usize;
            pattern.swap(k, j);
        }
        let mut rank = [0u8; BLOCK as usize];
        let mut seen = [0u8; 3];
        for k in 0..pattern.len() {
            let s = pattern[k] as usize;
            rank[k] = seen[s];
            seen[s] += 1;
        }
        Synth {
            seed,
            start_ms,
            rate: if rate > 0.0 { rate } else { 1000.0 },
            pattern,
            rank,
            per_block: [u64::from(seen[0]), u64::from(seen[1]), u64::from(seen[2])],
        }
    }

    pub fn iter(&self, range: Range<u64>) -> impl Iterator<Item = SynthEvent> + '_ {
        range.map(move |i| self.event(i))
    }

    /// Event number `i`.
    pub fn event(&self, i: u64) -> SynthEvent {
        let pos = (i % BLOCK) as usize;
        let kind = self.pattern[pos] as usize;
        let offset = (i / BLOCK) * self.per_block[kind] + u64::from(self.rank[pos]);
        let dt_ms = self.start_ms + (i as f64 * 1000.0 / self.rate) as i64;
        let mut rng = Rng(splitmix(self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ i));
        let stream = STREAMS[kind];
        let json = match kind {
            0 => streams::recentchange(&mut rng, dt_ms, offset),
            1 if splitmix(i ^ self.seed).is_multiple_of(56_000) => {
                streams::links_change(&mut rng, dt_ms, offset, true)
            }
            1 => streams::links_change(&mut rng, dt_ms, offset, false),
            _ => streams::page_delete(&mut rng, dt_ms, offset),
        };
        SynthEvent {
            stream,
            dt_ms,
            topic: format!("eqiad.{stream}"),
            offset,
            json,
        }
    }

    /// The first event at or after `ts` (their times never decrease).
    pub fn first_at_or_after(&self, ts: i64) -> u64 {
        if ts == i64::MIN || self.event(0).dt_ms >= ts {
            return 0;
        }
        let (mut lo, mut hi) = (0u64, 1u64);
        while self.event(hi).dt_ms < ts {
            lo = hi;
            hi = hi.saturating_mul(2);
            if hi >= 1 << 50 {
                return hi;
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.event(mid).dt_ms < ts {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_huge_events_exist_and_are_valid() {
        let s = Synth::new(1, 0, 1000.0);
        let huge = (0..2_000_000u64)
            .filter(|i| {
                s.pattern[(i % BLOCK) as usize] == 1 && splitmix(i ^ s.seed).is_multiple_of(56_000)
            })
            .take(1)
            .collect::<Vec<_>>();
        let i = *huge.first().expect("a huge event within 2M events");
        let ev = s.event(i);
        assert!(ev.json.len() > 1_000_000, "{} bytes", ev.json.len());
        assert!(serde_json::from_str::<serde_json::Value>(&ev.json).is_ok());
    }
}
