//! Hashtags in edit summaries.
//!
//! Editors tag their edits with `#hashtags` in the summary so that campaigns
//! (`#1lib1ref`, `#WPWP`), tools (`#quickstatements`, `#IABot`) and
//! edit-a-thons can be followed. The older Hashtags tool matched Python's
//! `\w+`, which stops at the vowel signs and viramas of Indic and Thai scripts
//! and at the zero-width non-joiner of Persian, so `#हिन्दी` came out as `#ह`.
//! wikiwatch reads whole words in every script.
//!
//! # What counts as a hashtag
//!
//! **Where it starts.** A `#` or full-width `＃` (U+FF03) that is
//!
//! - at the very start of the summary, or
//! - right after whitespace (any Unicode `White_Space`: space, tab, newline,
//!   no-break space, ideographic space, …), or
//! - right after one of `( " ' “ ‘ « 「 『 【 ， 、 。 ： ； ！ ？ , ; : ! ?`.
//!
//! After anything else (a letter, digit, `_`, `&`, `/`, `[`, `{`, `|`, `=`,
//! `.`, `-`, another `#`, …) the `#` is not a hashtag. This keeps out URL
//! fragments (`https://x.org/#frag`), section links (`[[Page#Section]]`,
//! `[[#Section]]`), parser functions (`{{#if:}}`), character references
//! (`&#123;`) and `##`.
//!
//! **What it contains.** The longest run, right after the `#`, of
//!
//! - letters (Unicode categories L*), marks (M*), decimal digits (Nd) and
//!   connector punctuation (Pc, such as `_`);
//! - the zero-width non-joiner and joiner (U+200C, U+200D), which Persian,
//!   Indic and other scripts need inside words;
//! - the middle dot `·` (U+00B7) when it stands between two letters, as in the
//!   Catalan `#il·lusió`.
//!
//! Anything else ends the tag: `#tag-with-hyphen` is `tag`, `#emoji😀tag` is
//! `emoji`.
//!
//! **What is rejected.**
//!
//! - A run with no letter: `#123`, `#1_2`, `#_` (numbered lists, "batch
//!   #2213"). A run that has a letter may start with digits: `#12abc`.
//! - A single character, counted after NFC normalisation (so a decomposed `ş`
//!   is one character too), unless it is a CJK ideograph, kana or a Hangul
//!   syllable, where one character is a whole word: `#猫` is kept, `#a` is not.
//! - A run longer than [`HashtagRules::max_chars`] characters (default 128,
//!   counted as written). It is not truncated: it is dropped and counted in
//!   [`Extracted::too_long`], once per occurrence. (A long run with no letter
//!   is not a candidate, so it is not counted.)
//! - A tag whose key is excluded: by default wiki markup and tool noise that
//!   looks like a hashtag ([`DEFAULT_EXCLUDED`]: `#REDIRECT`, `#switch`,
//!   `#invoke`, …). The list is configurable. Independently of that list,
//!   `temporary_batch_` followed by exactly 13 ASCII digits (the temporary
//!   QuickStatements batch tags) is always excluded.
//!
//! **Where it is not searched.** Text inside `/* … */` autocomments (every one
//! of them, each from a `/*` to the next `*/`) is section names, not tags, so
//! `/* #Section */` has none. A `/*` that is never closed is plain text and
//! is searched. The `#` right after a `*/` follows `/`, so it does not start
//! a tag either.
//!
//! **Keys and duplicates.** A tag's key is its text in Unicode NFC, lower
//! cased ([`hashtag_key`]): `#WPWP` and `#wpwp` are the same tag. Within one
//! summary each key is reported once, with the spelling of its first
//! occurrence.

use serde::Serialize;
use std::collections::HashSet;

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

use super::autocomment::{Span, find_autocomment};
use super::find_sign;

/// A hashtag as written (`text`, without `#`) and its search key (NFC + lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hashtag {
    pub text: String,
    pub key: String,
}

/// Result of scanning one summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub tags: Vec<Hashtag>,
    /// Candidates rejected for exceeding `max_chars`.
    pub too_long: u32,
}

/// Keys that are never hashtags unless the configuration replaces the list:
/// redirect keywords in several languages (`#REDIRECT [[Target]]` is quoted in
/// summaries), parser functions, and tool names that appear after `#` without
/// being a campaign tag.
pub const DEFAULT_EXCLUDED: &[&str] = &[
    "redirect",
    "weiterleitung",
    "redirection",
    "redirección",
    "doorverwijzing",
    "redirecionamento",
    "omdirigering",
    "if",
    "ifeq",
    "iferror",
    "ifexist",
    "ifexpr",
    "switch",
    "invoke",
    "rs",
    "default",
    "mw",
    "flickr2commons",
    "quickstatements",
];

/// The fixed prefix of temporary QuickStatements batch tags.
const TEMPORARY_BATCH: &str = "temporary_batch_";

#[derive(Debug, Clone)]
pub struct HashtagRules {
    /// Lowercase keys that are never hashtags.
    pub excluded: HashSet<String>,
    pub max_chars: usize,
}

impl Default for HashtagRules {
    fn default() -> Self {
        HashtagRules::with_excluded(DEFAULT_EXCLUDED)
    }
}

impl HashtagRules {
    /// Rules with the default length limit and `excluded` in place of
    /// [`DEFAULT_EXCLUDED`]. Each entry goes through [`hashtag_key`], so
    /// `REDIRECT` and `redirect` are the same entry; a leading `#` is ignored.
    pub fn with_excluded<I, S>(excluded: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        HashtagRules {
            excluded: excluded
                .into_iter()
                .map(|s| {
                    let s = s.as_ref().trim();
                    let s = s.strip_prefix(['#', '＃']).unwrap_or(s);
                    hashtag_key(s)
                })
                .filter(|k| !k.is_empty())
                .collect(),
            max_chars: 128,
        }
    }

    /// Whether a key (as made by [`hashtag_key`]) is never a hashtag.
    pub fn is_excluded(&self, key: &str) -> bool {
        self.excluded.contains(key) || is_temporary_batch(key)
    }
}

/// `temporary_batch_` and exactly 13 ASCII digits (a millisecond timestamp).
fn is_temporary_batch(key: &str) -> bool {
    key.strip_prefix(TEMPORARY_BATCH)
        .is_some_and(|d| d.len() == 13 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// NFC + lowercase.
pub fn hashtag_key(tag: &str) -> String {
    if tag.is_ascii() {
        return tag.to_ascii_lowercase();
    }
    let lower = if unicode_normalization::is_nfc(tag) {
        tag.to_lowercase()
    } else {
        tag.nfc().collect::<String>().to_lowercase()
    };
    // Lowercasing can in principle leave a sequence that composes further;
    // normalising again makes "keys are NFC" hold without exception.
    if unicode_normalization::is_nfc(&lower) {
        lower
    } else {
        lower.nfc().collect()
    }
}

/// Finds the hashtags in one edit summary.
pub fn hashtags(summary: &str, rules: &HashtagRules) -> Extracted {
    let mut out = Extracted::default();
    let bytes = summary.as_bytes();
    let mut skip = Autocomments::new(summary);
    let mut seen = Seen::default();
    let mut pos = 0;
    // Most summaries have no sign at all: the first search fails and we return
    // the empty default without allocating or decoding anything.
    while let Some((at, sign_len)) = find_sign(bytes, pos, b'#', [0xEF, 0xBC, 0x83]) {
        pos = at + sign_len;
        if !opens_tag(summary[..at].chars().next_back()) || skip.covers(at) {
            continue;
        }
        let run = scan_run(&summary[pos..]);
        let text = &summary[pos..pos + run.len];
        pos += run.len;
        if !run.has_letter {
            continue;
        }
        if run.chars > rules.max_chars {
            out.too_long = out.too_long.saturating_add(1);
            continue;
        }
        // NFC composes at most four code points into one (U+1FAF), so longer
        // runs cannot be a single character and skip the normaliser.
        if run.chars <= 8 && is_lone_character(text) {
            continue;
        }
        let key = hashtag_key(text);
        if rules.is_excluded(&key) || seen.contains(&out.tags, &key) {
            continue;
        }
        seen.insert(&out.tags, &key);
        out.tags.push(Hashtag {
            text: text.to_owned(),
            key,
        });
    }
    out
}

/// The keys already reported. A summary has a handful of tags, which a
/// linear scan handles best; past that a set keeps pathological input (a
/// megabyte of distinct tags) from going quadratic.
#[derive(Default)]
struct Seen {
    set: Option<HashSet<String>>,
}

impl Seen {
    const LINEAR_LIMIT: usize = 32;

    fn contains(&self, tags: &[Hashtag], key: &str) -> bool {
        match &self.set {
            Some(set) => set.contains(key),
            None => tags.iter().any(|t| t.key == key),
        }
    }

    /// Records `key`, about to be appended to `tags`.
    fn insert(&mut self, tags: &[Hashtag], key: &str) {
        if let Some(set) = &mut self.set {
            set.insert(key.to_owned());
        } else if tags.len() >= Self::LINEAR_LIMIT {
            let mut set: HashSet<String> = tags.iter().map(|t| t.key.clone()).collect();
            set.insert(key.to_owned());
            self.set = Some(set);
        }
    }
}

/// Whether the character before a `#` lets a tag start there.
fn opens_tag(prev: Option<char>) -> bool {
    match prev {
        None => true,
        Some(c) => {
            c.is_whitespace()
                || matches!(
                    c,
                    '(' | '"'
                        | '\''
                        | '“'
                        | '‘'
                        | '«'
                        | '「'
                        | '『'
                        | '【'
                        | '，'
                        | '、'
                        | '。'
                        | '：'
                        | '；'
                        | '！'
                        | '？'
                        | ','
                        | ';'
                        | ':'
                        | '!'
                        | '?'
                )
        }
    }
}

/// What a character contributes to a tag.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    /// Mark, decimal digit, connector punctuation, ZWNJ or ZWJ.
    Other,
    /// `·`, which belongs to the tag only between two letters.
    MiddleDot,
    Stop,
}

fn class(c: char) -> Class {
    if c.is_ascii() {
        return match c {
            'a'..='z' | 'A'..='Z' => Class::Letter,
            '0'..='9' | '_' => Class::Other,
            _ => Class::Stop,
        };
    }
    match c {
        '\u{200C}' | '\u{200D}' => return Class::Other,
        '\u{00B7}' => return Class::MiddleDot,
        _ => {}
    }
    use GeneralCategory as G;
    match get_general_category(c) {
        G::UppercaseLetter
        | G::LowercaseLetter
        | G::TitlecaseLetter
        | G::ModifierLetter
        | G::OtherLetter => Class::Letter,
        G::NonspacingMark
        | G::SpacingMark
        | G::EnclosingMark
        | G::DecimalNumber
        | G::ConnectorPunctuation => Class::Other,
        _ => Class::Stop,
    }
}

struct Run {
    /// Length in bytes.
    len: usize,
    /// Length in characters.
    chars: usize,
    has_letter: bool,
}

/// Measures the tag run at the start of `s`.
fn scan_run(s: &str) -> Run {
    let mut run = Run {
        len: 0,
        chars: 0,
        has_letter: false,
    };
    let mut prev_letter = false;
    for (i, c) in s.char_indices() {
        let is_letter = match class(c) {
            Class::Letter => true,
            Class::Other => false,
            Class::MiddleDot => {
                let next = s[i + c.len_utf8()..].chars().next();
                if !(prev_letter && next.is_some_and(|n| class(n) == Class::Letter)) {
                    break;
                }
                false
            }
            Class::Stop => break,
        };
        prev_letter = is_letter;
        run.has_letter |= is_letter;
        run.len = i + c.len_utf8();
        run.chars += 1;
    }
    run
}

/// Whether `text` is one character after NFC and not one that is a word on
/// its own (CJK ideograph, kana, Hangul syllable).
fn is_lone_character(text: &str) -> bool {
    let mut nfc = text.nfc();
    match (nfc.next(), nfc.next()) {
        (Some(c), None) => !is_word_character(c),
        _ => false,
    }
}

fn is_word_character(c: char) -> bool {
    matches!(c,
        // CJK Unified Ideographs, Extension A, compatibility ideographs.
        '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
        // Extensions B to I and the compatibility supplement (SIP and TIP).
        | '\u{20000}'..='\u{3FFFF}'
        // Hiragana, katakana, katakana extensions, half-width katakana.
        | '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}'
        | '\u{FF66}'..='\u{FF9D}'
        // Kana supplement and extensions.
        | '\u{1AFF0}'..='\u{1B16F}'
        // Hangul syllables.
        | '\u{AC00}'..='\u{D7A3}')
}

/// The autocomment spans of a summary, found lazily in increasing order.
struct Autocomments<'a> {
    s: &'a str,
    span: Option<Span>,
    from: usize,
    exhausted: bool,
}

impl<'a> Autocomments<'a> {
    fn new(s: &'a str) -> Self {
        Autocomments {
            s,
            span: None,
            from: 0,
            exhausted: false,
        }
    }

    /// Whether byte `at` lies inside an autocomment. Calls must come with
    /// increasing `at`, which lets each span be found once.
    fn covers(&mut self, at: usize) -> bool {
        loop {
            if let Some(span) = self.span {
                if at < span.end {
                    return at >= span.start;
                }
                self.from = span.end;
                self.span = None;
            }
            if self.exhausted {
                return false;
            }
            self.span = find_autocomment(self.s, self.from);
            self.exhausted = self.span.is_none();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(summary: &str) -> Vec<String> {
        hashtags(summary, &HashtagRules::default())
            .tags
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn table() {
        let long128 = "a".repeat(128);
        let cases: Vec<(&str, Vec<&str>)> = vec![
            // Examples from the specification.
            ("Added citation #1lib1ref #WPWP", vec!["1lib1ref", "WPWP"]),
            ("#wpwp #WPWP", vec!["wpwp"]),
            ("(#tag)", vec!["tag"]),
            ("#tag-with-hyphen", vec!["tag"]),
            ("#हिन्दी", vec!["हिन्दी"]),
            ("#猫", vec!["猫"]),
            ("https://x.org/#frag #real", vec!["real"]),
            ("/* #Section */ fix #x1", vec!["x1"]),
            ("{{#if: x}}", vec![]),
            // No letter, single characters.
            ("#123", vec![]),
            ("#1_2", vec![]),
            ("#a", vec![]),
            ("#_", vec![]),
            ("#ş", vec![]),
            ("#s\u{0327}", vec![]),
            ("#12abc", vec!["12abc"]),
            ("#ab", vec!["ab"]),
            (
                "#ア #ん #한 #\u{1100}\u{1161}",
                vec!["ア", "ん", "한", "\u{1100}\u{1161}"],
            ),
            ("#𠀀", vec!["𠀀"]),
            // Exclusions.
            ("#REDIRECT [[Foo]]", vec![]),
            ("#WEITERLEITUNG [[Foo]] #Redirección", vec![]),
            ("#quickstatements; #temporary_batch_1712345678901", vec![]),
            (
                "#temporary_batch_171234567890",
                vec!["temporary_batch_171234567890"],
            ),
            (
                "#temporary_batch_1712345678901a",
                vec!["temporary_batch_1712345678901a"],
            ),
            (
                "#temporary_batch_17123456789012",
                vec!["temporary_batch_17123456789012"],
            ),
            ("#Temporary_Batch_1712345678901", vec![]),
            ("#invoke:x #switch #mw #rs #default #flickr2commons", vec![]),
            // Openers that are not allowed.
            ("word#tag", vec![]),
            (".#tag", vec![]),
            ("/#tag", vec![]),
            ("[[Page#Section]]", vec![]),
            ("[[#Section]]", vec![]),
            ("&#123;", vec![]),
            ("##double", vec![]),
            ("# space", vec![]),
            ("-#tag =#tag |#tag _#tag 1#tag", vec![]),
            ("é#tag", vec![]),
            // Openers that are allowed.
            ("#tag,#other", vec!["tag", "other"]),
            (":#a1 ;#b1 !#c1 ?#d1", vec!["a1", "b1", "c1", "d1"]),
            (
                "\"#q1 '#q2 “#q3 ‘#q4 «#q5",
                vec!["q1", "q2", "q3", "q4", "q5"],
            ),
            (
                "「#j1 『#j2 【#j3 ，#j4 、#j5",
                vec!["j1", "j2", "j3", "j4", "j5"],
            ),
            ("：#k1 ；#k2 ！#k3 ？#k4", vec!["k1", "k2", "k3", "k4"]),
            ("日本語。#日本語タグ", vec!["日本語タグ"]),
            ("x\u{00a0}#a1b", vec!["a1b"]),
            ("x\u{3000}#a1b", vec!["a1b"]),
            ("x\t#a1b", vec!["a1b"]),
            ("x\n#a1b", vec!["a1b"]),
            ("x\u{2028}#a1b", vec!["a1b"]),
            ("＃全角タグ", vec!["全角タグ"]),
            ("x＃y #z1", vec!["z1"]),
            // Whole words in every script.
            ("#می\u{200c}خواهم", vec!["می\u{200c}خواهم"]),
            ("#il·lusió", vec!["il·lusió"]),
            ("#a·", vec![]),
            ("#ab·", vec!["ab"]),
            ("#ab·1", vec!["ab"]),
            ("#1·ab", vec![]),
            ("#ab··cd", vec!["ab"]),
            ("#ผู้เริ่ม", vec!["ผู้เริ่ม"]),
            ("#தமிழ்", vec!["தமிழ்"]),
            ("#মহাত্মা", vec!["মহাত্মা"]),
            (
                "#ქართული #Ελληνικά #русский",
                vec!["ქართული", "Ελληνικά", "русский"],
            ),
            ("#emoji😀tag", vec!["emoji"]),
            ("#a1\u{200d}b", vec!["a1\u{200d}b"]),
            ("#tag's", vec!["tag"]),
            ("#IABot (v2.0.9.5", vec!["IABot"]),
            ("#foo_bar‿baz", vec!["foo_bar‿baz"]),
            // Autocomments.
            ("/* a */ #x1 /* #in */ #y1", vec!["x1", "y1"]),
            ("/* a */#x1", vec![]),
            ("/* never closed #x1", vec!["x1"]),
            ("/*#in*/ #out", vec!["out"]),
            ("/*/ #in */ #out", vec!["out"]),
            ("*/ #x1 /* #y1", vec!["x1", "y1"]),
            // Duplicates keep the first spelling.
            ("#Foo #FOO #foo", vec!["Foo"]),
            ("#ÀB #àb", vec!["ÀB"]),
            // Length.
            (long128.as_str(), vec![]),
            ("", vec![]),
            ("#", vec![]),
            ("＃", vec![]),
        ];
        for (input, want) in cases {
            assert_eq!(texts(input), want, "input {input:?}");
        }
        let tagged = format!("#{long128}");
        assert_eq!(texts(&tagged), vec![long128.as_str()]);
    }

    #[test]
    fn length_limit_counts_and_never_truncates() {
        let rules = HashtagRules::default();
        let too = format!("#{} #ok1 #{}", "a".repeat(129), "б".repeat(200));
        let got = hashtags(&too, &rules);
        assert_eq!(got.too_long, 2);
        assert_eq!(got.tags.len(), 1);
        assert_eq!(got.tags[0].text, "ok1");

        let exact = format!("#{}", "ß".repeat(128));
        let got = hashtags(&exact, &rules);
        assert_eq!((got.tags.len(), got.too_long), (1, 0));

        let small = HashtagRules {
            max_chars: 3,
            ..HashtagRules::default()
        };
        let got = hashtags("#abc #abcd #abcd", &small);
        assert_eq!(got.tags.len(), 1);
        assert_eq!(got.too_long, 2);

        // A digit-only run is not a candidate, so it is not counted.
        let digits = format!("#{}", "1".repeat(300));
        assert_eq!(hashtags(&digits, &rules), Extracted::default());

        let huge = format!("#{}", "x".repeat(1_000_000));
        assert_eq!(hashtags(&huge, &rules).too_long, 1);
    }

    #[test]
    fn many_tags_stay_deduplicated() {
        let words: Vec<String> = (0..500).map(|i| format!("t{i}")).collect();
        let mut summary = words
            .iter()
            .map(|w| format!("#{w}"))
            .collect::<Vec<_>>()
            .join(" ");
        summary.push_str(" #T1 #t499 #new1");
        let got = hashtags(&summary, &HashtagRules::default());
        assert_eq!(got.tags.len(), 501);
        assert_eq!(got.tags[500].text, "new1");
        let long = "#ab ".repeat(200_000);
        assert_eq!(hashtags(&long, &HashtagRules::default()).tags.len(), 1);
    }

    #[test]
    fn keys_are_nfc_lowercase() {
        let got = hashtags("#Cafe\u{0301} #CAFÉ", &HashtagRules::default());
        assert_eq!(got.tags.len(), 1);
        assert_eq!(got.tags[0].text, "Cafe\u{0301}");
        assert_eq!(got.tags[0].key, "caf\u{e9}");
        assert_eq!(hashtag_key("WPWP"), "wpwp");
        assert_eq!(hashtag_key("ΣΟΦΊΑ"), "σοφία");
        assert_eq!(hashtag_key("İstanbul"), "i\u{307}stanbul");
        assert_eq!(hashtag_key(""), "");
    }

    #[test]
    fn excluded_list_is_configurable() {
        let rules = HashtagRules::with_excluded(["#Spam", "  Ｘmas ", ""]);
        assert!(rules.is_excluded("spam"));
        assert!(rules.is_excluded("ｘmas"));
        assert!(!rules.is_excluded(""));
        // The configured list replaces the default one...
        assert_eq!(
            texts_with("#redirect #SPAM #ok1", &rules),
            vec!["redirect", "ok1"]
        );
        // ...but temporary batch tags stay excluded.
        assert_eq!(
            texts_with("#temporary_batch_1712345678901", &rules),
            Vec::<String>::new()
        );
        // Entries are keys: NFD input matches NFC tags.
        let rules = HashtagRules::with_excluded(["Cafe\u{0301}"]);
        assert_eq!(texts_with("#café", &rules), Vec::<String>::new());
        assert_eq!(
            HashtagRules::default().excluded.len(),
            DEFAULT_EXCLUDED.len()
        );
    }

    fn texts_with(summary: &str, rules: &HashtagRules) -> Vec<String> {
        hashtags(summary, rules)
            .tags
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn default_exclusions_are_keys() {
        for e in DEFAULT_EXCLUDED {
            assert_eq!(&hashtag_key(e), e);
        }
    }

    fn check_invariants(s: &str, got: &Extracted) -> Result<(), TestCaseError> {
        let mut keys = HashSet::new();
        for t in &got.tags {
            prop_assert!(s.contains(t.text.as_str()));
            let half = format!("#{}", t.text);
            let full = format!("＃{}", t.text);
            prop_assert!(s.contains(&half) || s.contains(&full));
            prop_assert!(unicode_normalization::is_nfc(&t.key));
            prop_assert_eq!(&t.key.to_lowercase(), &t.key);
            prop_assert_eq!(&hashtag_key(&t.text), &t.key);
            prop_assert!(t.text.chars().any(char::is_alphabetic));
            prop_assert!(keys.insert(t.key.clone()), "duplicate key {}", t.key);
            prop_assert!(!HashtagRules::default().is_excluded(&t.key));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn arbitrary_strings(s in any::<String>()) {
            let got = hashtags(&s, &HashtagRules::default());
            check_invariants(&s, &got)?;
        }

        #[test]
        fn tag_soup(s in "([#＃ /*·\u{200c}\u{0301}:(]|[aAéÉ1_]|[猫ÀàΣσς]){0,40}") {
            let got = hashtags(&s, &HashtagRules::default());
            check_invariants(&s, &got)?;
        }

        #[test]
        fn plain_words_are_found(words in proptest::collection::vec("[a-zA-Z][a-zA-Z0-9_]{1,20}", 1..8)) {
            let s = words.iter().map(|w| format!("#{w}")).collect::<Vec<_>>().join(" ");
            let got = hashtags(&s, &HashtagRules::default());
            let mut want: Vec<&String> = Vec::new();
            for w in &words {
                let k = w.to_ascii_lowercase();
                let fresh = !want.iter().any(|x| x.eq_ignore_ascii_case(w));
                if fresh && !HashtagRules::default().is_excluded(&k) {
                    want.push(w);
                }
            }
            let texts: Vec<&String> = got.tags.iter().map(|t| &t.text).collect();
            prop_assert_eq!(texts, want);
        }
    }
}
