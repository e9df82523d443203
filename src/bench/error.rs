//! The error every bench returns: what stopped a measurement.

use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("ingest stopped early: {0}")]
    Ingest(String),
    #[error("live bench: {0}")]
    Live(String),
    #[error("a server under measurement: {0}")]
    Server(String),
}
