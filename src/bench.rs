//! bench: in progress.
