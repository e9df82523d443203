//! app: in progress.
