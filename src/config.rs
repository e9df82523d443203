//! config: in progress.
