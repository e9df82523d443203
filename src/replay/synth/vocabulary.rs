//! What synthetic events are made of: the wikis and their weights, words per
//! script, campaign hashtags, user and bot names, titles, namespaces, edit
//! summaries and external links.

use std::fmt::Write as _;

use super::random::Rng;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Script {
    Latin,
    Cyrillic,
    Arabic,
    Persian,
    Devanagari,
    Thai,
    Cjk,
    Hangul,
}

pub(super) struct Wiki {
    pub(super) domain: &'static str,
    pub(super) db: &'static str,
    pub(super) script: Script,
}

const fn w(domain: &'static str, db: &'static str, script: Script) -> Wiki {
    Wiki { domain, db, script }
}

pub(super) const WIKIS: &[(Wiki, u32)] = &[
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

pub(super) fn words(script: Script) -> &'static [&'static str] {
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

pub(super) const TAGS: &[(&str, u32)] = &[
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

pub(super) const FIRST: &[&str] = &[
    "Maria", "Ahmed", "Olga", "Kenji", "Priya", "Lucas", "Fatima", "Chen", "Anna", "Somchai",
    "Yuki", "Jean", "Amara", "Sven", "Lena", "Rafael",
];
pub(super) const LAST: &[&str] = &[
    "Editor", "Wiki", "Smith", "Nguyen", "Müller", "Kowalski", "Haddad", "Tanaka", "Silva",
    "Ivanova", "Rossi",
];
pub(super) const BOTS: &[&str] = &[
    "InternetArchiveBot",
    "Cewbot",
    "KrBot",
    "SuccuBot",
    "Dexbot",
    "JJMC89 bot",
    "Citation bot",
    "AnomieBOT",
];
pub(super) const TITLES: &[&str] = &[
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
pub(super) const NAMESPACES: &[(i64, u32)] = &[
    (0, 60),
    (1, 5),
    (2, 8),
    (3, 5),
    (4, 3),
    (6, 8),
    (10, 3),
    (14, 8),
];

pub(super) const NS_PREFIX: &[(i64, &str)] = &[
    (1, "Talk:"),
    (2, "User:"),
    (3, "User talk:"),
    (4, "Project:"),
    (6, "File:"),
    (10, "Template:"),
    (14, "Category:"),
];

pub(super) fn title_for(rng: &mut Rng, ns: i64, wiki: &Wiki) -> String {
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
pub(super) fn user(rng: &mut Rng, dt_ms: i64, bot_percent: f64) -> (String, bool) {
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

pub(super) fn summary(rng: &mut Rng, wiki: &Wiki) -> String {
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

pub(super) fn external_link(rng: &mut Rng) -> String {
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
