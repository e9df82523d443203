//! Autocomments: the `/* … */` part of an edit summary.
//!
//! When someone edits one section of a page, MediaWiki pre-fills the summary
//! with `/* Section name */`; wikis render it as a link to that section.
//! Wikibase (Wikidata, Commons structured data) uses the same syntax for
//! machine-readable comments such as `/* wbsetclaim-create:2||1 */`, which
//! name the API action rather than a section.
//!
//! Rules:
//!
//! - The autocomment is the **first** `/*` and the **next** `*/` after it
//!   (non-greedy): in `/* A */ b /* C */ d` the section is `A`. The `*/` must
//!   come after the `/*`, so `/*/` does not close itself.
//! - A `/*` with no `*/` after it is ordinary text: there is no autocomment.
//! - The content is trimmed of whitespace. Empty content (`/* */`) gives no
//!   section.
//! - Content that starts with `wb`, then one or more of `a-z` and `-`, then
//!   `:` is a Wikibase machine comment: [`Autocomment::machine`] holds the key
//!   before the `:` (`wbsetclaim-create`) and there is no section.
//! - [`Autocomment::rest`] is the summary without that first autocomment
//!   (WikiMon's `parsed_summary`), trimmed. Where the autocomment sat between
//!   two pieces of text, the whitespace around it collapses to one space, so
//!   `a /* B */ c` gives `a c` rather than `a  c`.
//! - Only the first autocomment is removed from `rest`; later ones stay.
//!   (Hashtag extraction, by contrast, skips every autocomment.)

/// The first autocomment of a summary, and the summary without it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Autocomment {
    pub section: Option<String>,
    pub machine: Option<String>,
    pub rest: String,
}

/// Byte offsets of one `/* … */` in a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// Offset of the `/*`.
    pub start: usize,
    /// Offset just past the `*/`.
    pub end: usize,
}

impl Span {
    /// The text between the delimiters, untrimmed.
    fn inner(self, s: &str) -> &str {
        // Both bounds sit next to ASCII delimiters, so they are char boundaries.
        s.get(self.start + 2..self.end - 2).unwrap_or_default()
    }
}

/// The first complete `/* … */` starting at or after byte `from`.
///
/// `None` also means no later one exists: if no `*/` follows the first `/*`,
/// none follows any later `/*` either. Callers rely on this to stop searching.
pub(crate) fn find_autocomment(s: &str, from: usize) -> Option<Span> {
    let open = from + s.get(from..)?.find("/*")?;
    let body = open + 2;
    let close = body + s.get(body..)?.find("*/")?;
    Some(Span {
        start: open,
        end: close + 2,
    })
}

/// Splits off the first autocomment of `summary`.
pub fn autocomment(summary: &str) -> Autocomment {
    let Some(span) = find_autocomment(summary, 0) else {
        return Autocomment {
            section: None,
            machine: None,
            rest: summary.trim().to_owned(),
        };
    };
    let content = span.inner(summary).trim();
    let (section, machine) = match machine_key(content) {
        Some(key) => (None, Some(key.to_owned())),
        None if content.is_empty() => (None, None),
        None => (Some(content.to_owned()), None),
    };
    let before = summary[..span.start].trim();
    let after = summary[span.end..].trim();
    let rest = match (before.is_empty(), after.is_empty()) {
        (true, _) => after.to_owned(),
        (false, true) => before.to_owned(),
        (false, false) => {
            let mut r = String::with_capacity(before.len() + 1 + after.len());
            r.push_str(before);
            r.push(' ');
            r.push_str(after);
            r
        }
    };
    Autocomment {
        section,
        machine,
        rest,
    }
}

/// `wbsetclaim-create` from `wbsetclaim-create:1||1`; `None` unless the
/// content has the Wikibase shape `wb[a-z-]+:`.
fn machine_key(content: &str) -> Option<&str> {
    let (key, _) = content.split_once(':')?;
    let tail = key.strip_prefix("wb")?;
    let ok = !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    ok.then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ac(section: Option<&str>, machine: Option<&str>, rest: &str) -> Autocomment {
        Autocomment {
            section: section.map(str::to_owned),
            machine: machine.map(str::to_owned),
            rest: rest.to_owned(),
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, Autocomment)] = &[
            (
                "/* Introduction */ fixed #typo",
                ac(Some("Introduction"), None, "fixed #typo"),
            ),
            ("/* A */ b /* C */ d", ac(Some("A"), None, "b /* C */ d")),
            ("/* Career */", ac(Some("Career"), None, "")),
            ("/* Episodes */Add", ac(Some("Episodes"), None, "Add")),
            ("/* Albums & EP's */", ac(Some("Albums & EP's"), None, "")),
            ("  /*   spaced   */  x  ", ac(Some("spaced"), None, "x")),
            ("a /* B */ c", ac(Some("B"), None, "a c")),
            ("text before /* B */", ac(Some("B"), None, "text before")),
            ("/* */ only rest", ac(None, None, "only rest")),
            ("/**/", ac(None, None, "")),
            (
                "/* wbsetclaim-create:1||1 */ [[Property:P31]]: [[Q5]]",
                ac(None, Some("wbsetclaim-create"), "[[Property:P31]]: [[Q5]]"),
            ),
            (
                "/* wbeditentity-create-item:0| */",
                ac(None, Some("wbeditentity-create-item"), ""),
            ),
            (
                "/* wbcreateclaim-create:1| */ x",
                ac(None, Some("wbcreateclaim-create"), "x"),
            ),
            // Not machine comments: no tail, uppercase, or no colon.
            ("/* wb: x */", ac(Some("wb: x"), None, "")),
            ("/* wbSet:1 */", ac(Some("wbSet:1"), None, "")),
            ("/* wbsetclaim */", ac(Some("wbsetclaim"), None, "")),
            ("/* History: early */", ac(Some("History: early"), None, "")),
            // Unterminated: plain text.
            ("/* never closed", ac(None, None, "/* never closed")),
            ("x /*/ y", ac(None, None, "x /*/ y")),
            ("/*/", ac(None, None, "/*/")),
            ("/*/ a */", ac(Some("/ a"), None, "")),
            ("", ac(None, None, "")),
            ("  plain summary ", ac(None, None, "plain summary")),
            ("*/ then /* x */", ac(Some("x"), None, "*/ then")),
        ];
        for (input, want) in cases {
            assert_eq!(&autocomment(input), want, "input {input:?}");
        }
    }

    #[test]
    fn spans() {
        assert_eq!(
            find_autocomment("a/*b*/c", 0),
            Some(Span { start: 1, end: 6 })
        );
        assert_eq!(find_autocomment("a/*b*/c", 2), None);
        assert_eq!(find_autocomment("a/*b*/c", 99), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_rest_is_trimmed(s in any::<String>()) {
            let a = autocomment(&s);
            prop_assert_eq!(a.rest.trim(), a.rest.as_str());
            prop_assert!(a.section.is_none() || a.machine.is_none());
        }

        #[test]
        fn delimiter_soup_never_panics(s in "[/* a:wb\u{e9}-]{0,40}") {
            let a = autocomment(&s);
            if let Some(sec) = &a.section {
                prop_assert!(s.contains(sec.as_str()));
            }
        }
    }
}
