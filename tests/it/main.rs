//! The one integration-test binary: every black-box suite is a module here,
//! so the crate and the `wikiwatch` binary are linked once for all of them.
//! Run one suite with a name filter: `cargo test --test it -- links_e2e::`.
//! `support` holds the shared launchers (replay server, `wikiwatch run`),
//! pollers and browser/PostgreSQL helpers.

mod support;

mod cli_extract_parse;
mod demo_and_synth;
mod hardening;
mod hashtags_api;
mod hashtags_browser;
mod hashtags_media;
mod ingest_e2e;
mod links_browser;
mod links_e2e;
mod links_long_urls;
mod links_pysse;
mod links_restore;
mod links_rollup;
mod live_browser;
mod live_feeds;
mod pages;
mod pg_migrate;
mod pg_restart;
mod pg_tls;
mod readme_options;
mod replay_server;
mod store_conformance;
mod wikimon_format;
