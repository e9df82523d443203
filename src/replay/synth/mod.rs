//! Deterministic synthetic EventStreams events for benchmarks, load tests and
//! the demo's live feed (event *i* is a pure function of the seed and *i*).
//!
//! - [`generator`]: `Synth`, the stream mix and each event's place and time.
//! - [`streams`]: each stream's event JSON.
//! - [`vocabulary`]: wikis, words, names, titles, summaries and links.
//! - [`random`]: the per-event random source.
//! - [`command`]: `wikiwatch synth`.

mod command;
mod generator;
mod random;
mod streams;
mod vocabulary;

pub use command::{SynthArgs, run};
pub use generator::{SYNTH_START_MS, Synth};
