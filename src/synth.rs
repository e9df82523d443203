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

use std::fmt::Write as _;
use std::ops::Range;

use clap::{Args, ValueEnum};

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
const STREAMS: [&str; 3] = [
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

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A small deterministic random source for one event.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix(self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    /// True with probability `percent`/100 (fractions allowed).
    fn chance(&mut self, percent: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Script {
    Latin,
    Cyrillic,
    Arabic,
    Persian,
    Devanagari,
    Thai,
    Cjk,
    Hangul,
}

struct Wiki {
    domain: &'static str,
    db: &'static str,
    script: Script,
}

const fn w(domain: &'static str, db: &'static str, script: Script) -> Wiki {
    Wiki { domain, db, script }
}

const WIKIS: &[(Wiki, u32)] = &[
    (w("www.wikidata.org", "wikidatawiki", Script::Latin), 300),
    (
        w("commons.wikimedia.org", "commonswiki", Script::Latin),
        150,
    ),
    (w("en.wikipedia.org", "enwiki", Script::Latin), 150),
    (w("de.wikipedia.org", "dewiki", Script::Latin), 40),
    (w("fr.wikipedia.org", "frwiki", Script::Latin), 40),
    (w("es.wikipedia.org", "eswiki", Script::Latin), 30),
    (w("ja.wikipedia.org", "jawiki", Script::Cjk), 25),
    (w("ru.wikipedia.org", "ruwiki", Script::Cyrillic), 25),
    (w("zh.wikipedia.org", "zhwiki", Script::Cjk), 20),
    (w("it.wikipedia.org", "itwiki", Script::Latin), 20),
    (w("pt.wikipedia.org", "ptwiki", Script::Latin), 15),
    (w("ar.wikipedia.org", "arwiki", Script::Arabic), 15),
    (w("fa.wikipedia.org", "fawiki", Script::Persian), 12),
    (w("uk.wikipedia.org", "ukwiki", Script::Cyrillic), 12),
    (w("hi.wikipedia.org", "hiwiki", Script::Devanagari), 8),
    (w("th.wikipedia.org", "thwiki", Script::Thai), 6),
    (w("ko.wikipedia.org", "kowiki", Script::Hangul), 8),
    (w("en.wiktionary.org", "enwiktionary", Script::Latin), 20),
    (w("fr.wiktionary.org", "frwiktionary", Script::Latin), 10),
    (w("mg.wiktionary.org", "mgwiktionary", Script::Latin), 4),
    (w("de.wikisource.org", "dewikisource", Script::Latin), 5),
    (w("fr.wikisource.org", "frwikisource", Script::Latin), 5),
    (w("meta.wikimedia.org", "metawiki", Script::Latin), 5),
    (w("en.wikivoyage.org", "enwikivoyage", Script::Latin), 3),
];

fn words(script: Script) -> &'static [&'static str] {
    match script {
        Script::Latin => &[
            "added",
            "citation",
            "fixed",
            "typo",
            "source",
            "update",
            "references",
            "infobox",
            "cleanup",
            "expanded",
            "section",
            "copyedit",
            "link",
            "image",
            "category",
            "revert",
            "vandalism",
            "per",
            "talk",
            "wikify",
        ],
        Script::Cyrillic => &[
            "дополнение",
            "источник",
            "оформление",
            "исправление",
            "ссылка",
            "категория",
            "викификация",
            "откат",
        ],
        Script::Arabic => &["إضافة", "مصدر", "تدقيق", "تصنيف", "تحديث", "وصلة"],
        Script::Persian => &["افزودن", "منبع", "ویرایش", "ردهٔ", "پیوند", "به‌روزرسانی"],
        Script::Devanagari => &["जोड़ा", "स्रोत", "सुधार", "श्रेणी", "कड़ी", "सम्पादन"],
        Script::Thai => &["เพิ่ม", "แหล่งที่มา", "แก้ไข", "หมวดหมู่", "ปรับปรุง"],
        Script::Cjk => &[
            "出典",
            "追加",
            "修正",
            "カテゴリ",
            "更新",
            "参考文献",
            "链接",
            "整理",
        ],
        Script::Hangul => &["출처", "추가", "수정", "분류", "정리", "링크"],
    }
}

const TAGS: &[(&str, u32)] = &[
    ("#1Lib1Ref", 30),
    ("#1lib1ref", 10),
    ("#WPWP", 25),
    ("#wikiloveswomen", 8),
    ("#WLM2026", 5),
    ("#AfricaGap", 4),
    ("#हिन्दी_विकि", 3),
    ("#วิกิพีเดีย", 2),
    ("#SheSaid", 4),
    ("#editathon_2026", 4),
    ("#猫", 1),
];

const FIRST: &[&str] = &[
    "Maria", "Ahmed", "Olga", "Kenji", "Priya", "Lucas", "Fatima", "Chen", "Anna", "Somchai",
    "Yuki", "Jean", "Amara", "Sven", "Lena", "Rafael",
];
const LAST: &[&str] = &[
    "Editor", "Wiki", "Smith", "Nguyen", "Müller", "Kowalski", "Haddad", "Tanaka", "Silva",
    "Ivanova", "Rossi",
];
const BOTS: &[&str] = &[
    "InternetArchiveBot",
    "Cewbot",
    "KrBot",
    "SuccuBot",
    "Dexbot",
    "JJMC89 bot",
    "Citation bot",
    "AnomieBOT",
];
const TITLES: &[&str] = &[
    "History of science",
    "Mount Kilimanjaro",
    "Ada Lovelace",
    "Bangkok",
    "Nairobi",
    "Photosynthesis",
    "Tōkyō",
    "São Paulo",
    "Москва",
    "القاهرة",
    "तेहरान",
    "กรุงเทพมหานคร",
    "東京都",
    "서울특별시",
    "List of rivers of Europe",
    "Quantum mechanics",
];
const NAMESPACES: &[(i64, u32)] = &[
    (0, 60),
    (1, 5),
    (2, 8),
    (3, 5),
    (4, 3),
    (6, 8),
    (10, 3),
    (14, 8),
];

const NS_PREFIX: &[(i64, &str)] = &[
    (1, "Talk:"),
    (2, "User:"),
    (3, "User talk:"),
    (4, "Project:"),
    (6, "File:"),
    (10, "Template:"),
    (14, "Category:"),
];

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next();
    let b = rng.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn title_for(rng: &mut Rng, ns: i64, wiki: &Wiki) -> String {
    let base = if wiki.db == "wikidatawiki" && ns == 0 {
        format!("Q{}", 1 + rng.below(130_000_000))
    } else {
        format!("{} {}", rng.pick(TITLES), rng.below(400))
    };
    match NS_PREFIX.iter().find(|(n, _)| *n == ns) {
        Some((_, prefix)) if ns == 6 => format!("{prefix}{base}.jpg"),
        Some((_, prefix)) => format!("{prefix}{base}"),
        None => base,
    }
}

/// (user name, is bot)
fn user(rng: &mut Rng, dt_ms: i64, bot_percent: f64) -> (String, bool) {
    if rng.chance(bot_percent) {
        return ((*rng.pick(BOTS)).to_owned(), true);
    }
    let r = rng.below(100);
    if r < 6 {
        let name = format!(
            "{}.{}.{}.{}",
            1 + rng.below(223),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        );
        (name, false)
    } else if r < 8 {
        (
            format!(
                "2001:db8:{:x}:{:x}::{:x}",
                rng.below(0xffff),
                rng.below(0xffff),
                1 + rng.below(0xfffe)
            ),
            false,
        )
    } else if r < 13 {
        let year = 1970 + dt_ms / 31_556_952_000;
        (
            format!("~{year}-{:05}-{:02}", rng.below(100_000), rng.below(100)),
            false,
        )
    } else {
        (
            format!("{}{}{}", rng.pick(FIRST), rng.pick(LAST), rng.below(500)),
            false,
        )
    }
}

fn summary(rng: &mut Rng, wiki: &Wiki) -> String {
    let mut s = String::new();
    if wiki.db == "wikidatawiki" {
        let kind = rng.pick(&[
            "wbsetclaim-create:2||1",
            "wbsetlabel-add:1|en",
            "wbsetdescription-add:1|fr",
            "wbcreateclaim-create:1|",
            "wbsetreference-add:2|",
            "wbeditentity-update:0|",
        ]);
        let _ = write!(
            s,
            "/* {kind} */ [[Property:P{}]]: [[Q{}]]",
            1 + rng.below(9000),
            1 + rng.below(1_000_000)
        );
        if rng.chance(15.0) {
            let batch = rng.below(250_000);
            let _ = write!(
                s,
                ", #quickstatements; [[:toollabs:quickstatements/#/batch/{batch}|batch #{batch}]]"
            );
        }
        return s;
    }
    if rng.chance(30.0) {
        let _ = write!(s, "/* {} */ ", rng.pick(TITLES));
    }
    let vocab = words(wiki.script);
    let n = 1 + rng.below(6);
    for k in 0..n {
        if k > 0 && !matches!(wiki.script, Script::Cjk | Script::Thai) {
            s.push(' ');
        }
        s.push_str(rng.pick::<&str>(vocab));
    }
    if rng.chance(3.0) {
        s.push(' ');
        s.push_str(rng.weighted::<&str>(TAGS));
        if rng.chance(30.0) {
            s.push(' ');
            s.push_str(rng.weighted::<&str>(TAGS));
        }
    }
    if rng.chance(1.0) {
        let _ = write!(s, " thanks @{}{}", rng.pick(FIRST), rng.pick(LAST));
    }
    s
}

fn external_link(rng: &mut Rng) -> String {
    let n = rng.below(1_000_000);
    match rng.below(14) {
        0 | 1 => format!("https://doi.org/10.{}/{}", 1000 + rng.below(9000), n),
        2 => format!("https://www.jstor.org/stable/{n}"),
        3 => format!("https://www-jstor-org.wikipedialibrary.idm.oclc.org/stable/{n}"),
        4 => format!(
            "https://web.archive.org/web/20{:02}0101000000/https://www.example-news.com/story/{n}",
            10 + rng.below(16)
        ),
        5 => format!("http://archive.ph/2024.01.01-000000/https://www.bbc.co.uk/news/{n}"),
        6 => format!(
            "https://someone{}.blogspot.com/2019/05/post.html",
            rng.below(500)
        ),
        7 => format!("https://bücher.de/buch/{n}"),
        8 => format!("//www.bbc.co.uk/news/world-{n}"),
        9 => format!("mailto:editor{}@example.org", rng.below(100)),
        10 => format!("ftp://ftp.example.org/pub/file{n}.txt"),
        11 => format!("https://www.nytimes.com/2024/01/01/world/story-{n}.html?utm_source=x%20y"),
        12 => format!("https://books.google.com/books?id=AbC{n}&pg=PA12"),
        _ => format!("https://www.example{}.org/path/{n}", rng.below(2000)),
    }
}

fn write_meta(
    out: &mut String,
    rng: &mut Rng,
    uri: &str,
    dt: &str,
    domain: &str,
    stream: &str,
    offset: u64,
) {
    out.push_str(r#""meta":{"uri":"#);
    push_json_str(out, uri);
    let _ = write!(
        out,
        r#","request_id":"{}","id":"{}","dt":"{dt}","domain":"{domain}","stream":"{stream}","topic":"eqiad.{stream}","partition":0,"offset":{offset}}}"#,
        uuid(rng),
        uuid(rng)
    );
}

fn write_performer(out: &mut String, rng: &mut Rng, dt_ms: i64) {
    let (name, bot) = user(rng, dt_ms, 10.0);
    out.push_str(r#""performer":{"user_text":"#);
    push_json_str(out, &name);
    let registered = name.parse::<std::net::IpAddr>().is_err() && !name.starts_with('~');
    if registered {
        let reg_ms = dt_ms - (rng.below(5_000) as i64) * 86_400_000 - rng.below(86_400_000) as i64;
        let _ = write!(
            out,
            r#","user_groups":["*","user","autoconfirmed"{}],"user_is_bot":{bot},"user_id":{},"user_registration_dt":"{}","user_edit_count":{}}}"#,
            if bot { r#","bot""# } else { "" },
            1 + rng.below(50_000_000),
            crate::event::format_ms(reg_ms).replace(".000Z", "Z"),
            rng.below(200_000)
        );
    } else {
        out.push_str(r#","user_groups":["*"],"user_is_bot":false,"user_edit_count":0}"#);
    }
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
            0 => self.recentchange(&mut rng, dt_ms, offset),
            1 if splitmix(i ^ self.seed).is_multiple_of(56_000) => {
                self.links_change(&mut rng, dt_ms, offset, true)
            }
            1 => self.links_change(&mut rng, dt_ms, offset, false),
            _ => self.page_delete(&mut rng, dt_ms, offset),
        };
        SynthEvent {
            stream,
            dt_ms,
            topic: format!("eqiad.{stream}"),
            offset,
            json,
        }
    }

    fn recentchange(&self, rng: &mut Rng, dt_ms: i64, offset: u64) -> String {
        let wiki = rng.weighted(WIKIS);
        let kind = *rng.weighted(&[("edit", 70u32), ("new", 8), ("log", 7), ("categorize", 15)]);
        let ns = if kind == "categorize" {
            14
        } else if wiki.db == "commonswiki" && rng.chance(60.0) {
            6
        } else {
            *rng.weighted(NAMESPACES)
        };
        let title = title_for(rng, ns, wiki);
        let (user, bot) = user(rng, dt_ms, 15.0);
        let comment = if kind == "categorize" {
            format!("[[:{}]] added to category", rng.pick(TITLES))
        } else {
            summary(rng, wiki)
        };
        let dt = crate::event::format_ms(dt_ms);
        let url_title = title.replace(' ', "_");
        let mut out = String::with_capacity(1200);
        out.push_str(r#"{"$schema":"/mediawiki/recentchange/1.0.0","#);
        write_meta(
            &mut out,
            rng,
            &format!("https://{}/wiki/{url_title}", wiki.domain),
            &dt,
            wiki.domain,
            "mediawiki.recentchange",
            offset,
        );
        let _ = write!(
            out,
            r#","id":{},"type":"{kind}","namespace":{ns},"title":"#,
            1 + rng.below(3_000_000_000)
        );
        push_json_str(&mut out, &title);
        out.push_str(r#","title_url":"#);
        push_json_str(
            &mut out,
            &format!("https://{}/wiki/{url_title}", wiki.domain),
        );
        out.push_str(r#","comment":"#);
        push_json_str(&mut out, &comment);
        let _ = write!(out, r#","timestamp":{},"user":"#, dt_ms / 1000);
        push_json_str(&mut out, &user);
        let _ = write!(out, r#","bot":{bot}"#);
        match kind {
            "edit" | "new" => {
                let new_rev = 1 + rng.below(2_000_000_000);
                let old_rev = new_rev.saturating_sub(1 + rng.below(1_000_000));
                let new_len = rng.below(200_000);
                let old_len = (new_len as i64 + rng.below(2_000) as i64 - 1_000).max(0);
                if kind == "new" {
                    let _ = write!(
                        out,
                        r#","notify_url":"https://{}/w/index.php?oldid={new_rev}","minor":false,"patrolled":false,"length":{{"new":{new_len}}},"revision":{{"new":{new_rev}}}"#,
                        wiki.domain
                    );
                } else {
                    let _ = write!(
                        out,
                        r#","notify_url":"https://{}/w/index.php?diff={new_rev}&oldid={old_rev}","minor":{},"patrolled":{},"length":{{"old":{old_len},"new":{new_len}}},"revision":{{"old":{old_rev},"new":{new_rev}}}"#,
                        wiki.domain,
                        rng.chance(20.0),
                        rng.chance(50.0)
                    );
                }
            }
            "log" => {
                let (log_type, action) = *rng.pick(&[
                    ("newusers", "create"),
                    ("upload", "upload"),
                    ("delete", "delete"),
                    ("move", "move"),
                    ("patrol", "patrol"),
                    ("thanks", "thank"),
                    ("abusefilter", "hit"),
                ]);
                let _ = write!(
                    out,
                    r#","log_id":{},"log_type":"{log_type}","log_action":"{action}","log_params":[],"log_action_comment":"#,
                    1 + rng.below(200_000_000)
                );
                push_json_str(&mut out, &format!("{action} {title}"));
            }
            _ => {}
        }
        let _ = write!(
            out,
            r#","server_url":"https://{d}","server_name":"{d}","server_script_path":"/w","wiki":"{}","parsedcomment":"#,
            wiki.db,
            d = wiki.domain
        );
        push_json_str(&mut out, &comment);
        out.push('}');
        out
    }

    fn page_target(rng: &mut Rng) -> (&'static Wiki, i64, i64, String) {
        let wiki = rng.weighted(WIKIS);
        let ns = *rng.weighted(NAMESPACES);
        // A small id space per wiki so deletions hit pages with known links.
        let page_id = 1 + rng.below(20_000) as i64;
        let title = format!("{} {}", TITLES[(page_id as usize) % TITLES.len()], page_id);
        (wiki, ns, page_id, title)
    }

    fn links_change(&self, rng: &mut Rng, dt_ms: i64, offset: u64, huge: bool) -> String {
        let (wiki, ns, page_id, title) = Self::page_target(rng);
        let dt = crate::event::format_ms(dt_ms);
        let mut out = String::with_capacity(if huge { 2 << 20 } else { 1500 });
        out.push_str(r#"{"$schema":"/mediawiki/page/links-change/1.0.0","#);
        write_meta(
            &mut out,
            rng,
            &format!("https://{}/wiki/{}", wiki.domain, title.replace(' ', "_")),
            &dt,
            wiki.domain,
            "mediawiki.page-links-change",
            offset,
        );
        let _ = write!(
            out,
            r#","database":"{}","page_id":{page_id},"page_title":"#,
            wiki.db
        );
        push_json_str(&mut out, &title.replace(' ', "_"));
        let _ = write!(
            out,
            r#","page_namespace":{ns},"page_is_redirect":false,"rev_id":{}"#,
            1 + rng.below(2_000_000_000)
        );
        if !rng.chance(3.0) {
            out.push(',');
            write_performer(&mut out, rng, dt_ms);
        }
        let internal = format!("/wiki/{}", rng.pick(TITLES).replace(' ', "_"));
        out.push_str(r#","added_links":["#);
        let _ = write!(out, r#"{{"link":"#);
        push_json_str(&mut out, &internal);
        out.push_str(r#","external":false}"#);
        let externals = if huge {
            15_000 + rng.below(10_000)
        } else if rng.chance(45.0) {
            0
        } else {
            1 + rng.below(3)
        };
        for _ in 0..externals {
            out.push_str(r#",{"link":"#);
            push_json_str(&mut out, &external_link(rng));
            out.push_str(r#","external":true}"#);
        }
        out.push(']');
        if externals > 0 && rng.chance(20.0) {
            out.push_str(r#","removed_links":[{"link":"#);
            push_json_str(&mut out, &external_link(rng));
            out.push_str(r#","external":true}]"#);
        }
        out.push('}');
        out
    }

    fn page_delete(&self, rng: &mut Rng, dt_ms: i64, offset: u64) -> String {
        let (wiki, ns, page_id, title) = Self::page_target(rng);
        let dt = crate::event::format_ms(dt_ms);
        let mut out = String::with_capacity(1200);
        out.push_str(r#"{"$schema":"/mediawiki/page/delete/1.0.0","#);
        write_meta(
            &mut out,
            rng,
            &format!("https://{}/wiki/{}", wiki.domain, title.replace(' ', "_")),
            &dt,
            wiki.domain,
            "mediawiki.page-delete",
            offset,
        );
        let _ = write!(out, r#","database":"{}","#, wiki.db);
        write_performer(&mut out, rng, dt_ms);
        let _ = write!(out, r#","page_id":{page_id},"page_title":"#);
        push_json_str(&mut out, &title.replace(' ', "_"));
        let _ = write!(
            out,
            r#","page_namespace":{ns},"page_is_redirect":false,"rev_id":{},"rev_count":{},"comment":"#,
            1 + rng.below(2_000_000_000),
            1 + rng.below(50)
        );
        let reason = *rng.pick::<&str>(&[
            "Spam",
            "[[WP:CSD#G11|G11]]: Unambiguous advertising",
            "Copyright violation",
            "Test page",
        ]);
        push_json_str(&mut out, reason);
        out.push('}');
        out
    }
}

/// Output format of `wikiwatch synth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SynthFormat {
    /// One JSON event per line.
    Ndjson,
    /// An EventStreams SSE transcript (`:ok`, then `event`/`id`/`data`).
    Sse,
}

/// Options of `wikiwatch synth`.
#[derive(Args, Debug, Clone)]
pub struct SynthArgs {
    /// Number of events.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Seed; the same seed always gives the same events.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time of the first event: ISO-8601 or epoch ms (default 2026-01-01T00:00:00Z).
    #[arg(long)]
    pub start: Option<String>,
    /// Events per second of stream time.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// ndjson or sse.
    #[arg(long, value_enum, default_value_t = SynthFormat::Ndjson)]
    pub format: SynthFormat,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("invalid --start {0:?}: use ISO-8601 (2026-01-01T00:00:00Z) or epoch milliseconds")]
    Start(String),
    #[error("invalid --rate {0}: it must be above 0")]
    Rate(f64),
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
}

/// `wikiwatch synth`: writes the events to `out`.
pub fn run(args: &SynthArgs, out: &mut dyn std::io::Write) -> Result<(), SynthError> {
    let start_ms = match &args.start {
        None => crate::replay::SYNTH_START_MS,
        Some(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| crate::event::parse_dt_ms(s))
            .ok_or_else(|| SynthError::Start(s.clone()))?,
    };
    if args.rate.is_nan() || args.rate <= 0.0 {
        return Err(SynthError::Rate(args.rate));
    }
    let synth = Synth::new(args.seed, start_ms, args.rate);
    let mut id_parts: Vec<String> = STREAMS
        .iter()
        .flat_map(|s| {
            ["eqiad", "codfw"]
                .map(|dc| format!(r#"{{"topic":"{dc}.{s}","partition":0,"offset":-1}}"#))
        })
        .collect();
    let mut buf = Vec::with_capacity(1 << 20);
    if args.format == SynthFormat::Sse {
        buf.extend_from_slice(b":ok\n\n");
    }
    for ev in synth.iter(0..args.events) {
        match args.format {
            SynthFormat::Ndjson => {
                buf.extend_from_slice(ev.json.as_bytes());
                buf.push(b'\n');
            }
            SynthFormat::Sse => {
                let k = STREAMS.iter().position(|s| *s == ev.stream).unwrap_or(0) * 2;
                id_parts[k] = format!(
                    r#"{{"topic":"{}","partition":0,"timestamp":{}}}"#,
                    ev.topic,
                    ev.dt_ms + 1
                );
                let id = format!("[{}]", id_parts.join(","));
                crate::sse::write_event(&mut buf, "message", Some(&id), ev.json.as_bytes());
            }
        }
        if buf.len() > (1 << 20) {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, parse};
    use crate::extract::Rules;

    #[test]
    fn the_same_seed_gives_the_same_events_and_another_seed_others() {
        let a = Synth::new(7, 0, 1000.0);
        let b = Synth::new(7, 0, 1000.0);
        let c = Synth::new(8, 0, 1000.0);
        for i in [0, 1, 99, 12_345] {
            assert_eq!(a.event(i).json, b.event(i).json);
            assert_ne!(a.event(i).json, c.event(i).json);
        }
    }

    #[test]
    fn events_parse_into_their_streams_with_ordered_times_and_offsets() {
        let s = Synth::new(3, 1_767_225_600_000, 500.0);
        let rules = Rules::default();
        let mut last_dt = i64::MIN;
        let mut last_offset: std::collections::HashMap<&str, u64> = Default::default();
        let (mut rc, mut links, mut del, mut tagged, mut externals, mut mentions) =
            (0, 0, 0, 0, 0, 0);
        let n = 20_000;
        for ev in s.iter(0..n) {
            assert!(ev.dt_ms >= last_dt);
            last_dt = ev.dt_ms;
            if let Some(prev) = last_offset.insert(ev.stream, ev.offset) {
                assert!(ev.offset > prev, "{} offsets must increase", ev.stream);
            }
            let parsed =
                parse(ev.json.as_bytes(), &rules).unwrap_or_else(|e| panic!("{e}: {}", ev.json));
            assert_eq!(parsed.envelope().dt_ms, ev.dt_ms);
            match parsed {
                Event::Recentchange(c) => {
                    assert_eq!(ev.stream, "mediawiki.recentchange");
                    rc += 1;
                    tagged += usize::from(!c.hashtags.is_empty());
                    mentions += usize::from(!c.mentions.is_empty());
                }
                Event::PageLinksChange(l) => {
                    assert_eq!(ev.stream, "mediawiki.page-links-change");
                    links += 1;
                    externals += l.added.len() + l.removed.len();
                }
                Event::PageDelete(_) => del += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((rc, links, del), (14_000, 5_600, 400));
        // ~3% of non-Wikidata summaries, plus QuickStatements batches.
        assert!((250..1_200).contains(&tagged), "{tagged} tagged");
        assert!(mentions > 20, "{mentions} mentions");
        assert!(externals > 5_000, "{externals} external links");
    }

    #[test]
    fn sse_output_reads_back_as_the_same_events() {
        let args = SynthArgs {
            events: 500,
            seed: 2,
            start: Some("2026-03-01T00:00:00Z".into()),
            rate: 100.0,
            format: SynthFormat::Sse,
        };
        let mut out = Vec::new();
        run(&args, &mut out).unwrap();
        let mut parser = crate::sse::SseParser::new(64 << 20);
        let mut items = Vec::new();
        parser.feed(&out, &mut items);
        let datas: Vec<_> = items
            .into_iter()
            .filter_map(|i| match i {
                crate::sse::SseItem::Event(e) => Some(e.data),
                _ => None,
            })
            .collect();
        let synth = Synth::new(2, 1_772_323_200_000, 100.0);
        assert_eq!(datas.len(), 500);
        for (i, d) in datas.iter().enumerate() {
            assert_eq!(d.as_slice(), synth.event(i as u64).json.as_bytes());
        }
    }

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
