//! WikiMon v2 compatibility: the JSON message hatnote's WikiMon sends for an
//! edit, so Listen to Wikipedia, rcmap and the mobile apps can be pointed at
//! wikiwatch unchanged.
//!
//! One message per edit (`action: "edit"`), page creation (`"new"`) and
//! new-user log event (`"newusers"`); nothing for other log types,
//! categorisation or external changes, as WikiMon v2. The keys, always all
//! present and sorted:
//!
//! `action, change_size, hashtags, is_anon, is_bot, is_minor, is_new,
//! is_unpatrolled, mentions, ns, page_title, parent_rev_id, parsed_summary,
//! rev_id, section, summary, url, user` (+ `geo_ip` for IP editors when a
//! GeoIP database is configured).
//!
//! Conventions (WikiMon v2, see `../shared/reference/wikimon.md`):
//!
//! - revision ids are strings; `rev_id` is the new revision and
//!   `parent_rev_id` the old one (v1 had them swapped), `null` when absent;
//! - `url` is `server_url + script_path + /index.php?diff=NEW&oldid=OLD`, or
//!   `?oldid=NEW` for a page creation, `""` without revisions;
//! - `change_size` is `length.new - length.old`, `length.new` for a page
//!   creation without an old length, `null` when a length is missing, and
//!   `0` for new-user events;
//! - `ns` is the canonical namespace name (`Main` for 0), or the number as a
//!   string when unknown (see [`super::namespaces`]);
//! - new-user events have `page_title: "Special:Log/newusers"` and the log
//!   action (`create`, `autocreate`, `byemail`, …) in `url`, which is what
//!   Listen to Wikipedia reads;
//! - `section` is `""` when the summary has no autocomment; Wikibase machine
//!   autocomments (`/* wbsetclaim-create:1||1 */`) are not sections (WikiMon
//!   reports them as one, a quirk we do not copy);
//! - `is_anon` is true for IP editors **and temporary accounts** (WikiMon
//!   v2's rule since the 2025 rollout: clients use it to tell logged-out
//!   editing from accounts). Only IP editors get `geo_ip`; a temporary
//!   account is never geolocated.
//!
//! Messages route by the event's `wiki` (database name), not `server_name`:
//! new-user events come from `auth.wikimedia.org` with `wiki: "enwiki"`.

use std::sync::Arc;

use serde::Serialize;

use super::geoip::{GeoIp, GeoRecord};
use super::namespaces::NamespaceRegistry;
use crate::event::{Change, ChangeKind, Event};
use crate::extract::EditorKind;

/// Everything `message` needs beyond the event: namespace names and GeoIP.
/// `Send + Sync`; share it in an `Arc`.
pub struct WikimonContext {
    namespaces: Arc<NamespaceRegistry>,
    geoip: Option<Arc<GeoIp>>,
}

impl WikimonContext {
    /// Built-in canonical namespace names only, no geolocation.
    pub fn builtin() -> Self {
        WikimonContext {
            namespaces: Arc::new(NamespaceRegistry::builtin()),
            geoip: None,
        }
    }

    /// With a namespace registry (e.g. one that learns from siteinfo, see
    /// [`NamespaceRegistry::with_learner`]) and an optional GeoIP database.
    pub fn new(namespaces: Arc<NamespaceRegistry>, geoip: Option<Arc<GeoIp>>) -> Self {
        WikimonContext { namespaces, geoip }
    }

    /// The context `wikiwatch run` uses: `--geoip` files opened, and with
    /// `--siteinfo-api` a background learner (cached in `store`) that stops
    /// at `shutdown`. Needs a Tokio runtime when learning.
    pub fn for_run(
        settings: &crate::config::Settings,
        store: Arc<dyn crate::store::Store>,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Result<Self, super::geoip::GeoIpError> {
        let namespaces = match &settings.siteinfo_api {
            Some(api) => NamespaceRegistry::with_learner(
                super::namespaces::SiteinfoOptions::new(api.clone(), settings.user_agent.clone()),
                Some(store),
                shutdown,
            ),
            None => Arc::new(NamespaceRegistry::builtin()),
        };
        let geoip = if settings.geoip.is_empty() {
            None
        } else {
            Some(Arc::new(GeoIp::open(settings.geoip.as_slice())?))
        };
        Ok(WikimonContext { namespaces, geoip })
    }

    /// The same context with a GeoIP database.
    pub fn with_geoip(mut self, geoip: Arc<GeoIp>) -> Self {
        self.geoip = Some(geoip);
        self
    }

    pub fn namespaces(&self) -> &NamespaceRegistry {
        &self.namespaces
    }

    pub fn geoip(&self) -> Option<&GeoIp> {
        self.geoip.as_deref()
    }

    /// The credit (HTML) a page showing `geo_ip` data must carry, when the
    /// configured database's licence asks for one (DB-IP, GeoLite2).
    pub fn attribution(&self) -> Option<&str> {
        self.geoip.as_deref().and_then(GeoIp::attribution)
    }
}

/// One WikiMon v2 message: the wiki database name it routes to and its JSON (sorted keys).
#[derive(Debug, Clone, PartialEq)]
pub struct WikimonMessage {
    pub wiki: String,
    pub json: String,
}

/// Wikipedia language subdomains (sitematrix, including closed read-only
/// wikis), each with its database name when that is not simply
/// `subdomain.replace('-', '_') + "wiki"`.
const WIKIPEDIA_LANGUAGES: &[&str] = &[
    "aa",
    "ab",
    "ace",
    "ady",
    "af",
    "ak",
    "als",
    "alt",
    "am",
    "ami",
    "an",
    "ang",
    "ann",
    "anp",
    "ar",
    "arc",
    "ary",
    "arz",
    "as",
    "ast",
    "atj",
    "av",
    "avk",
    "awa",
    "ay",
    "az",
    "azb",
    "ba",
    "ban",
    "bar",
    "bat-smg",
    "bbc",
    "bcl",
    "bdr",
    "be",
    "be-tarask",
    "bew",
    "bg",
    "bh",
    "bi",
    "bjn",
    "blk",
    "bm",
    "bn",
    "bo",
    "bpy",
    "br",
    "bs",
    "btm",
    "bug",
    "bxr",
    "ca",
    "cbk-zam",
    "cdo",
    "ce",
    "ceb",
    "ch",
    "cho",
    "chr",
    "chy",
    "ckb",
    "co",
    "cr",
    "crh",
    "cs",
    "csb",
    "cu",
    "cv",
    "cy",
    "da",
    "dag",
    "de",
    "dga",
    "din",
    "diq",
    "dsb",
    "dtp",
    "dty",
    "dv",
    "dz",
    "ee",
    "el",
    "eml",
    "en",
    "eo",
    "es",
    "et",
    "eu",
    "ext",
    "fa",
    "fat",
    "ff",
    "fi",
    "fiu-vro",
    "fj",
    "fo",
    "fon",
    "fr",
    "frp",
    "frr",
    "fur",
    "fy",
    "ga",
    "gag",
    "gan",
    "gcr",
    "gd",
    "gl",
    "glk",
    "gn",
    "gom",
    "gor",
    "got",
    "gpe",
    "gu",
    "guc",
    "gur",
    "guw",
    "gv",
    "ha",
    "hak",
    "haw",
    "he",
    "hi",
    "hif",
    "ho",
    "hr",
    "hsb",
    "ht",
    "hu",
    "hy",
    "hyw",
    "hz",
    "ia",
    "iba",
    "id",
    "ie",
    "ig",
    "igl",
    "ii",
    "ik",
    "ilo",
    "inh",
    "io",
    "is",
    "it",
    "iu",
    "ja",
    "jam",
    "jbo",
    "jv",
    "ka",
    "kaa",
    "kab",
    "kbd",
    "kbp",
    "kcg",
    "kg",
    "kge",
    "ki",
    "kj",
    "kk",
    "kl",
    "km",
    "kn",
    "knc",
    "ko",
    "koi",
    "kr",
    "krc",
    "ks",
    "ksh",
    "ku",
    "kus",
    "kv",
    "kw",
    "ky",
    "la",
    "lad",
    "lb",
    "lbe",
    "lez",
    "lfn",
    "lg",
    "li",
    "lij",
    "lld",
    "lmo",
    "ln",
    "lo",
    "lt",
    "ltg",
    "lv",
    "mad",
    "mai",
    "map-bms",
    "mdf",
    "mg",
    "mh",
    "mhr",
    "mi",
    "min",
    "mk",
    "ml",
    "mn",
    "mni",
    "mnw",
    "mos",
    "mr",
    "mrj",
    "ms",
    "mt",
    "mus",
    "mwl",
    "my",
    "myv",
    "mzn",
    "na",
    "nah",
    "nap",
    "nds",
    "nds-nl",
    "ne",
    "new",
    "ng",
    "nia",
    "nl",
    "nn",
    "no",
    "nov",
    "nqo",
    "nr",
    "nrm",
    "nso",
    "nup",
    "nv",
    "ny",
    "oc",
    "olo",
    "om",
    "or",
    "os",
    "pa",
    "pag",
    "pam",
    "pap",
    "pcd",
    "pcm",
    "pdc",
    "pfl",
    "pi",
    "pih",
    "pl",
    "pms",
    "pnb",
    "pnt",
    "ps",
    "pt",
    "pwn",
    "qu",
    "rki",
    "rm",
    "rmy",
    "rn",
    "ro",
    "roa-rup",
    "roa-tara",
    "rsk",
    "ru",
    "rue",
    "rw",
    "sa",
    "sah",
    "sat",
    "sc",
    "scn",
    "sco",
    "sd",
    "se",
    "sg",
    "sh",
    "shi",
    "shn",
    "si",
    "simple",
    "sk",
    "skr",
    "sl",
    "sm",
    "smn",
    "sn",
    "so",
    "sq",
    "sr",
    "srn",
    "ss",
    "st",
    "stq",
    "su",
    "sv",
    "sw",
    "syl",
    "szl",
    "szy",
    "ta",
    "tay",
    "tcy",
    "tdd",
    "te",
    "test",
    "test2",
    "tet",
    "tg",
    "th",
    "ti",
    "tig",
    "tk",
    "tl",
    "tly",
    "tn",
    "to",
    "tpi",
    "tr",
    "trv",
    "ts",
    "tt",
    "tum",
    "tw",
    "ty",
    "tyv",
    "udm",
    "ug",
    "uk",
    "ur",
    "uz",
    "ve",
    "vec",
    "vep",
    "vi",
    "vls",
    "vo",
    "wa",
    "war",
    "wo",
    "wuu",
    "xal",
    "xh",
    "xmf",
    "yi",
    "yo",
    "za",
    "zea",
    "zgh",
    "zh",
    "zh-classical",
    "zh-min-nan",
    "zh-yue",
    "zu",
];

/// Subdomains whose database name does not follow the rule, and aliases
/// that redirect to another subdomain.
const SPECIAL_LANGUAGES: &[(&str, &str)] = &[
    // be-tarask.wikipedia.org kept its old database name.
    ("be-tarask", "be_x_oldwiki"),
    ("be-x-old", "be_x_oldwiki"),
    ("nb", "nowiki"),
    ("yue", "zh_yuewiki"),
    ("wikidata", "wikidatawiki"),
    ("", "enwiki"),
];

/// "en" -> Some("enwiki"), "wikidata" -> Some("wikidatawiki"), "" -> Some("enwiki"); None for
/// anything that is not a Wikipedia language code (built-in list of all Wikipedia language
/// subdomains incl. e.g. "zh-min-nan", "be-tarask", "simple"; every Wikipedia language works
/// with no configuration).
pub fn wiki_for_language(lang: &str) -> Option<String> {
    let lang = lang.trim_matches('/');
    if let Some((_, db)) = SPECIAL_LANGUAGES.iter().find(|(l, _)| *l == lang) {
        return Some((*db).to_owned());
    }
    // Binary search needs the table sorted; a unit test checks it.
    WIKIPEDIA_LANGUAGES
        .binary_search(&lang)
        .ok()
        .map(|_| format!("{}wiki", lang.replace('-', "_")))
}

/// Every language code [`wiki_for_language`] accepts (besides `""`).
pub fn languages() -> impl Iterator<Item = &'static str> {
    WIKIPEDIA_LANGUAGES
        .iter()
        .copied()
        .chain(SPECIAL_LANGUAGES.iter().map(|(l, _)| *l))
        .filter(|l| !l.is_empty())
}

/// The message body, fields in alphabetical order (serde keeps declaration
/// order), so the JSON has WikiMon's sorted keys without a sort per message.
#[derive(Serialize)]
struct Body<'a> {
    action: &'a str,
    change_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    geo_ip: Option<GeoRecord>,
    hashtags: Vec<&'a str>,
    is_anon: bool,
    is_bot: bool,
    is_minor: bool,
    is_new: bool,
    is_unpatrolled: bool,
    mentions: &'a [String],
    ns: String,
    page_title: &'a str,
    parent_rev_id: Option<String>,
    parsed_summary: &'a str,
    rev_id: Option<String>,
    section: &'a str,
    summary: &'a str,
    url: String,
    user: &'a str,
}

/// `server_url + script_path + /index.php?…` for an edit or creation.
pub fn diff_url(change: &Change) -> String {
    let base = format!(
        "{}{}/index.php",
        change.server_url.trim_end_matches('/'),
        change.script_path.trim_end_matches('/')
    );
    let old = change.rev_old.filter(|r| *r > 0);
    match (change.rev_new, old) {
        (Some(new), Some(old)) if change.change_kind != ChangeKind::New => {
            format!("{base}?diff={new}&oldid={old}")
        }
        (Some(new), _) => format!("{base}?oldid={new}"),
        _ => String::new(),
    }
}

/// The WikiMon v2 message for an event, or None when WikiMon sends nothing for it.
pub fn message(event: &Event, ctx: &WikimonContext) -> Option<WikimonMessage> {
    let Event::Recentchange(change) = event else {
        return None;
    };
    let newusers = match change.change_kind {
        ChangeKind::Edit | ChangeKind::New => false,
        ChangeKind::Log if change.log_type.as_deref() == Some("newusers") => true,
        _ => return None,
    };
    if change.wiki.is_empty() {
        return None;
    }
    let user = change.user.as_deref().unwrap_or_default();
    let is_anon = matches!(change.editor, EditorKind::Ip | EditorKind::Temp);
    // Only real IP editors: a temporary account's location is private.
    let geo_ip = match (change.editor, ctx.geoip.as_deref()) {
        (EditorKind::Ip, Some(geo)) => Some(geo.lookup_user(user).unwrap_or_default()),
        _ => None,
    };
    let domain = change.server_name.as_str();
    let body = if newusers {
        Body {
            action: "newusers",
            change_size: Some(0),
            geo_ip,
            hashtags: change.hashtags.iter().map(|h| h.text.as_str()).collect(),
            is_anon,
            is_bot: change.bot,
            is_minor: false,
            is_new: false,
            is_unpatrolled: false,
            mentions: &change.mentions,
            ns: ctx.namespaces.name(&change.wiki, domain, change.namespace),
            page_title: "Special:Log/newusers",
            parent_rev_id: None,
            parsed_summary: &change.parsed_summary,
            rev_id: None,
            section: change.section.as_deref().unwrap_or_default(),
            summary: &change.summary,
            url: change.log_action.clone().unwrap_or_default(),
            user,
        }
    } else {
        Body {
            action: change.change_kind.as_str(),
            change_size: change.size_change(),
            geo_ip,
            hashtags: change.hashtags.iter().map(|h| h.text.as_str()).collect(),
            is_anon,
            is_bot: change.bot,
            is_minor: change.minor,
            is_new: change.change_kind == ChangeKind::New,
            is_unpatrolled: change.patrolled == Some(false),
            mentions: &change.mentions,
            ns: ctx.namespaces.name(&change.wiki, domain, change.namespace),
            page_title: &change.title,
            parent_rev_id: change.rev_old.filter(|r| *r > 0).map(|r| r.to_string()),
            parsed_summary: &change.parsed_summary,
            rev_id: change.rev_new.map(|r| r.to_string()),
            section: change.section.as_deref().unwrap_or_default(),
            summary: &change.summary,
            url: diff_url(change),
            user,
        }
    };
    let json = serde_json::to_string(&body).ok()?;
    Some(WikimonMessage {
        wiki: change.wiki.clone(),
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Rules;

    fn change(json: serde_json::Value) -> Event {
        let bytes = serde_json::to_vec(&json).expect("json");
        crate::event::parse(&bytes, &Rules::default()).expect("event")
    }

    fn msg(ev: &Event) -> serde_json::Value {
        let m = message(ev, &WikimonContext::builtin()).expect("a message");
        serde_json::from_str(&m.json).expect("valid json")
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "$schema": "/mediawiki/recentchange/1.0.0",
            "meta": {"id": "x", "dt": "2026-01-01T00:00:00Z", "domain": "en.wikipedia.org",
                     "stream": "mediawiki.recentchange"},
            "type": "edit", "namespace": 0, "title": "Foo",
            "comment": "/* Introduction */ fixed #typo @Reviewer", "user": "Alice",
            "bot": false, "minor": false, "patrolled": true,
            "length": {"old": 5100, "new": 5200},
            "revision": {"old": 558167099, "new": 560171723},
            "server_url": "https://en.wikipedia.org", "server_name": "en.wikipedia.org",
            "server_script_path": "/w", "wiki": "enwiki"
        })
    }

    #[test]
    fn languages_table_sorted_and_special_cases() {
        assert!(WIKIPEDIA_LANGUAGES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(wiki_for_language("en").as_deref(), Some("enwiki"));
        assert_eq!(wiki_for_language("").as_deref(), Some("enwiki"));
        assert_eq!(
            wiki_for_language("wikidata").as_deref(),
            Some("wikidatawiki")
        );
        assert_eq!(
            wiki_for_language("zh-min-nan").as_deref(),
            Some("zh_min_nanwiki")
        );
        assert_eq!(
            wiki_for_language("be-tarask").as_deref(),
            Some("be_x_oldwiki")
        );
        assert_eq!(wiki_for_language("simple").as_deref(), Some("simplewiki"));
        assert_eq!(wiki_for_language("hyw").as_deref(), Some("hywwiki"));
        assert_eq!(wiki_for_language("xx"), None);
        assert_eq!(wiki_for_language("commons"), None);
        assert_eq!(wiki_for_language("EN"), None);
        assert!(languages().count() > 330);
    }

    #[test]
    fn edit_fields_and_sorted_keys() {
        let m = message(&change(base()), &WikimonContext::builtin()).expect("message");
        assert_eq!(m.wiki, "enwiki");
        let v: serde_json::Value = serde_json::from_str(&m.json).expect("json");
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), 18);
        // serde_json's map is sorted anyway; check the raw text order too.
        assert!(
            m.json
                .starts_with("{\"action\":\"edit\",\"change_size\":100,")
        );
        assert_eq!(v["rev_id"], "560171723");
        assert_eq!(v["parent_rev_id"], "558167099");
        assert_eq!(
            v["url"],
            "https://en.wikipedia.org/w/index.php?diff=560171723&oldid=558167099"
        );
        assert_eq!(v["section"], "Introduction");
        assert_eq!(v["hashtags"], serde_json::json!(["typo"]));
        assert_eq!(v["mentions"], serde_json::json!(["Reviewer"]));
        assert_eq!(v["ns"], "Main");
    }

    #[test]
    fn url_and_size_edge_cases() {
        let mut e = base();
        e["type"] = "new".into();
        e["revision"] = serde_json::json!({"new": 30383898});
        e["length"] = serde_json::json!({"new": 22});
        let v = msg(&change(e));
        assert_eq!(
            v["url"],
            "https://en.wikipedia.org/w/index.php?oldid=30383898"
        );
        assert_eq!(v["parent_rev_id"], serde_json::Value::Null);
        assert_eq!(v["change_size"], 22);
        assert_eq!(v["is_new"], true);
        assert_eq!(v["action"], "new");

        let mut e = base();
        e.as_object_mut().expect("object").remove("length");
        e.as_object_mut().expect("object").remove("revision");
        let v = msg(&change(e));
        assert_eq!(v["change_size"], serde_json::Value::Null);
        assert_eq!(v["url"], "");
        assert_eq!(v["rev_id"], serde_json::Value::Null);

        // A trailing slash on server_url and an empty script path.
        let mut e = base();
        e["server_url"] = "https://example.org/".into();
        e["server_script_path"] = "".into();
        let v = msg(&change(e));
        assert_eq!(
            v["url"],
            "https://example.org/index.php?diff=560171723&oldid=558167099"
        );
    }

    #[test]
    fn ns_edge_cases_and_flags() {
        let mut e = base();
        e["namespace"] = 999.into();
        e["patrolled"] = false.into();
        let v = msg(&change(e));
        assert_eq!(v["ns"], "999");
        assert_eq!(v["is_unpatrolled"], true);
        let mut e = base();
        e["namespace"] = 3.into();
        e.as_object_mut().expect("object").remove("patrolled");
        let v = msg(&change(e));
        assert_eq!(v["ns"], "User talk");
        assert_eq!(v["is_unpatrolled"], false);
        let mut e = base();
        e["namespace"] = (-1).into();
        assert_eq!(msg(&change(e))["ns"], "Special");
    }

    #[test]
    fn anon_rules() {
        for (user, anon) in [
            ("2001:558:6045:A3:E1A1:5BB4:B0B6:E2D9", true),
            ("~2026-93757-24", true),
            ("81.2.69.160", true),
            ("Alice", false),
        ] {
            let mut e = base();
            e["user"] = user.into();
            let v = msg(&change(e));
            assert_eq!(v["is_anon"], anon, "{user}");
            assert!(v.get("geo_ip").is_none());
        }
    }

    #[test]
    fn other_events_send_nothing() {
        let ctx = WikimonContext::builtin();
        for (kind, log_type) in [("log", "delete"), ("log", "block"), ("categorize", "")] {
            let mut e = base();
            e["type"] = kind.into();
            e["log_type"] = log_type.into();
            assert!(message(&change(e), &ctx).is_none(), "{kind} {log_type}");
        }
    }

    #[test]
    fn context_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<WikimonContext>();
    }
}
