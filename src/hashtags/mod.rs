//! Hashtag tracking's domain: the validated query and the rows it is
//! answered with ([`query`]), and the media check of hashtag edits
//! ([`media`], which asks the MediaWiki API). No SQL, no HTTP.

pub mod media;
pub mod query;
