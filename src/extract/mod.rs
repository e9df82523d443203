//! Extraction: pure functions from edit summaries and raw links to the facts
//! wikiwatch stores and serves. No I/O, no async, no global state: every rule
//! that can be configured arrives in [`Rules`].
//!
//! - [`hashtags`]: `#tags` in edit summaries, with the rules for what counts.
//! - [`mentions`]: `@name` mentions in edit summaries.
//! - [`autocomment`]: the `/* Section */` prefix MediaWiki adds to section
//!   edits, and the Wikibase machine comments that use the same syntax.
//! - [`editor_kind`]: IP editor, temporary account or named account.
//! - [`analyze_link`]: host, registrable domain and wrapper (library proxy,
//!   web archive) of an external link.
//!
//! Every function here accepts any string without panicking; malformed input
//! yields an empty result or, for links, an `error` field.

mod autocomment;
mod editor;
mod hashtags;
mod links;
mod mentions;

pub use autocomment::{Autocomment, autocomment};
pub use editor::{EditorKind, editor_kind};
pub use hashtags::{DEFAULT_EXCLUDED, Extracted, Hashtag, HashtagRules, hashtag_key, hashtags};
pub use links::{
    DEFAULT_PROXY_SUFFIXES, LinkInfo, LinkRules, Unwrapped, Wrapper, WrapperKind, analyze_link,
    host_matches_domain, reversed_host, unwrap_url,
};
pub use mentions::mentions;

/// Every configurable extraction rule, built once from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub hashtags: HashtagRules,
    pub links: LinkRules,
}

/// Finds the next `ascii` sign or its full-width form (given as its UTF-8
/// bytes) at or after byte `from`, returning its byte offset and length.
///
/// Works on bytes because both signs are rare and a byte search lets the
/// common case (no sign at all) finish without decoding a single character.
/// Offsets returned are always on character boundaries: an ASCII byte and a
/// UTF-8 lead byte can only start a character.
fn find_sign(bytes: &[u8], from: usize, ascii: u8, wide: [u8; 3]) -> Option<(usize, usize)> {
    let mut i = from;
    while let Some(off) = bytes
        .get(i..)?
        .iter()
        .position(|&b| b == ascii || b == wide[0])
    {
        let at = i + off;
        if bytes[at] == ascii {
            return Some((at, 1));
        }
        if bytes.get(at..at + 3) == Some(&wide[..]) {
            return Some((at, 3));
        }
        i = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_sign_finds_both_forms_and_skips_lookalikes() {
        let wide = [0xEF, 0xBC, 0x83]; // ＃
        let s = "a，b＃c#d";
        let b = s.as_bytes();
        let (at, len) = find_sign(b, 0, b'#', wide).unwrap();
        assert_eq!((&s[at..at + len], len), ("＃", 3));
        let (at2, len2) = find_sign(b, at + len, b'#', wide).unwrap();
        assert_eq!((&s[at2..at2 + len2], len2), ("#", 1));
        assert_eq!(find_sign(b, at2 + 1, b'#', wide), None);
        assert_eq!(find_sign(b"", 0, b'#', wide), None);
        assert_eq!(find_sign(b"#", 5, b'#', wide), None);
    }
}
