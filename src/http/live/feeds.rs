//! The live feeds, all from the hub:
//!
//! - `GET /live`: WebSocket of native JSON messages with server-side filters
//!   (query parameters, replaced by a `{"type":"subscribe", …}` message);
//!   the same path without a WebSocket upgrade serves the live page.
//! - `GET /v2/stream/recentchange`: the same messages as SSE in
//!   EventStreams framing; `id:` works as `Last-Event-ID`.
//! - `GET /v2/`, `/v2/{lang}`, `/v2/{lang}/`: WikiMon v2 WebSocket of one
//!   Wikipedia; an unknown language is closed with code 4004.
//!
//! Every message a connection sends comes from the hub (shared bytes) or is
//! a control message of its own (`subscribed`, `heartbeat`, `lagged`,
//! `resume_gap`, `error`); client text is never echoed.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::WaitForCancellationFutureOwned;

use super::pages::live_page;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::live::filter::{Filter, FilterError};
use crate::live::hub::{Gap, Hub, IpGuard, Subscription, Want};
use crate::live::native::control;
use crate::live::wikimon;

/// WebSocket close code for an unknown WikiMon language (as WikiMon used).
pub const CLOSE_UNKNOWN_LANGUAGE: u16 = 4004;

/// WebSocket close code for a client disconnected for staying behind.
pub const CLOSE_LAGGED: u16 = 4008;

/// Messages taken from the queue per write (then one flush).
const BATCH: usize = 64;

fn bad_filter(e: FilterError) -> Response {
    ApiError::bad(e.parameter, e.message).into_response()
}

fn too_many(e: crate::live::hub::TooMany) -> Response {
    ApiError::from(e).into_response()
}

fn parse_since(v: &str, parameter: &str) -> Result<u64, FilterError> {
    v.trim().parse::<u64>().map_err(|_| FilterError {
        parameter: parameter.into(),
        message: format!("{parameter} must be the id of a message from this feed, not {v:?}"),
    })
}

/// Filter and `since` from the query string.
fn filter_from_query(q: &Option<String>) -> Result<(Filter, Option<u64>), FilterError> {
    let p = Params::decode(q.as_deref());
    let filter = Filter::parse(
        p.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["since"],
    )?;
    let since = match p.pairs().iter().rfind(|(k, _)| k == "since") {
        Some((_, v)) => Some(parse_since(v, "since")?),
        None => None,
    };
    Ok((filter, since))
}

fn gap_message(g: &Gap) -> Utf8Bytes {
    control(
        "resume_gap",
        json!({
            "since": g.since,
            "oldest_id": g.oldest,
            "message": "the requested id is older than the resume window; messages between it and oldest_id are lost",
        }),
    )
}

fn lagged_message(missed: u64, disconnecting: bool) -> Utf8Bytes {
    control(
        "lagged",
        json!({
            "missed": missed,
            "disconnecting": disconnecting,
            "message": if disconnecting {
                "this client stayed behind the feed and is disconnected"
            } else {
                "this client could not keep up; missed messages were dropped"
            },
        }),
    )
}

/// `GET /live`: the WebSocket feed, or the live page without an upgrade.
pub async fn live(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Response {
    let Ok(ws) = ws else {
        return live_page(&state);
    };
    let (filter, since) = match filter_from_query(&q) {
        Ok(x) => x,
        Err(e) => return bad_filter(e),
    };
    let hub = Arc::clone(&state.live);
    let guard = match hub.admit(addr.ip()) {
        Ok(g) => g,
        Err(e) => return too_many(e),
    };
    tune(ws).on_upgrade(move |socket| native_socket(socket, hub, filter, since, guard))
}

/// Small read buffers: clients send little, and 10,000 sockets add up.
fn tune(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(4096).write_buffer_size(16 * 1024)
}

/// Feeds and flushes `msgs`, giving up when `kicked` fires first.
async fn send_all(
    socket: &mut WebSocket,
    msgs: impl IntoIterator<Item = Message>,
    kicked: Pin<&mut WaitForCancellationFutureOwned>,
) -> bool {
    let write = async {
        for m in msgs {
            socket.feed(m).await?;
        }
        socket.flush().await
    };
    tokio::select! {
        r = write => r.is_ok(),
        _ = kicked => false,
    }
}

/// Heartbeats for a connection: a tick that only fires when nothing was sent
/// for a whole period. Noting each send is a clock read; resetting a timer
/// per message would touch the timer wheel a thousand times per event at
/// full fan-out.
struct Quiet {
    interval: tokio::time::Interval,
    period: Duration,
    last_sent: Instant,
}

impl Quiet {
    fn new(period: Duration) -> Quiet {
        let mut interval = tokio::time::interval_at(Instant::now() + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Quiet {
            interval,
            period,
            last_sent: Instant::now(),
        }
    }

    fn sent(&mut self) {
        self.last_sent = Instant::now();
    }

    /// Resolves when a heartbeat is due.
    async fn due(&mut self) {
        loop {
            self.interval.tick().await;
            if self.last_sent.elapsed() + Duration::from_millis(1) >= self.period {
                return;
            }
        }
    }
}

/// Says goodbye to a client the hub disconnected, without waiting long on it.
async fn close_lagged(socket: &mut WebSocket, sub: &Subscription, native: bool) {
    let missed = sub.sub.take_missed();
    let bye = async {
        if native {
            socket
                .feed(Message::Text(lagged_message(missed, true)))
                .await?;
        }
        socket
            .send(Message::Close(Some(CloseFrame {
                code: CLOSE_LAGGED,
                reason: "lagged".into(),
            })))
            .await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), bye).await;
}

async fn native_socket(
    mut socket: WebSocket,
    hub: Arc<Hub>,
    filter: Filter,
    since: Option<u64>,
    _guard: IpGuard,
) {
    let hello = control(
        "subscribed",
        json!({"filter": &filter, "last_id": hub.last_id()}),
    );
    let mut sub = hub.subscribe(Want::Native(Arc::new(filter).into()), since);
    let kicked = sub.sub.kicked.clone();
    let mut kicked_wait = std::pin::pin!(kicked.clone().cancelled_owned());
    let mut first = vec![Message::Text(hello)];
    if let Some(g) = &sub.gap {
        first.push(Message::Text(gap_message(g)));
    }
    let replay = std::mem::take(&mut sub.replay);
    first.extend(replay.iter().map(|i| Message::Text(i.json.clone())));
    drop(replay);
    if !send_all(&mut socket, first, kicked_wait.as_mut()).await {
        if kicked.is_cancelled() {
            close_lagged(&mut socket, &sub, true).await;
        }
        return;
    }
    let mut quiet = Quiet::new(hub.options.heartbeat);
    loop {
        let out: Vec<Message> = tokio::select! {
            biased;
            _ = kicked_wait.as_mut() => {
                close_lagged(&mut socket, &sub, true).await;
                return;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(t))) => match subscribe_request(t.as_str()) {
                    // Anything but a subscribe message is ignored, never echoed.
                    None => continue,
                    Some(Ok(f)) => {
                        let ack = control("subscribed", json!({"filter": &f, "last_id": hub.last_id()}));
                        sub.sub.set_filter(f);
                        vec![Message::Text(ack)]
                    }
                    Some(Err(e)) => vec![Message::Text(control(
                        "error",
                        json!({"error": e.message, "parameter": e.parameter}),
                    ))],
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            item = sub.rx.recv() => {
                let Some(item) = item else { return };
                let mut out = vec![Message::Text(item.json.clone())];
                while out.len() < BATCH {
                    match sub.rx.try_recv() {
                        Ok(i) => out.push(Message::Text(i.json.clone())),
                        Err(_) => break,
                    }
                }
                let missed = sub.sub.take_missed();
                if missed > 0 {
                    out.push(Message::Text(lagged_message(missed, false)));
                }
                out
            }
            _ = quiet.due() => vec![Message::Text(control("heartbeat", hub.heartbeat_json()))],
        };
        if !send_all(&mut socket, out, kicked_wait.as_mut()).await {
            if kicked.is_cancelled() {
                close_lagged(&mut socket, &sub, true).await;
            }
            return;
        }
        quiet.sent();
    }
}

/// `Some` for a `{"type":"subscribe", …}` message, `None` for anything else.
fn subscribe_request(text: &str) -> Option<Result<Filter, FilterError>> {
    let v: Value = serde_json::from_str(text).ok()?;
    let o = v.as_object()?;
    if o.get("type").and_then(Value::as_str) != Some("subscribe") {
        return None;
    }
    Some(Filter::from_json(o))
}

/// `GET /v2/stream/recentchange`: SSE in EventStreams framing.
pub async fn sse(
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let (filter, mut since) = match filter_from_query(&q) {
        Ok(x) => x,
        Err(e) => return bad_filter(e),
    };
    if let Some(v) = headers.get("last-event-id").and_then(|v| v.to_str().ok())
        && !v.trim().is_empty()
    {
        match parse_since(v, "Last-Event-ID") {
            Ok(n) => since = Some(n),
            Err(e) => return bad_filter(e),
        }
    }
    let hub = Arc::clone(&state.live);
    let guard = match hub.admit(addr.ip()) {
        Ok(g) => g,
        Err(e) => return too_many(e),
    };
    let mut sub = hub.subscribe(Want::Native(Arc::new(filter).into()), since);
    let mut pending: VecDeque<Bytes> = VecDeque::new();
    pending.push_back(Bytes::from_static(b": connected\n\n"));
    if let Some(g) = &sub.gap {
        pending.push_back(sse_frame("resume_gap", gap_message(g).as_str()));
    }
    pending.extend(
        std::mem::take(&mut sub.replay)
            .iter()
            .map(|i| i.sse.clone()),
    );
    let quiet = Quiet::new(hub.options.heartbeat);
    let state = SseState {
        hub,
        sub,
        pending,
        quiet,
        done: false,
        _guard: guard,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(b) = s.pending.pop_front() {
                s.quiet.sent();
                return Some((Ok::<Bytes, std::convert::Infallible>(b), s));
            }
            if s.done {
                return None;
            }
            let kicked = s.sub.sub.kicked.clone();
            tokio::select! {
                biased;
                _ = kicked.cancelled() => {
                    let missed = s.sub.sub.take_missed();
                    s.pending.push_back(sse_frame("lagged", lagged_message(missed, true).as_str()));
                    s.done = true;
                }
                item = s.sub.rx.recv() => match item {
                    Some(item) => {
                        s.pending.push_back(item.sse.clone());
                        while s.pending.len() < BATCH {
                            match s.sub.rx.try_recv() {
                                Ok(i) => s.pending.push_back(i.sse.clone()),
                                Err(_) => break,
                            }
                        }
                        let missed = s.sub.sub.take_missed();
                        if missed > 0 {
                            s.pending.push_back(sse_frame("lagged", lagged_message(missed, false).as_str()));
                        }
                    }
                    None => s.done = true,
                },
                _ = s.quiet.due() => {
                    let hb = control("heartbeat", s.hub.heartbeat_json());
                    s.pending.push_back(sse_frame("heartbeat", hb.as_str()));
                }
            }
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

struct SseState {
    hub: Arc<Hub>,
    sub: Subscription,
    pending: VecDeque<Bytes>,
    quiet: Quiet,
    done: bool,
    _guard: IpGuard,
}

fn sse_frame(event: &str, data: &str) -> Bytes {
    let mut buf = Vec::with_capacity(data.len() + 32);
    crate::sse::write_event(&mut buf, event, None, data.as_bytes());
    Bytes::from(buf)
}

/// `GET /v2/`: WikiMon for English Wikipedia.
pub async fn wikimon_default(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
) -> Response {
    wikimon_upgrade(ws, addr, state, String::new())
}

/// `GET /v2/{lang}` and `/v2/{lang}/`: WikiMon for one Wikipedia.
pub async fn wikimon_lang(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    Path(lang): Path<String>,
) -> Response {
    wikimon_upgrade(ws, addr, state, lang)
}

fn wikimon_upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    addr: SocketAddr,
    state: AppState,
    lang: String,
) -> Response {
    let Ok(ws) = ws else {
        // A browser or curl hitting the WikiMon URL gets a JSON 400 that says
        // what the endpoint is, not axum's plain-text rejection.
        return ApiError::bad(
            "upgrade",
            format!(
                "/v2/{lang} is a WikiMon v2 WebSocket feed: connect with a WebSocket client \
                 (ws://…/v2/{lang}); for Server-Sent Events use /v2/stream/recentchange"
            ),
        )
        .into_response();
    };
    let hub = Arc::clone(&state.live);
    let guard = match hub.admit(addr.ip()) {
        Ok(g) => g,
        Err(e) => return too_many(e),
    };
    let wiki = wikimon::wiki_for_language(&lang);
    tune(ws).on_upgrade(move |mut socket| async move {
        let Some(wiki) = wiki else {
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code: CLOSE_UNKNOWN_LANGUAGE,
                    reason: "unknown language".into(),
                })))
                .await;
            return;
        };
        wikimon_socket(socket, hub, wiki, guard).await;
    })
}

async fn wikimon_socket(mut socket: WebSocket, hub: Arc<Hub>, wiki: String, _guard: IpGuard) {
    let mut sub = hub.subscribe(Want::Wikimon(wiki), None);
    let kicked = sub.sub.kicked.clone();
    let mut kicked_wait = std::pin::pin!(kicked.clone().cancelled_owned());
    // WikiMon clients parse every text message as an edit, so this feed sends
    // no control messages: liveness is a WebSocket ping.
    let mut quiet = Quiet::new(hub.options.heartbeat);
    loop {
        let out: Vec<Message> = tokio::select! {
            biased;
            _ = kicked_wait.as_mut() => {
                close_lagged(&mut socket, &sub, false).await;
                return;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                // WikiMon let a client's text reach everyone; here it goes nowhere.
                Some(Ok(_)) => continue,
            },
            item = sub.rx.recv() => {
                let Some(item) = item else { return };
                let mut out = Vec::new();
                let mut push = |i: &crate::live::item::Item| {
                    if let Some((_, m)) = i.wikimon(&hub.wikimon) {
                        out.push(Message::Text(m.clone()));
                    }
                };
                push(&item);
                for _ in 1..BATCH {
                    match sub.rx.try_recv() {
                        Ok(i) => push(&i),
                        Err(_) => break,
                    }
                }
                let _ = sub.sub.take_missed();
                out
            }
            _ = quiet.due() => vec![Message::Ping(Bytes::from_static(b"wikiwatch"))],
        };
        if !send_all(&mut socket, out, kicked_wait.as_mut()).await {
            if kicked.is_cancelled() {
                close_lagged(&mut socket, &sub, false).await;
            }
            return;
        }
        quiet.sent();
    }
}
