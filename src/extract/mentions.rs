//! Mentions: `@Name` in edit summaries.
//!
//! Rules:
//!
//! - A mention starts with `@` or the full-width `＠` (U+FF20) at the start of
//!   the summary or right after whitespace (any Unicode `White_Space`). An `@`
//!   inside a word, as in `a@b.com`, is not a mention.
//! - The name runs up to the next whitespace or any of `# < > [ ] | { } @`,
//!   characters that cannot appear in a MediaWiki user name or that start
//!   wiki markup.
//! - Trailing `. , ; : ! ? )` are removed, repeatedly, because they are
//!   almost always sentence punctuation (`thanks @Foo, and @Bar.`).
//! - An empty name (`@ Bar`, `@.`) is dropped.
//! - A name mentioned twice is reported once, at its first position.

use std::collections::HashSet;

use super::find_sign;

/// Names mentioned in a summary, in order of first appearance.
pub fn mentions(summary: &str) -> Vec<String> {
    let bytes = summary.as_bytes();
    let mut names: Vec<&str> = Vec::new();
    // Linear duplicate checks suit the usual handful of names; a set takes
    // over only for pathological input, which would otherwise go quadratic.
    let mut seen: Option<HashSet<&str>> = None;
    let mut pos = 0;
    // When no sign is present this loop never runs and nothing is allocated.
    while let Some((at, len)) = find_sign(bytes, pos, b'@', [0xEF, 0xBC, 0xA0]) {
        pos = at + len;
        let opens = summary[..at]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        if !opens {
            continue;
        }
        let tail = &summary[pos..];
        let run_len = tail.find(ends_name).unwrap_or(tail.len());
        pos += run_len;
        let name = tail[..run_len].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if name.is_empty() {
            continue;
        }
        let fresh = match &mut seen {
            Some(set) => set.insert(name),
            None => !names.contains(&name),
        };
        if fresh {
            names.push(name);
            if seen.is_none() && names.len() > 32 {
                seen = Some(names.iter().copied().collect());
            }
        }
    }
    names.into_iter().map(str::to_owned).collect()
}

fn ends_name(c: char) -> bool {
    c.is_whitespace() || matches!(c, '#' | '<' | '>' | '[' | ']' | '|' | '{' | '}' | '@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("@Reviewer", &["Reviewer"]),
            ("thanks @Foo, and @Bar.", &["Foo", "Bar"]),
            ("@ Bar", &[]),
            ("fix  typo", &[]),
            ("a@b.com", &[]),
            ("", &[]),
            ("@", &[]),
            ("@.", &[]),
            ("ping @Foo...!?", &["Foo"]),
            ("(cc @Foo)", &["Foo"]),
            ("cc @Foo) and @Bar);", &["Foo", "Bar"]),
            ("@Foo @Foo @foo", &["Foo", "foo"]),
            ("@Foo#bar", &["Foo"]),
            ("@Foo[[x]]", &["Foo"]),
            ("@Foo|x @Bar{ @Baz<b> @Q}", &["Foo", "Bar", "Baz", "Q"]),
            ("@Foo@Bar", &["Foo"]),
            ("@@Foo", &[]),
            ("\t@Tab\n@Newline", &["Tab", "Newline"]),
            ("x\u{00a0}@Nbsp x\u{3000}@Ideo", &["Nbsp", "Ideo"]),
            ("＠全角 and ＠Wide.", &["全角", "Wide"]),
            ("x＠y", &[]),
            ("@Jimbo_Wales @Some.User.", &["Jimbo_Wales", "Some.User"]),
            ("@Ünïcødé, @मोहन", &["Ünïcødé", "मोहन"]),
            ("@(Foo)", &["(Foo"]),
        ];
        for (input, want) in cases {
            assert_eq!(&mentions(input), want, "input {input:?}");
        }
    }

    #[test]
    fn many_names_stay_deduplicated() {
        let mut s: String = (0..100).map(|i| format!("@u{i} ")).collect();
        s.push_str("@u3 @u99, @new");
        let got = mentions(&s);
        assert_eq!(got.len(), 101);
        assert_eq!(got[100], "new");
    }

    proptest! {
        #[test]
        fn never_panics_and_names_come_from_input(s in any::<String>()) {
            let m = mentions(&s);
            for name in &m {
                prop_assert!(!name.is_empty());
                prop_assert!(s.contains(name.as_str()));
                prop_assert!(!name.contains(ends_name));
            }
        }

        #[test]
        fn sign_soup(s in "[@＠ a.,)#\u{3000}]{0,30}") {
            for name in mentions(&s) {
                prop_assert!(!name.ends_with(['.', ',', ')']));
            }
        }
    }
}
