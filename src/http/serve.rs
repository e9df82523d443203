//! The HTTP server loop: connections are accepted under a cap and every
//! connection has a header-read timeout (which also ends keep-alive
//! connections left idle between requests), so idle or trickling clients
//! cannot hold the process's descriptors. A small reserve of connections past
//! the cap answers only `/healthz` and `/metrics`, so monitoring still sees
//! a full server; past the reserve a connection is closed at once. A
//! [`ReadBudget`] bounds the requests that read the store in bulk. A
//! handler that panics still answers: a 500 with a JSON body, counted in
//! `/metrics`. On
//! shutdown the loop stops accepting and gives open requests a bounded time.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use futures_util::FutureExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::read_budget::{HoldPlace, ReadBudget, ReadBudgetLimits, Refused};
use super::security_headers;
use crate::telemetry::Telemetry;

/// How many connections the server holds and for how long it waits on them.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Open connections served in full.
    pub max_connections: usize,
    /// Further connections that may ask only for `/healthz` and `/metrics`.
    pub health_reserve: usize,
    /// Longest wait for a request's headers, from the connection's start or
    /// from the end of the previous response.
    pub header_read_timeout: Duration,
    /// Longest wait for open requests once shutting down.
    pub shutdown_grace: Duration,
    /// Requests that read the store in bulk, at once and queued.
    pub read_budget: ReadBudgetLimits,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 10_000,
            health_reserve: 64,
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            read_budget: ReadBudgetLimits::default(),
        }
    }
}

/// Serves `router` on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    telemetry: Arc<Telemetry>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let full = Arc::new(Semaphore::new(limits.max_connections));
    let budget = ReadBudget::new(limits.read_budget.clone());
    let reserve = Arc::new(Semaphore::new(limits.health_reserve));
    let graceful = GracefulShutdown::new();
    let builder = connection_builder(limits.header_read_timeout);
    // Reserve connections exist for a monitor's quick request: a short
    // timeout keeps a flood of idle ones from holding the reserve for long.
    let reserve_builder = connection_builder(RESERVE_HEADER_READ_TIMEOUT);
    let mut last_accept_warning: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors (or another transient error): say
                    // so once a second and give connections time to close.
                    if last_accept_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        tracing::warn!(error = %e, "cannot accept a connection");
                        last_accept_warning = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => break,
        };
        let (permit, health_only) = match Arc::clone(&full).try_acquire_owned() {
            Ok(permit) => (permit, false),
            Err(_) => match Arc::clone(&reserve).try_acquire_owned() {
                Ok(permit) => (permit, true),
                // Closed at once: holding it would only cost a descriptor.
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let telemetry = Arc::clone(&telemetry);
        let budget = Arc::clone(&budget);
        let max_connections = limits.max_connections;
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            let telemetry = Arc::clone(&telemetry);
            let budget = Arc::clone(&budget);
            async move {
                if health_only && !matches!(request.uri().path(), "/healthz" | "/metrics") {
                    return Ok::<_, Infallible>(at_capacity(max_connections));
                }
                let path = request.uri().path().to_owned();
                let place = if ReadBudget::is_heavy(&path) {
                    match budget.admit().await {
                        Ok(place) => Some(place),
                        Err(refused) => {
                            telemetry.requests_shed.fetch_add(1, Ordering::Relaxed);
                            return Ok(busy(&refused));
                        }
                    }
                } else {
                    None
                };
                let handled = AssertUnwindSafe(router.oneshot(request.map(Body::new)))
                    .catch_unwind()
                    .await;
                let mut response = match handled {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => {
                        telemetry.handler_panics.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(path, "a request handler panicked; answered 500");
                        json_error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "internal error while answering this request; it has been logged"
                                .into(),
                        )
                    }
                };
                security_headers::apply(&mut response);
                if let Some(place) = place {
                    response = response.map(|body| HoldPlace::wrap(body, place));
                }
                Ok(response)
            }
        });
        let builder = if health_only {
            &reserve_builder
        } else {
            &builder
        };
        let connection = graceful.watch(
            builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned(),
        );
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::info!("stopped waiting for open connections");
        }
    }
    Ok(())
}

/// Header-read timeout of the connections past the cap.
const RESERVE_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(1);

fn connection_builder(header_read_timeout: Duration) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    builder
}

fn at_capacity(max_connections: usize) -> Response<Body> {
    let mut response = json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the server has its {max_connections} connections open; try again shortly (only /healthz and /metrics answer meanwhile)"
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

fn busy(refused: &Refused) -> Response<Body> {
    let mut response = json_error(StatusCode::SERVICE_UNAVAILABLE, refused.to_string());
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
    response
}

fn json_error(status: StatusCode, message: String) -> Response<Body> {
    let body = serde_json::json!({ "error": message });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_json_and_is_counted() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    let text = "é";
                    // The kind of slip the fuzzer found: a byte index inside a character.
                    let cut = text
                        .get(1..)
                        .map(str::len)
                        .unwrap_or_else(|| panic!("not a char boundary"));
                    cut.to_string()
                }),
            )
            .route("/healthz", axum::routing::get(|| async { "ok" }));
        let telemetry = Arc::new(Telemetry::new());
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(
            listener,
            router,
            ServerLimits::default(),
            Arc::clone(&telemetry),
            stop.clone(),
        ));
        let resp = reqwest::get(format!("http://{addr}/boom")).await.unwrap();
        assert_eq!(resp.status(), 500);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
        assert_eq!(telemetry.handler_panics.load(Ordering::Relaxed), 1);
        // The server goes on serving.
        let resp = reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        stop.cancel();
        server.await.unwrap().unwrap();
    }
}
