//! telemetry: in progress.
