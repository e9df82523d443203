//! XML output: characters XML 1.0 forbids (controls other than tab, LF and
//! CR, and U+FFFE / U+FFFF) are removed, so one edit summary holding such a
//! character cannot make a whole feed unreadable. Escaping of markup is the
//! templates' job; this is the last step before a document is sent.

/// Whether XML 1.0 allows `c` in a document.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Removes every character XML 1.0 forbids.
pub fn without_forbidden_chars(mut document: String) -> String {
    if !document.chars().all(allowed) {
        document.retain(allowed);
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_non_characters_are_removed_the_rest_kept() {
        let raw = "a\u{0}b\u{1}c\u{8}d\u{B}e\u{C}f\u{1F}g\u{FFFE}h\u{FFFF}i\tj\nk\rl é 🙂";
        assert_eq!(
            without_forbidden_chars(raw.into()),
            "abcdefghi\tj\nk\rl é 🙂"
        );
    }
}
