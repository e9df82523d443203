//! http: in progress.
