//! The upstream event model.
//!
//! EventStreams delivers JSON whose shape varies by stream and by era: the
//! legacy 2018 recentchange form has `meta.schema_uri` and explicit `null`s,
//! today's form has `$schema` and omits nulls, and MediaWiki 1.0.1 schemas
//! allow `type` to be a number. [`RawEvent`] is one flat, borrowed struct that
//! accepts all of them (every field optional, unknown fields ignored, numbers
//! accepted as strings), and [`RawEvent::normalize`] turns it into an owned
//! [`Event`] that the rest of the program uses.
//!
//! Normalisation is pure (no I/O); it calls into [`crate::extract`] for
//! hashtags, mentions, autocomments and the editor kind.

mod kinds;
mod lenient;
mod model;
mod normalize;
mod raw;
mod time;

pub use kinds::{ChangeKind, Stream};
pub use model::{Change, Envelope, Event, LinksChange, PageLifecycle, Performer};
pub use normalize::dbname_from_host;
pub use raw::{OldNew, RawEvent, RawLink, RawMeta, RawPerformer};
pub use time::{format_ms, parse_dt_ms, parse_time_or_epoch_ms};

use crate::extract::Rules;

/// Why an input could not become an [`Event`].
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not valid JSON for an event: {0}")]
    Json(#[from] serde_json::Error),
}

/// Parses one event's JSON bytes.
pub fn parse_raw(bytes: &[u8]) -> Result<RawEvent<'_>, EventError> {
    Ok(serde_json::from_slice(bytes)?)
}

/// Parses and normalises one event.
pub fn parse(bytes: &[u8], rules: &Rules) -> Result<Event, EventError> {
    Ok(parse_raw(bytes)?.normalize(rules))
}
