//! Live statistics for `/api/live/stats` and the live page: edits per minute
//! per wiki, the shares of bots, IPs, temporary and named accounts, and the
//! top pages and editors of the last hour.
//!
//! Counts are kept in one-minute buckets by arrival time at the hub (not the
//! upstream `meta.dt`, which is old while catching up), and only edits and
//! page creations count as edits. Sixty buckets make the hour; a request
//! sums them, which is cheap next to doing work per event.

use std::collections::HashMap;

use serde::Serialize;

use crate::event::{Change, ChangeKind};
use crate::extract::EditorKind;

const MINUTES: usize = 60;

#[derive(Default)]
struct Bucket {
    minute: i64,
    per_wiki: HashMap<String, u64>,
    pages: HashMap<(String, String), u64>,
    editors: HashMap<(String, String), u64>,
    bot: u64,
    ip: u64,
    temp: u64,
    named: u64,
    total: u64,
}

pub struct Stats {
    buckets: Vec<Bucket>,
    started_minute: i64,
}

#[derive(Debug, Serialize)]
pub struct WikiRate {
    pub wiki: String,
    /// Edits in the last complete minute.
    pub last_minute: u64,
    /// Mean edits per minute over the window (or since start, if shorter).
    pub per_minute: f64,
    pub edits: u64,
}

#[derive(Debug, Serialize)]
pub struct Shares {
    pub bot: f64,
    pub ip: f64,
    pub temp: f64,
    pub named: f64,
}

#[derive(Debug, Serialize)]
pub struct TopPage {
    pub wiki: String,
    pub title: String,
    pub edits: u64,
}

#[derive(Debug, Serialize)]
pub struct TopEditor {
    pub wiki: String,
    pub user: String,
    pub edits: u64,
}

#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub window_minutes: f64,
    pub edits: u64,
    pub edits_per_minute: f64,
    pub wikis: Vec<WikiRate>,
    pub shares: Shares,
    pub top_pages: Vec<TopPage>,
    pub top_editors: Vec<TopEditor>,
}

impl Stats {
    pub fn new(now_ms: i64) -> Self {
        Stats {
            buckets: (0..MINUTES).map(|_| Bucket::default()).collect(),
            started_minute: now_ms.div_euclid(60_000),
        }
    }

    pub fn record(&mut self, c: &Change, now_ms: i64) {
        if !matches!(c.change_kind, ChangeKind::Edit | ChangeKind::New) {
            return;
        }
        let minute = now_ms.div_euclid(60_000);
        let b = &mut self.buckets[minute.rem_euclid(MINUTES as i64) as usize];
        if b.minute != minute {
            *b = Bucket {
                minute,
                ..Bucket::default()
            };
        }
        b.total += 1;
        *b.per_wiki.entry(c.wiki.clone()).or_default() += 1;
        *b.pages
            .entry((c.wiki.clone(), c.title.clone()))
            .or_default() += 1;
        if let Some(u) = &c.user {
            *b.editors.entry((c.wiki.clone(), u.clone())).or_default() += 1;
        }
        if c.bot {
            b.bot += 1;
        }
        match c.editor {
            EditorKind::Ip => b.ip += 1,
            EditorKind::Temp => b.temp += 1,
            EditorKind::Named => b.named += 1,
        }
    }

    /// The last hour as of `now_ms`, with `limit` top pages and editors.
    pub fn snapshot(&self, now_ms: i64, limit: usize) -> Snapshot {
        let minute = now_ms.div_euclid(60_000);
        let live =
            |b: &&Bucket| b.total > 0 && b.minute <= minute && minute - b.minute < MINUTES as i64;
        // Minutes covered: the whole hour, or the time since start (at least one).
        let span = ((minute - self.started_minute) as f64
            + (now_ms.rem_euclid(60_000) as f64 / 60_000.0))
            .clamp(1.0 / 60.0, MINUTES as f64);
        let mut per_wiki: HashMap<&str, (u64, u64)> = HashMap::new();
        let mut pages: HashMap<(&str, &str), u64> = HashMap::new();
        let mut editors: HashMap<(&str, &str), u64> = HashMap::new();
        let (mut bot, mut ip, mut temp, mut named, mut total) = (0, 0, 0, 0, 0);
        for b in self.buckets.iter().filter(live) {
            let last_complete = b.minute == minute - 1;
            for (w, n) in &b.per_wiki {
                let e = per_wiki.entry(w).or_default();
                e.0 += n;
                if last_complete {
                    e.1 += n;
                }
            }
            for ((w, t), n) in &b.pages {
                *pages.entry((w, t)).or_default() += n;
            }
            for ((w, u), n) in &b.editors {
                *editors.entry((w, u)).or_default() += n;
            }
            bot += b.bot;
            ip += b.ip;
            temp += b.temp;
            named += b.named;
            total += b.total;
        }
        let share = |n: u64| {
            if total == 0 {
                0.0
            } else {
                n as f64 / total as f64
            }
        };
        let mut wikis: Vec<WikiRate> = per_wiki
            .into_iter()
            .map(|(w, (edits, last))| WikiRate {
                wiki: w.to_owned(),
                last_minute: last,
                per_minute: edits as f64 / span,
                edits,
            })
            .collect();
        wikis.sort_by(|a, b| b.edits.cmp(&a.edits).then_with(|| a.wiki.cmp(&b.wiki)));
        let top_pages = top_by_count(pages, limit, |(w, t), n| TopPage {
            wiki: w.to_owned(),
            title: t.to_owned(),
            edits: n,
        });
        let top_editors = top_by_count(editors, limit, |(w, u), n| TopEditor {
            wiki: w.to_owned(),
            user: u.to_owned(),
            edits: n,
        });
        Snapshot {
            window_minutes: span,
            edits: total,
            edits_per_minute: total as f64 / span,
            wikis,
            shares: Shares {
                bot: share(bot),
                ip: share(ip),
                temp: share(temp),
                named: share(named),
            },
            top_pages,
            top_editors,
        }
    }
}

/// The `limit` keys with the highest counts (ties by key), as rows.
fn top_by_count<K: Ord, T>(
    counts: HashMap<K, u64>,
    limit: usize,
    row: impl Fn(K, u64) -> T,
) -> Vec<T> {
    let mut ranked: Vec<(K, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(limit);
    ranked.into_iter().map(|(k, n)| row(k, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(wiki: &str, title: &str, user: &str, bot: bool) -> Change {
        let json = serde_json::json!({
            "meta": {"id": "x", "dt": "2024-01-01T00:00:00Z", "domain": "en.wikipedia.org", "stream": "mediawiki.recentchange"},
            "type": "edit", "namespace": 0, "title": title, "user": user, "bot": bot,
            "wiki": wiki, "server_name": "en.wikipedia.org"
        })
        .to_string();
        match crate::event::parse(json.as_bytes(), &crate::extract::Rules::default()).unwrap() {
            crate::event::Event::Recentchange(c) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn counts_shares_and_tops_over_the_hour() {
        let t0 = 1_700_000_000_000;
        let mut s = Stats::new(t0);
        s.record(&change("enwiki", "A", "1.2.3.4", false), t0);
        s.record(&change("enwiki", "A", "~2025-1-1", false), t0 + 120_000);
        s.record(&change("dewiki", "B", "SomeBot", true), t0 + 120_000);
        s.record(&change("enwiki", "C", "Alice", false), t0 + 61 * 60_000);
        let snap = s.snapshot(t0 + 61 * 60_000 + 1, 10);
        // The first minute fell out of the hour.
        assert_eq!(snap.edits, 3);
        assert_eq!(snap.wikis[0].wiki, "enwiki");
        assert_eq!(snap.wikis[0].edits, 2);
        assert!((snap.shares.bot - 1.0 / 3.0).abs() < 1e-9);
        assert!((snap.shares.temp - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(snap.shares.ip, 0.0);
        assert_eq!(snap.top_pages.len(), 3);
        assert_eq!(snap.top_editors.len(), 3);
    }
}
