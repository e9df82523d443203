//! `wikiwatch bench live`: a load generator for the live feeds, on the same
//! machine as the server.
//!
//! It starts a replay server (recorded events paced at `--rate` per second,
//! then an endless synthetic tail at the same rate) and `wikiwatch run` on it
//! as child processes, then, in this process:
//!
//! 1. holds `--subscribers` WebSocket connections to `/live`, all but 1 % with
//!    a narrow filter (one wiki), and reads the server's resident memory
//!    (`VmRSS` in `/proc/PID/status`);
//! 2. connects `--fanout` subscribers without a filter and measures delivery
//!    latency (receive time minus the hub's `published_us`; one clock, one
//!    machine) for `--seconds`;
//! 3. does the same with `--stalled` clients attached that never read (their
//!    receive buffer is 4 KiB, so they stall at once);
//! 4. repeats phase 2 without them, as a control for the time that passed.
//!
//! The subscribers read frames with a few lines of hand-written parsing
//! rather than a WebSocket library: the load generator shares the machine's
//! two cores with the server, and the less it spends the more the latency
//! figure is the server's.
//!
//! The server is started with `--live-max-per-ip` above the connection count,
//! since every client comes from 127.0.0.1. 10,000 sockets need file
//! descriptors on both sides: the soft `ulimit -n` must exceed the count (the
//! bench says so and stops when it does not).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::Mutex;

use super::child::ChildServer;
use super::error::BenchError;
use crate::clock::now_us;

#[derive(Args, Debug, Clone)]
pub struct LiveBenchArgs {
    /// Subscribers held for the memory figure (most with a narrow filter).
    #[arg(long, default_value_t = 10_000)]
    pub subscribers: usize,
    /// Subscribers receiving every event for the latency figures.
    #[arg(long, default_value_t = 1_000)]
    pub fanout: usize,
    /// Clients that never read, attached in the last phase.
    #[arg(long, default_value_t = 100)]
    pub stalled: usize,
    /// Events per second fed to the server.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds each latency phase is measured.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Print the result as one JSON object too.
    #[arg(long)]
    pub json: bool,
}

/// The server's `/api/live/stats`.
async fn live_stats(addr: &str) -> Result<serde_json::Value, BenchError> {
    reqwest::get(format!("http://{addr}/api/live/stats"))
        .await
        .map_err(|e| BenchError::Live(e.to_string()))?
        .json()
        .await
        .map_err(|e| BenchError::Live(e.to_string()))
}

/// Latencies (µs) recorded by the readers while `recording` is set.
#[derive(Default)]
struct Recorder {
    samples: Mutex<Vec<u32>>,
    received: AtomicU64,
    lagged: AtomicU64,
    /// Connections that failed even after retrying.
    failed: AtomicU64,
}

fn published_us(text: &str) -> Option<i64> {
    let at = text.find("\"published_us\":")? + "\"published_us\":".len();
    let digits: &str = &text[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// Opens a WebSocket to `url` (`ws://host:port/path`) with a bare handshake;
/// returns the stream and any bytes that followed the 101 response.
async fn ws_handshake(url: &str) -> std::io::Result<(tokio::net::TcpStream, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| bad(format!("not a ws:// URL: {url}")))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            if !buf.starts_with(b"HTTP/1.1 101") {
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                return Err(bad(format!("no upgrade: {head}")));
            }
            return Ok((stream, buf.split_off(end + 4)));
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(bad("closed during the handshake".into()));
        }
    }
}

/// One complete server frame at the start of `buf`: (opcode, payload range,
/// frame length), or `None` when more bytes are needed.
fn next_frame(buf: &[u8]) -> Option<(u8, std::ops::Range<usize>, usize)> {
    let (&b0, &b1) = (buf.first()?, buf.get(1)?);
    let (len, mut header) = match b1 & 0x7f {
        126 => (u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]) as usize, 4),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
        }
        n => (n as usize, 2),
    };
    if b1 & 0x80 != 0 {
        header += 4;
    }
    let total = header + len;
    (buf.len() >= total).then_some((b0 & 0x0f, header..total, total))
}

/// A subscriber of the load generator. It parses frames by hand instead of
/// through a WebSocket library, so that the client side of the measurement
/// costs as little of the shared two cores as it can: the figure should be
/// the server's.
async fn reader(
    url: String,
    rec: Arc<Recorder>,
    recording: Arc<AtomicBool>,
    stop: tokio_util::sync::CancellationToken,
) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    // A burst of connections can overflow the listen backlog: retry a few times.
    let mut attempt = 0;
    let (mut stream, mut buf) = loop {
        match ws_handshake(&url).await {
            Ok(open) => break open,
            Err(e) if attempt >= 5 => {
                rec.failed.fetch_add(1, Ordering::Relaxed);
                return Err(e.to_string());
            }
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(250 * attempt)).await;
            }
        }
    };
    let mut local = Vec::new();
    'read: loop {
        let mut at = 0;
        while let Some((opcode, payload, len)) = next_frame(&buf[at..]) {
            let body = &buf[at + payload.start..at + payload.end];
            at += len;
            match opcode {
                // Text (never fragmented by the server).
                1 => {
                    let text = String::from_utf8_lossy(body);
                    if let Some(p) = published_us(&text) {
                        rec.received.fetch_add(1, Ordering::Relaxed);
                        if recording.load(Ordering::Relaxed) {
                            local.push((now_us() - p).clamp(0, u32::MAX as i64) as u32);
                        }
                    } else if text.contains("\"kind\":\"lagged\"") {
                        rec.lagged.fetch_add(1, Ordering::Relaxed);
                    }
                }
                8 => break 'read,
                _ => {}
            }
        }
        buf.drain(..at);
        buf.reserve(16 * 1024);
        let n = tokio::select! {
            _ = stop.cancelled() => break,
            n = stream.read_buf(&mut buf) => n,
        };
        match n {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    rec.samples.lock().await.extend(local);
    Ok(())
}

/// A client that completes the handshake and then never reads.
async fn stalled_client(addr: &str) -> Result<impl Send, String> {
    let sock = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    sock.set_recv_buffer_size(4096).map_err(|e| e.to_string())?;
    let sa: std::net::SocketAddr = addr.parse().map_err(|e| format!("{e}"))?;
    let stream = sock.connect(sa).await.map_err(|e| e.to_string())?;
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/live"), stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

#[derive(Debug, serde::Serialize)]
pub struct Phase {
    pub name: String,
    pub subscribers: usize,
    pub messages: u64,
    /// Messages per second each subscriber received while measured.
    pub per_subscriber_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub lagged_notices: u64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

async fn connect_many(
    urls: Vec<String>,
    rec: &Arc<Recorder>,
    recording: &Arc<AtomicBool>,
    stop: &tokio_util::sync::CancellationToken,
) -> Vec<tokio::task::JoinHandle<Result<(), String>>> {
    let mut handles = Vec::with_capacity(urls.len());
    for chunk in urls.chunks(100) {
        for url in chunk {
            handles.push(tokio::spawn(reader(
                url.clone(),
                Arc::clone(rec),
                Arc::clone(recording),
                stop.clone(),
            )));
        }
        // Lets the server accept a chunk before the next, as clients would arrive.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handles
}

async fn latency_phase(
    name: &str,
    base: &str,
    n: usize,
    seconds: u64,
    stalled: usize,
    addr: &str,
) -> Result<Phase, BenchError> {
    let mut stuck = Vec::new();
    for _ in 0..stalled {
        stuck.push(
            stalled_client(addr)
                .await
                .map_err(|e| BenchError::Live(format!("stalled client: {e}")))?,
        );
    }
    let rec = Arc::new(Recorder::default());
    let recording = Arc::new(AtomicBool::new(false));
    let stop = tokio_util::sync::CancellationToken::new();
    let urls = vec![format!("{base}/live"); n];
    let handles = connect_many(urls, &rec, &recording, &stop).await;
    // Warm up: every reader connected and receiving.
    tokio::time::sleep(Duration::from_secs(3)).await;
    recording.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    recording.store(false, Ordering::Relaxed);
    stop.cancel();
    for h in handles {
        let _ = h.await;
    }
    drop(stuck);
    let mut s = std::mem::take(&mut *rec.samples.lock().await);
    s.sort_unstable();
    Ok(Phase {
        name: name.into(),
        subscribers: n,
        messages: s.len() as u64,
        per_subscriber_rate: s.len() as f64 / (n.max(1) as f64 * seconds.max(1) as f64),
        p50_ms: percentile(&s, 0.50),
        p99_ms: percentile(&s, 0.99),
        max_ms: s.last().map_or(f64::NAN, |m| *m as f64 / 1000.0),
        lagged_notices: rec.lagged.load(Ordering::Relaxed),
    })
}

pub async fn run(args: LiveBenchArgs) -> Result<(), BenchError> {
    let dir = tempfile::tempdir()?;
    let nofile = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|x| x.starts_with("Max open files"))
                .and_then(|x| {
                    x.split_whitespace()
                        .nth(3)
                        .and_then(|v| v.parse::<usize>().ok())
                })
        });
    if let Some(n) = nofile
        && n < args.subscribers + 500
    {
        return Err(BenchError::Live(format!(
            "the open-file limit is {n}; run `ulimit -n {}` first",
            args.subscribers + 1000
        )));
    }
    let pace = format!("{}/s", args.rate);
    let rate = args.rate.to_string();
    let replay = ChildServer::start(&[
        "replay-server",
        "--listen",
        "127.0.0.1:0",
        "--pace",
        &pace,
        "--live-rate",
        &rate,
    ])?;
    let upstream = format!(
        // recentchange alone: the feeds carry only recentchange, so every paced
        // event reaches every unfiltered subscriber and each phase sees the
        // same rate.
        "http://{}/v2/stream/recentchange",
        replay.addr
    );
    let db = format!("sqlite:{}", dir.path().join("bench.db").display());
    let cap = (args.subscribers + args.fanout + args.stalled + 100).to_string();
    let server = ChildServer::run(&upstream, &db, &["--live-max-per-ip", &cap])?;
    let base = format!("ws://{}", server.addr);
    let rss_idle = server.rss_mib().unwrap_or(f64::NAN);
    eprintln!(
        "server pid {}, {rss_idle:.0} MiB resident before subscribers",
        server.pid()
    );

    // 1. Memory with many subscribers.
    let wikis = [
        "enwiki",
        "dewiki",
        "frwiki",
        "eswiki",
        "jawiki",
        "ruwiki",
        "itwiki",
        "zhwiki",
        "ptwiki",
        "plwiki",
        "nlwiki",
        "svwiki",
        "arwiki",
        "fawiki",
        "ukwiki",
        "viwiki",
        "commonswiki",
        "wikidatawiki",
        "enwiktionary",
        "metawiki",
    ];
    let urls: Vec<String> = (0..args.subscribers)
        .map(|i| {
            if i % 100 == 0 {
                format!("{base}/live")
            } else {
                format!("{base}/live?wiki={}&bot=false", wikis[i % wikis.len()])
            }
        })
        .collect();
    let rec = Arc::new(Recorder::default());
    let recording = Arc::new(AtomicBool::new(false));
    let stop = tokio_util::sync::CancellationToken::new();
    let t = Instant::now();
    let handles = connect_many(urls, &rec, &recording, &stop).await;
    let connect_secs = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let stats = live_stats(&server.addr).await?;
    let held = stats["feed"]["subscribers"].as_u64().unwrap_or(0);
    let rss_loaded = server.rss_mib().unwrap_or(f64::NAN);
    let received_many = rec.received.load(Ordering::Relaxed);
    let failed = rec.failed.load(Ordering::Relaxed);
    stop.cancel();
    for h in handles {
        let _ = h.await;
    }
    eprintln!(
        "{held} subscribers held ({failed} failed to connect; connected in {connect_secs:.1} s); server resident memory {rss_loaded:.0} MiB; {received_many} messages delivered in 10 s"
    );

    // 2. and 3. Latency at full fan-out, then with stalled clients attached.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let plain = latency_phase("fan-out", &base, args.fanout, args.seconds, 0, &server.addr).await?;
    eprintln!("{plain:?}");
    let with_stalled = latency_phase(
        "fan-out + stalled clients",
        &base,
        args.fanout,
        args.seconds,
        args.stalled,
        &server.addr,
    )
    .await?;
    eprintln!("{with_stalled:?}");
    // The same as the first phase, later: separates what the stalled clients
    // cost from what the moment costs (later events are the synthetic tail).
    let control = latency_phase(
        "fan-out again (control)",
        &base,
        args.fanout,
        args.seconds,
        0,
        &server.addr,
    )
    .await?;
    eprintln!("{control:?}");
    let stats = live_stats(&server.addr).await?;

    println!("live feeds on 127.0.0.1, {} events/s fed", args.rate);
    println!(
        "  {held} subscribers held (99 % narrow filters): server VmRSS {rss_loaded:.0} MiB (idle {rss_idle:.0} MiB)"
    );
    for p in [&plain, &with_stalled, &control] {
        println!(
            "  {:<26} {} subscribers: {} messages ({:.0}/s each), latency p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, lagged notices {}",
            p.name,
            p.subscribers,
            p.messages,
            p.per_subscriber_rate,
            p.p50_ms,
            p.p99_ms,
            p.max_ms,
            p.lagged_notices
        );
    }
    println!(
        "  slow clients disconnected by the server: {}",
        stats["feed"]["disconnected_slow_subscribers"]
    );
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "rate": args.rate,
                "subscribers_held": held,
                "subscribers_failed": failed,
                "rss_mib_idle": rss_idle,
                "rss_mib_loaded": rss_loaded,
                "phases": [plain, with_stalled, control],
                "disconnected_slow": stats["feed"]["disconnected_slow_subscribers"],
            })
        );
    }
    drop(server);
    drop(replay);
    Ok(())
}
