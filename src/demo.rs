//! `wikiwatch demo`: the whole application working offline within seconds.
//!
//! Starts the replay server on a free loopback port over the bundled real
//! recordings followed by an endless synthetic live feed, then runs the main
//! job against it exactly as `wikiwatch run` would run against Wikimedia.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::config::RunArgs;
use crate::replay::{self, Corpus, Pace, ReplayOptions, SynthFeed};

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Address for the web server.
    #[arg(long, default_value = crate::config::DEFAULT_LISTEN)]
    pub listen: String,
    /// Database; a fresh file in a temporary directory by default.
    #[arg(long)]
    pub db: Option<String>,
    /// Synthetic events per second after the recordings.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the replay server: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    App(#[from] crate::app::AppError),
}

pub async fn run(args: DemoArgs, shutdown: CancellationToken) -> Result<(), DemoError> {
    let corpus = Arc::new(Corpus::bundled());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let upstream = listener.local_addr()?;
    let options = ReplayOptions {
        pace: Pace::AsFastAsPossible,
        synth: Some(SynthFeed {
            rate: args.rate,
            seed: 1,
        }),
        ..Default::default()
    };
    let stop = shutdown.clone();
    tokio::spawn(replay::serve(listener, corpus, options, async move {
        stop.cancelled().await
    }));
    // A fresh database each time unless one is named, so the demo always
    // starts from the same state; it is removed when the demo ends.
    let dir = tempfile::Builder::new()
        .prefix("wikiwatch-demo-")
        .tempdir()?;
    let db = args.db.clone().unwrap_or_else(|| {
        format!(
            "sqlite:{}",
            PathBuf::from(dir.path()).join("demo.db").display()
        )
    });
    tracing::info!(%upstream, db = %crate::store::redact_url(&db), "demo: replay server started");
    let settings = RunArgs {
        upstream: Some(format!(
            "http://{upstream}/v2/stream/recentchange,page-links-change,page-delete,page-undelete"
        )),
        db: Some(db),
        listen: Some(args.listen.clone()),
        contact: Some("wikiwatch demo (offline)".into()),
        hashtags_include_wikidata: true,
        ..Default::default()
    }
    .resolve()?;
    crate::app::run(settings, shutdown).await?;
    drop(dir);
    Ok(())
}
