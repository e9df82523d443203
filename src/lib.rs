//! wikiwatch watches every Wikimedia wiki in real time and serves three jobs
//! from one ingest of Wikimedia EventStreams: hashtag tracking, live edit
//! feeds, and a log of external links added and removed.
//!
//! The modules follow the data flow:
//!
//! - [`sse`]: the Server-Sent Events parser and writer.
//! - [`event`]: the upstream event model and its normalisation.
//! - [`extract`]: pure rules for hashtags, mentions, autocomments, editors and links.
//! - [`ingest`]: the upstream client and the pipeline that batches events into the store.
//! - [`commits`]: the commit bus: committed batches and the stream position.
//! - [`store`]: the `Store` trait and its SQLite and PostgreSQL backends; the only module with SQL.
//! - [`hashtags`]: the hashtag query and its rows; `hashtags::media`: which hashtag
//!   edits added images, videos or audio (MediaWiki API).
//! - [`links`]: the link filter, reports and the rollup planning rule.
//! - [`live`]: live feeds: the fan-out hub, filters, resume buffer, statistics,
//!   the native and WikiMon v2 formats.
//! - [`http`]: the web server (status, metrics, API, pages).
//! - [`replay`]: a local EventStreams server over recorded and synthetic events
//!   (`replay::synth`: a deterministic generator of realistic events).
//! - [`telemetry`]: named counters shared by every stage.
//! - [`address_cap`]: concurrent connections per client address, capped.
//! - [`clock`]: the wall clock every stage reads.
//! - [`cursor`]: the keyset cursor of every newest-first listing.
//! - [`config`]: configuration from flags, environment and a TOML file.
//! - [`app`]: wiring: builds the stages and runs them until shutdown.
//! - [`cli`]: the command-line interface.
//! - [`demo`]: the replay server and the app together, offline.
//! - [`bench`]: throughput benchmarks with both sides of each ratio in one run.

pub mod address_cap;
pub mod app;
pub(crate) mod bench;
pub mod cli;
pub mod clock;
pub mod commits;
pub mod config;
pub mod cursor;
pub(crate) mod demo;
pub mod event;
pub mod extract;
pub mod hashtags;
pub mod http;
pub mod ingest;
pub mod links;
pub mod live;
pub(crate) mod replay;
pub mod sse;
pub mod store;
pub mod telemetry;
