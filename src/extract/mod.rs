//! Extraction: pure functions from edit summaries and raw links to the facts
//! wikiwatch stores and serves. No I/O, no async, no global state: every rule
//! that can be configured arrives in [`Rules`].

mod autocomment;
mod editor;
mod hashtags;
mod links;
mod mentions;

pub use autocomment::{Autocomment, autocomment};
pub use editor::{EditorKind, editor_kind};
pub use hashtags::{Extracted, Hashtag, HashtagRules, hashtag_key, hashtags};
pub use links::{LinkInfo, LinkRules, Wrapper, WrapperKind, analyze_link, reversed_host};
pub use mentions::mentions;

/// Every configurable extraction rule, built once from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub hashtags: HashtagRules,
    pub links: LinkRules,
}
