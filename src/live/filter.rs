//! Live-feed filters: query parameters (or the fields of a WebSocket
//! `subscribe` message) parsed once into a [`Filter`], a predicate the hub
//! evaluates for every event and every subscriber.
//!
//! Parsing is strict: an unknown parameter or a malformed value is a
//! [`FilterError`] naming the parameter, so a typo never silently turns a
//! narrow feed into the firehose. Every list parameter takes comma-separated
//! values and may be repeated; values of one parameter are alternatives (OR),
//! different parameters must all match (AND).

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use crate::event::{Change, ChangeKind};
use crate::extract::EditorKind;

/// A bad filter: which parameter and why.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct FilterError {
    pub parameter: String,
    pub message: String,
}

impl FilterError {
    fn new(parameter: &str, message: impl Into<String>) -> Self {
        FilterError {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }
}

/// Values one list parameter may hold: a filter is evaluated for every event
/// and every subscriber, so its size is bounded when it is parsed.
pub const MAX_VALUES_PER_PARAMETER: usize = 1000;
/// `wiki` entries with a `*`, and the `*`s one of them may hold: each such
/// entry is matched one by one, the others by one lookup.
pub const MAX_WILDCARD_WIKIS: usize = 32;
pub const MAX_WILDCARDS_PER_WIKI: usize = 4;

/// The parameters a filter understands (aliases map to the first name).
pub const PARAMETERS: &[&str] = &[
    "wiki",
    "project",
    "lang",
    "namespace",
    "type",
    "log_type",
    "bot",
    "editor",
    "user",
    "title_prefix",
    "min_size_change",
    "hashtag",
    "minor",
    "unpatrolled",
];

fn canonical_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "wiki" | "wikis" => "wiki",
        "project" | "projects" | "family" => "project",
        "lang" | "language" | "languages" => "lang",
        "namespace" | "namespaces" | "ns" => "namespace",
        "type" | "types" => "type",
        "log_type" | "log_types" => "log_type",
        "bot" => "bot",
        "editor" | "editor_kind" => "editor",
        "user" | "users" => "user",
        "title_prefix" => "title_prefix",
        "min_size_change" => "min_size_change",
        "hashtag" | "hashtags" => "hashtag",
        "minor" => "minor",
        "unpatrolled" => "unpatrolled",
        _ => return None,
    })
}

/// A `wikis` entry: exact, or with `*` wildcards, matched against the
/// database name (`enwiki`) and the host name (`en.wikipedia.org`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct WikiPattern(String);

impl WikiPattern {
    fn matches(&self, wiki: &str, host: &str) -> bool {
        glob(&self.0, wiki) || glob(&self.0, host)
    }
}

/// `*` matches any run of characters; everything else literally (ASCII case-insensitive).
fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi].eq_ignore_ascii_case(&t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// The project family of a host: `wikipedia`, `wiktionary`, `wikidata`,
/// `commons`, `mediawiki`, `wikimedia`, …
pub fn project_of(host: &str) -> &str {
    match host {
        "www.wikidata.org" | "wikidata.org" | "test.wikidata.org" => "wikidata",
        "commons.wikimedia.org" => "commons",
        "www.mediawiki.org" => "mediawiki",
        "species.wikimedia.org" => "species",
        "auth.wikimedia.org" => "auth",
        _ => {
            let mut labels = host.rsplit('.');
            let _tld = labels.next();
            labels.next().unwrap_or(host)
        }
    }
}

/// The language of a host in a language-edition family (`de` for
/// `de.wikipedia.org`), `None` for multilingual wikis.
pub fn language_of(host: &str) -> Option<&str> {
    const FAMILIES: &[&str] = &[
        "wikipedia",
        "wiktionary",
        "wikibooks",
        "wikinews",
        "wikiquote",
        "wikisource",
        "wikiversity",
        "wikivoyage",
    ];
    let (lang, rest) = host.split_once('.')?;
    let family = rest.split('.').next()?;
    (FAMILIES.contains(&family) && lang != "www").then_some(lang)
}

/// Page titles and user names compare with underscores as spaces, as MediaWiki shows them.
fn norm_title(s: &str) -> String {
    s.trim().replace('_', " ")
}

/// A parsed filter. The default matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Filter {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    wiki: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    project: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lang: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    namespace: Vec<i64>,
    #[serde(rename = "type", skip_serializing_if = "Vec::is_empty")]
    kinds: Vec<ChangeKind>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    log_type: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bot: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    editor: Vec<EditorKind>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    user: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_size_change: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashtag: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minor: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unpatrolled: Option<bool>,
    #[serde(skip)]
    compiled: Compiled,
}

/// Lookup forms built once at parse time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Compiled {
    /// `wiki` entries without a wildcard, and those with one.
    exact_wikis: HashSet<String>,
    wildcard_wikis: Vec<WikiPattern>,
    projects: HashSet<String>,
    langs: HashSet<String>,
    users: HashSet<String>,
    hashtags: HashSet<String>,
}

impl Compiled {
    fn wiki_matches(&self, wiki: &str, host: &str) -> bool {
        if self.exact_wikis.is_empty() && self.wildcard_wikis.is_empty() {
            return true;
        }
        let exact = |name: &str| {
            if name.bytes().any(|b| b.is_ascii_uppercase()) {
                self.exact_wikis.contains(&name.to_ascii_lowercase())
            } else {
                self.exact_wikis.contains(name)
            }
        };
        exact(wiki) || exact(host) || self.wildcard_wikis.iter().any(|w| w.matches(wiki, host))
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool, FilterError> {
    match v.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(FilterError::new(
            name,
            format!("{name} must be true or false, not {other:?}"),
        )),
    }
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

impl Filter {
    /// True when the filter selects everything.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Parses `(name, value)` pairs. Names outside [`PARAMETERS`] (and their
    /// aliases) are errors unless listed in `allowed_extra`, which are skipped.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        allowed_extra: &[&str],
    ) -> Result<Filter, FilterError> {
        let mut f = Filter::default();
        for (raw_name, value) in pairs {
            if allowed_extra.contains(&raw_name) {
                continue;
            }
            let Some(name) = canonical_name(raw_name) else {
                return Err(FilterError::new(
                    raw_name,
                    format!(
                        "unknown filter parameter {raw_name:?}; known: {}",
                        PARAMETERS.join(", ")
                    ),
                ));
            };
            f.add(name, value)?;
        }
        f.check_sizes()?;
        let (wildcard, exact): (Vec<&String>, Vec<&String>) =
            f.wiki.iter().partition(|w| w.contains('*'));
        f.compiled = Compiled {
            exact_wikis: exact.into_iter().cloned().collect(),
            wildcard_wikis: wildcard
                .into_iter()
                .map(|w| WikiPattern(w.clone()))
                .collect(),
            projects: f.project.iter().cloned().collect(),
            langs: f.lang.iter().cloned().collect(),
            users: f.user.iter().cloned().collect(),
            hashtags: f.hashtag.iter().cloned().collect(),
        };
        Ok(f)
    }

    /// Parses the fields of a `subscribe` message: each value a string, a
    /// number, a boolean or an array of those; `type` (the message type) is
    /// skipped, so the change type is given as `types`.
    pub fn from_json(msg: &serde_json::Map<String, Value>) -> Result<Filter, FilterError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in msg {
            if k == "type" {
                continue;
            }
            let scalar = |v: &Value| -> Result<String, FilterError> {
                match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    _ => Err(FilterError::new(
                        k,
                        format!("{k} must be a string, number, boolean or a list of them"),
                    )),
                }
            };
            match v {
                Value::Null => {}
                Value::Array(items) => {
                    let parts = items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?;
                    // An empty list means "no restriction", like an absent parameter.
                    if !parts.is_empty() {
                        pairs.push((k.clone(), parts.join(",")));
                    }
                }
                other => pairs.push((k.clone(), scalar(other)?)),
            }
        }
        Filter::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[])
    }

    /// Refuses a filter over the limits, naming the parameter.
    fn check_sizes(&self) -> Result<(), FilterError> {
        let lists = [
            ("wiki", self.wiki.len()),
            ("project", self.project.len()),
            ("lang", self.lang.len()),
            ("namespace", self.namespace.len()),
            ("type", self.kinds.len()),
            ("log_type", self.log_type.len()),
            ("editor", self.editor.len()),
            ("user", self.user.len()),
            ("hashtag", self.hashtag.len()),
        ];
        if let Some((name, n)) = lists.iter().find(|(_, n)| *n > MAX_VALUES_PER_PARAMETER) {
            return Err(FilterError::new(
                name,
                format!(
                    "{name} has {n} values; a filter takes at most {MAX_VALUES_PER_PARAMETER} per parameter"
                ),
            ));
        }
        let wildcards = self.wiki.iter().filter(|w| w.contains('*')).count();
        if wildcards > MAX_WILDCARD_WIKIS {
            return Err(FilterError::new(
                "wiki",
                format!(
                    "wiki has {wildcards} entries with *; a filter takes at most {MAX_WILDCARD_WIKIS} (list the wikis themselves instead)"
                ),
            ));
        }
        Ok(())
    }

    fn add(&mut self, name: &'static str, value: &str) -> Result<(), FilterError> {
        match name {
            "wiki" => {
                for w in list(value) {
                    if w.len() > 100
                        || !w
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"*._-".contains(&b))
                    {
                        return Err(FilterError::new(
                            name,
                            format!(
                                "{w:?} is not a wiki: give a database name (enwiki) or a domain (en.wikipedia.org), with * wildcards"
                            ),
                        ));
                    }
                    if w.matches('*').count() > MAX_WILDCARDS_PER_WIKI {
                        return Err(FilterError::new(
                            name,
                            format!(
                                "{w:?} has more than {MAX_WILDCARDS_PER_WIKI} * wildcards; use fewer"
                            ),
                        ));
                    }
                    self.wiki.push(w.to_ascii_lowercase());
                }
            }
            "project" => self
                .project
                .extend(list(value).map(str::to_ascii_lowercase)),
            "lang" => self.lang.extend(list(value).map(str::to_ascii_lowercase)),
            "namespace" => {
                for n in list(value) {
                    let ns = n.parse::<i64>().map_err(|_| {
                        FilterError::new(name, format!("namespace must be a number, not {n:?}"))
                    })?;
                    self.namespace.push(ns);
                }
            }
            "type" => {
                for t in list(value) {
                    let k = ChangeKind::parse(t).ok_or_else(|| {
                        FilterError::new(
                            name,
                            format!(
                                "type must be edit, new, log, categorize or external, not {t:?}"
                            ),
                        )
                    })?;
                    self.kinds.push(k);
                }
            }
            "log_type" => self.log_type.extend(list(value).map(str::to_owned)),
            "bot" => self.bot = Some(parse_bool(name, value)?),
            "editor" => {
                for e in list(value) {
                    self.editor.push(match e {
                        "ip" => EditorKind::Ip,
                        "temp" | "temporary" => EditorKind::Temp,
                        "named" | "registered" => EditorKind::Named,
                        other => {
                            return Err(FilterError::new(
                                name,
                                format!("editor must be ip, temp or named, not {other:?}"),
                            ));
                        }
                    });
                }
            }
            "user" => self.user.extend(list(value).map(norm_title)),
            "title_prefix" => {
                let p = norm_title(value);
                if !p.is_empty() {
                    self.title_prefix = Some(p);
                }
            }
            "min_size_change" => {
                let n = value.trim().parse::<i64>().ok().filter(|n| *n >= 0);
                self.min_size_change = Some(n.ok_or_else(|| {
                    FilterError::new(
                        name,
                        format!(
                            "min_size_change must be a whole number of bytes ≥ 0, not {value:?}"
                        ),
                    )
                })?);
            }
            "hashtag" => self.hashtag.extend(
                list(value).map(|t| crate::extract::hashtag_key(t.trim_start_matches(['#', '＃']))),
            ),
            "minor" => self.minor = Some(parse_bool(name, value)?),
            "unpatrolled" => self.unpatrolled = Some(parse_bool(name, value)?),
            _ => {}
        }
        Ok(())
    }

    /// The predicate.
    pub fn matches(&self, c: &Change) -> bool {
        if !self.compiled.wiki_matches(&c.wiki, &c.server_name) {
            return false;
        }
        if !self.compiled.projects.is_empty()
            && !self.compiled.projects.contains(project_of(&c.server_name))
        {
            return false;
        }
        if !self.lang.is_empty() {
            let Some(l) = language_of(&c.server_name) else {
                return false;
            };
            if !self.compiled.langs.contains(l) {
                return false;
            }
        }
        if !self.namespace.is_empty() && !self.namespace.contains(&c.namespace) {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&c.change_kind) {
            return false;
        }
        if !self.log_type.is_empty()
            && !c
                .log_type
                .as_deref()
                .is_some_and(|t| self.log_type.iter().any(|x| x == t))
        {
            return false;
        }
        if self.bot.is_some_and(|b| b != c.bot) {
            return false;
        }
        if !self.editor.is_empty() && !self.editor.contains(&c.editor) {
            return false;
        }
        if !self.compiled.users.is_empty()
            && !c
                .user
                .as_deref()
                .is_some_and(|u| self.compiled.users.contains(&norm_title(u)))
        {
            return false;
        }
        if let Some(p) = &self.title_prefix
            && !c.title.starts_with(p.as_str())
        {
            return false;
        }
        if let Some(min) = self.min_size_change
            && c.size_change().is_none_or(|s| s.abs() < min)
        {
            return false;
        }
        if !self.compiled.hashtags.is_empty()
            && !c
                .hashtags
                .iter()
                .any(|h| self.compiled.hashtags.contains(&h.key))
        {
            return false;
        }
        if self.minor.is_some_and(|m| m != c.minor) {
            return false;
        }
        if let Some(u) = self.unpatrolled
            && u != (c.patrolled == Some(false))
        {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_database_names_and_domains() {
        assert!(glob("*.wikipedia.org", "de.wikipedia.org"));
        assert!(glob("en*", "enwiki"));
        assert!(glob("*wiki", "enwiki"));
        assert!(!glob("*wiki", "enwiktionary"));
        assert!(glob("enwiki", "ENWIKI"));
        assert!(!glob("en", "enwiki"));
    }

    #[test]
    fn families_and_languages() {
        assert_eq!(project_of("en.wikipedia.org"), "wikipedia");
        assert_eq!(project_of("fr.wiktionary.org"), "wiktionary");
        assert_eq!(project_of("www.wikidata.org"), "wikidata");
        assert_eq!(project_of("commons.wikimedia.org"), "commons");
        assert_eq!(language_of("zh-yue.wikipedia.org"), Some("zh-yue"));
        assert_eq!(language_of("commons.wikimedia.org"), None);
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let e = Filter::parse([("namespace", "main")], &[]).unwrap_err();
        assert_eq!(e.parameter, "namespace");
        let e = Filter::parse([("colour", "red")], &[]).unwrap_err();
        assert_eq!(e.parameter, "colour");
        let e = Filter::parse([("bot", "maybe")], &[]).unwrap_err();
        assert_eq!(e.parameter, "bot");
        let e = Filter::parse([("min_size_change", "-3")], &[]).unwrap_err();
        assert_eq!(e.parameter, "min_size_change");
        assert!(Filter::parse([("since", "4")], &["since"]).is_ok());
    }

    #[test]
    fn subscribe_messages_accept_lists_numbers_and_booleans() {
        let v: Value = serde_json::json!({"type": "subscribe", "wikis": ["enwiki", "*.wiktionary.org"], "namespace": [0, 4], "bot": false});
        let f = Filter::from_json(v.as_object().unwrap()).unwrap();
        assert_eq!(f.namespace, vec![0, 4]);
        assert_eq!(f.bot, Some(false));
        assert_eq!(f.wiki.len(), 2);
        let v: Value = serde_json::json!({"type": "subscribe", "namespace": {"x": 1}});
        assert_eq!(
            Filter::from_json(v.as_object().unwrap())
                .unwrap_err()
                .parameter,
            "namespace"
        );
    }

    #[test]
    fn oversized_filters_are_refused_naming_the_parameter() {
        let many = vec!["enwiki"; MAX_VALUES_PER_PARAMETER + 1].join(",");
        let e = Filter::parse([("wiki", many.as_str())], &[]).unwrap_err();
        assert_eq!(e.parameter, "wiki");
        assert!(e.message.contains("at most 1000"), "{}", e.message);
        let users = (0..=MAX_VALUES_PER_PARAMETER)
            .map(|i| format!("U{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            Filter::parse([("user", users.as_str())], &[])
                .unwrap_err()
                .parameter,
            "user"
        );
        let globs = (0..=MAX_WILDCARD_WIKIS)
            .map(|i| format!("*{i}*q*"))
            .collect::<Vec<_>>()
            .join(",");
        let e = Filter::parse([("wiki", globs.as_str())], &[]).unwrap_err();
        assert!(e.message.contains("entries with *"), "{}", e.message);
        let e = Filter::parse([("wiki", "*a*b*c*d*e*")], &[]).unwrap_err();
        assert!(e.message.contains("more than 4"), "{}", e.message);
        // At the limits, a filter is accepted and still matches exactly.
        let exact = (0..MAX_VALUES_PER_PARAMETER - 1)
            .map(|i| format!("w{i}wiki"))
            .chain(["EnWiki".into()])
            .collect::<Vec<_>>()
            .join(",");
        let f = Filter::parse([("wiki", exact.as_str())], &[]).unwrap();
        assert!(f.compiled.wiki_matches("enwiki", "en.wikipedia.org"));
        assert!(!f.compiled.wiki_matches("dewiki", "de.wikipedia.org"));
        let f = Filter::parse([("wiki", "*.wikipedia.org,frwiki")], &[]).unwrap();
        assert!(f.compiled.wiki_matches("dewiki", "de.wikipedia.org"));
        assert!(f.compiled.wiki_matches("frwiki", "fr.wikisource.org"));
        assert!(!f.compiled.wiki_matches("frwikisource", "fr.wikisource.org"));
    }
}
