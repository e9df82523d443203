//! Wiring: builds the store, telemetry, web server and ingest from
//! [`Settings`] and runs them until shutdown.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::commits::Commits;
use crate::config::{LogFormat, Settings};
use crate::event::Event;
use crate::http::{AppState, Application, ServerLimits};
use crate::ingest::backoff::Backoff;
use crate::ingest::{self, IngestError, IngestOptions};
use crate::live::wikimon::WikimonContext;
use crate::live::wikimon::geoip::{GeoIp, GeoIpError};
use crate::live::wikimon::namespaces::{NamespaceRegistry, SiteinfoOptions};
use crate::store::{self, StoreError};
use crate::telemetry::Telemetry;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}; choose another address with --listen")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("web server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    GeoIp(#[from] GeoIpError),
}

/// Sets up logging once: text or JSON lines on stderr, filtered by `RUST_LOG`
/// (default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text | LogFormat::Auto => builder.try_init(),
    };
}

/// Cancels `token` on SIGINT or SIGTERM.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        token.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("stopping: writing the pending batch and its position");
        token.cancel();
    });
}

/// A progress line on a terminal while catching up; a periodic log line otherwise.
fn spawn_progress(telemetry: Arc<Telemetry>, interactive: bool, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(if interactive {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(60)
        });
        tick.tick().await;
        let mut last_total = telemetry.total_events();
        let mut last_at = std::time::Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            let total = telemetry.total_events();
            let secs = last_at.elapsed().as_secs_f64().max(1e-3);
            let rate = (total - last_total) as f64 / secs;
            last_total = total;
            last_at = std::time::Instant::now();
            let lag = telemetry
                .lag_seconds()
                .map(|l| format!("{l:.0} s"))
                .unwrap_or_else(|| "–".into());
            if interactive {
                eprint!("\r\x1b[2K{total} events, {rate:.0}/s, lag {lag}");
            } else {
                tracing::info!(events = total, events_per_second = rate as u64, lag = %lag, "progress");
            }
        }
        if interactive {
            eprintln!();
        }
    });
}

/// The WikiMon context of `run`: `--geoip` files opened, and with
/// `--siteinfo-api` a background learner (cached in `store`) that stops at
/// `shutdown`.
fn wikimon_context(
    settings: &Settings,
    store: Arc<dyn store::Store>,
    shutdown: CancellationToken,
) -> Result<WikimonContext, GeoIpError> {
    let namespaces = match &settings.siteinfo_api {
        Some(api) => NamespaceRegistry::with_learner(
            SiteinfoOptions::new(api.clone(), settings.user_agent.clone()),
            Some(store),
            shutdown,
        ),
        None => Arc::new(NamespaceRegistry::builtin()),
    };
    let geoip = if settings.geoip.is_empty() {
        None
    } else {
        Some(Arc::new(GeoIp::open(settings.geoip.as_slice())?))
    };
    Ok(WikimonContext::new(namespaces, geoip))
}

/// Ingests whenever this process holds the store's ingest lease; otherwise
/// waits (serving reads meanwhile) to take over when the holder goes away.
/// A store that fails (a database restarting, a lost connection) is retried
/// for as long as the process runs, with the error in `/api/status`.
async fn ingest_while_leased(
    settings: &Settings,
    store: Arc<dyn store::Store>,
    telemetry: Arc<Telemetry>,
    commits: Arc<Commits>,
    shutdown: CancellationToken,
    live: broadcast::Sender<Arc<Event>>,
) -> Result<(), AppError> {
    let mut backoff = Backoff::jittered(Duration::from_millis(500), Duration::from_secs(15));
    loop {
        telemetry
            .ingesting
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let lease = match store.acquire_ingest_lease(shutdown.clone()).await {
            Ok(Some(lease)) => lease,
            Ok(None) => return Ok(()),
            Err(e) => {
                store_failed(&telemetry, &e, &mut backoff, &shutdown).await;
                continue;
            }
        };
        telemetry
            .ingesting
            .store(true, std::sync::atomic::Ordering::Relaxed);
        tracing::info!("holding the ingest lease; ingesting");
        let stop = CancellationToken::new();
        let relay = {
            let (stop, shutdown, lost) = (stop.clone(), shutdown.clone(), lease.lost.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = lost.cancelled() => {}
                }
                stop.cancel();
            })
        };
        let result = ingest::run(
            IngestOptions::from_settings(settings),
            Arc::clone(&store),
            Arc::clone(&telemetry),
            Arc::clone(&commits),
            stop,
            Some(live.clone()),
        )
        .await;
        relay.abort();
        let lost = lease.lost.is_cancelled();
        drop(lease);
        match result {
            Ok(()) => {
                backoff.reset();
                if shutdown.is_cancelled() || !lost {
                    return Ok(());
                }
                // The lease is lost when the database connection holding it
                // fails: a store outage, even if no write was in flight.
                telemetry
                    .store_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                telemetry.set_last_error(Some(
                    "store: the database connection holding the ingest lease failed".into(),
                ));
                tracing::warn!("lost the ingest lease; waiting to take it again");
            }
            Err(IngestError::Position(e) | IngestError::Store(e)) => {
                store_failed(&telemetry, &e, &mut backoff, &shutdown).await;
                if shutdown.is_cancelled() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Records a store failure for `/api/status` and `/metrics`, then waits out
/// the next backoff delay (or until `shutdown`).
async fn store_failed(
    telemetry: &Telemetry,
    error: &StoreError,
    backoff: &mut Backoff,
    shutdown: &CancellationToken,
) {
    telemetry
        .store_errors
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    telemetry.set_last_error(Some(format!("store: {error}")));
    let delay = backoff.next_delay();
    tracing::error!(error = %error, retry_in_ms = delay.as_millis() as u64, "the store failed; retrying");
    tokio::select! {
        _ = tokio::time::sleep(delay) => {}
        _ = shutdown.cancelled() => {}
    }
}

/// Opens the store, waiting while a PostgreSQL server cannot be reached (it
/// is starting or restarting) instead of exiting; errors that waiting cannot
/// fix (a bad URL, a failed migration, a SQLite file that cannot be opened)
/// end the start at once. `None` when asked to stop while waiting.
async fn open_store(
    url: &str,
    shutdown: &CancellationToken,
) -> Result<Option<Arc<dyn store::Store>>, StoreError> {
    let waits = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let mut backoff = Backoff::jittered(Duration::from_millis(500), Duration::from_secs(15));
    loop {
        match store::open(url).await {
            Ok(store) => return Ok(Some(store)),
            Err(e @ (StoreError::Open { .. } | StoreError::Postgres(_))) if waits => {
                let delay = backoff.next_delay();
                tracing::error!(error = %e, retry_in_ms = delay.as_millis() as u64, "cannot reach the database; waiting for it");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.cancelled() => return Ok(None),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs the main job until `shutdown`. Prints `listening on http://ADDR` on
/// stdout once the web server is bound (tests and scripts read it).
pub async fn run(settings: Settings, shutdown: CancellationToken) -> Result<(), AppError> {
    if !settings.contact_given {
        tracing::warn!(
            "no --contact given: Wikimedia's User-Agent policy asks for a way to reach you (a URL or e-mail)"
        );
    }
    let Some(store) = open_store(&settings.db, &shutdown).await? else {
        return Ok(());
    };
    let telemetry = Arc::new(Telemetry::new());
    let commits = Arc::new(Commits::new());
    let (live, _) = broadcast::channel::<Arc<Event>>(4096);
    let live_hub = crate::live::Hub::start(
        settings.live.clone(),
        Arc::new(wikimon_context(
            &settings,
            Arc::clone(&store),
            shutdown.clone(),
        )?),
        live.subscribe(),
        shutdown.clone(),
    );
    let app = Application::build(
        settings.listen,
        AppState {
            store: Arc::clone(&store),
            telemetry: Arc::clone(&telemetry),
            commits: Arc::clone(&commits),
            upstream: settings.upstream.clone(),
            links: Arc::new(crate::http::LinksConfig {
                collections: settings.link_collections.clone(),
                admin_token: settings.admin_token.clone(),
            }),
            live: live_hub,
        },
    )
    .await
    .map_err(|source| AppError::Listen {
        addr: settings.listen,
        source,
    })?
    .with_limits({
        let mut limits = ServerLimits {
            max_connections: settings.http_max_connections,
            header_read_timeout: settings.http_header_timeout,
            ..ServerLimits::default()
        };
        if let Some(n) = settings.read_concurrency {
            limits.read_budget.concurrent = n;
        }
        limits
    });
    let addr = app.local_addr().map_err(AppError::Serve)?;
    println!("listening on http://{addr}");
    tracing::info!(%addr, db_backend = store.backend(), upstream = %settings.upstream, "wikiwatch started");

    let server_stop = CancellationToken::new();
    let server = tokio::spawn(app.run(server_stop.clone()));
    let interactive = settings.log_format == LogFormat::Auto && std::io::stderr().is_terminal();
    spawn_progress(Arc::clone(&telemetry), interactive, shutdown.clone());
    if let Some(api) = &settings.media_api {
        let opts =
            crate::hashtags::media::MediaOptions::new(api.clone(), settings.user_agent.clone());
        tokio::spawn(crate::hashtags::media::run(
            opts,
            Arc::clone(&store),
            shutdown.clone(),
        ));
    }

    let result = ingest_while_leased(&settings, store, telemetry, commits, shutdown, live).await;
    server_stop.cancel();
    let served = server.await;
    result?;
    match served {
        Ok(r) => r.map_err(AppError::Serve),
        Err(e) => Err(AppError::Serve(std::io::Error::other(e))),
    }
}
