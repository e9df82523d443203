//! ingest: in progress.
