//! store: in progress.
