//! Configuration: command-line flags, `WIKIWATCH_*` environment variables and
//! an optional TOML file, in that order of precedence, resolved once into
//! [`Settings`].
//!
//! Every option is a flag (documented by `--help`), an environment variable,
//! and a key of the same name in snake_case in the file given by `--config`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::extract::{HashtagRules, LinkRules, Rules};
use crate::live::LiveOptions;

pub const DEFAULT_UPSTREAM: &str = "https://stream.wikimedia.org/v2/stream/recentchange,page-links-change,page-delete,page-undelete";
pub const DEFAULT_DB: &str = "sqlite:./wikiwatch.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Options of `wikiwatch run` (and of `demo`, which sets some itself).
#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// TOML file with any of these options (keys in snake_case).
    #[arg(long, env = "WIKIWATCH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// EventStreams URL: one connection for every stream wikiwatch needs.
    /// [default: https://stream.wikimedia.org/v2/stream/recentchange,page-links-change,page-delete,page-undelete]
    #[arg(long, env = "WIKIWATCH_UPSTREAM", value_name = "URL")]
    pub upstream: Option<String>,

    /// Contact for the User-Agent (a URL or e-mail), as Wikimedia's User-Agent policy requires.
    #[arg(long, env = "WIKIWATCH_CONTACT", value_name = "URL_OR_EMAIL")]
    pub contact: Option<String>,

    /// Database: sqlite:PATH (or a bare path) or postgres://USER@HOST:PORT/DB. [default: sqlite:./wikiwatch.db]
    #[arg(long, env = "WIKIWATCH_DB", value_name = "URL")]
    pub db: Option<String>,

    /// Address for the web server and API. Port 0 picks a free port. [default: 127.0.0.1:8080]
    #[arg(long, env = "WIKIWATCH_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,

    /// Where to start when no position is stored: ISO-8601 time or epoch milliseconds.
    /// Without it (and without a stored position) ingest starts at now.
    #[arg(long, env = "WIKIWATCH_SINCE", value_name = "TIME")]
    pub since: Option<String>,

    /// Largest event accepted, in bytes; larger events are skipped and counted. [default: 67108864]
    #[arg(long, env = "WIKIWATCH_MAX_EVENT_BYTES", value_name = "BYTES")]
    pub max_event_bytes: Option<usize>,

    /// Reconnect when the upstream sends no bytes for this many seconds. [default: 60]
    #[arg(long, env = "WIKIWATCH_IDLE_TIMEOUT_SECS", value_name = "SECS")]
    pub idle_timeout_secs: Option<u64>,

    /// Longest wait between reconnection attempts. [default: 60]
    #[arg(long, env = "WIKIWATCH_BACKOFF_MAX_SECS", value_name = "SECS")]
    pub backoff_max_secs: Option<u64>,

    /// Events per write transaction, at most. [default: 20000]
    #[arg(long, env = "WIKIWATCH_BATCH_EVENTS", value_name = "N")]
    pub batch_events: Option<usize>,

    /// Longest time an event waits before its batch is written. [default: 200]
    #[arg(long, env = "WIKIWATCH_BATCH_MAX_MS", value_name = "MS")]
    pub batch_max_ms: Option<u64>,

    /// Open HTTP connections served at once; a few more may still ask for
    /// /healthz and /metrics, the rest are closed. [default: 10000]
    #[arg(long, env = "WIKIWATCH_HTTP_MAX_CONNECTIONS", value_name = "N")]
    pub http_max_connections: Option<usize>,

    /// Seconds a connection may take to send a request's headers, and may
    /// stay idle between requests. [default: 10]
    #[arg(long, env = "WIKIWATCH_HTTP_HEADER_TIMEOUT_SECS", value_name = "SECS")]
    pub http_header_timeout_secs: Option<u64>,

    /// Requests that read the store in bulk (reports, searches, exports)
    /// run at once; more wait up to 10 s, then get 503. [default: twice the CPUs, at least 4]
    #[arg(long, env = "WIKIWATCH_READ_CONCURRENCY", value_name = "N")]
    pub read_concurrency: Option<usize>,

    /// Also track hashtags in edits flagged as bot edits (the Hashtags tool skips them).
    #[arg(long, env = "WIKIWATCH_HASHTAGS_INCLUDE_BOTS")]
    pub hashtags_include_bots: bool,

    /// Also track hashtags on Wikidata (the Hashtags tool skips it for volume).
    #[arg(long, env = "WIKIWATCH_HASHTAGS_INCLUDE_WIKIDATA")]
    pub hashtags_include_wikidata: bool,

    /// Words never counted as hashtags (comma separated); replaces the built-in list.
    #[arg(
        long,
        env = "WIKIWATCH_HASHTAG_EXCLUDE",
        value_delimiter = ',',
        value_name = "WORDS"
    )]
    pub hashtag_exclude: Option<Vec<String>>,

    /// Longest hashtag in characters; longer ones are counted and skipped. [default: 128]
    #[arg(long, env = "WIKIWATCH_HASHTAG_MAX_CHARS", value_name = "N")]
    pub hashtag_max_chars: Option<usize>,

    /// Library proxy host suffixes whose first label encodes the target host (comma separated).
    /// [default: wikipedialibrary.idm.oclc.org]
    #[arg(
        long,
        env = "WIKIWATCH_PROXY_SUFFIXES",
        value_delimiter = ',',
        value_name = "HOSTS"
    )]
    pub proxy_suffixes: Option<Vec<String>>,

    /// Log format: auto (progress line on a terminal, text otherwise), text or json. [default: auto]
    #[arg(long, env = "WIKIWATCH_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Check which hashtag edits added images, videos or audio files by asking
    /// this MediaWiki API (`{domain}` is replaced by the wiki's domain), e.g.
    /// https://{domain}/w/api.php. Off when not given.
    #[arg(long, env = "WIKIWATCH_MEDIA_API", value_name = "URL")]
    pub media_api: Option<String>,
    /// Token for the admin API (link collections), sent as `Authorization: Bearer TOKEN`.
    /// Without it the admin API is disabled.
    #[arg(
        long,
        env = "WIKIWATCH_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// GeoIP database(s) (.mmdb: MaxMind GeoIP2/GeoLite2 or DB-IP, several
    /// comma-separated, e.g. DB-IP's IPv4 and IPv6 files): WikiMon messages
    /// for IP editors then carry `geo_ip`. Off when not given.
    #[arg(
        long,
        env = "WIKIWATCH_GEOIP",
        value_name = "FILE.mmdb",
        value_delimiter = ','
    )]
    pub geoip: Option<Vec<PathBuf>>,
    /// Learn wikis' own namespace names for WikiMon messages from this
    /// MediaWiki API (`{domain}` is replaced by the wiki's host name), e.g.
    /// https://{domain}/w/api.php; cached in the store. Off when not given
    /// (built-in names, numbers for the rest).
    #[arg(long, env = "WIKIWATCH_SITEINFO_API", value_name = "URL")]
    pub siteinfo_api: Option<String>,
    /// Live feeds (`--live-*`).
    #[command(flatten)]
    pub live: LiveArgs,
}

/// `run`'s flags for the live feeds (flags and environment only).
#[derive(Args, Debug, Clone, Default)]
pub struct LiveArgs {
    /// Live connections (WebSocket and SSE together) allowed per client address. [default: 20]
    #[arg(long, env = "WIKIWATCH_LIVE_MAX_PER_IP", value_name = "N")]
    pub live_max_per_ip: Option<usize>,
    /// Seconds of messages kept for resuming (`Last-Event-ID`, `?since=`). [default: 300]
    #[arg(long, env = "WIKIWATCH_LIVE_WINDOW_SECS", value_name = "SECS")]
    pub live_window_secs: Option<u64>,
    /// At most this many messages kept for resuming. [default: 100000]
    #[arg(long, env = "WIKIWATCH_LIVE_WINDOW_MAX", value_name = "N")]
    pub live_window_max: Option<usize>,
    /// Messages queued per live client before it misses some. [default: 1024]
    #[arg(long, env = "WIKIWATCH_LIVE_QUEUE", value_name = "N")]
    pub live_queue: Option<usize>,
    /// Missed messages in a row after which a live client is disconnected. [default: 4096]
    #[arg(long, env = "WIKIWATCH_LIVE_LAG_LIMIT", value_name = "N")]
    pub live_lag_limit: Option<u64>,
    /// Milliseconds between heartbeats on quiet live feeds. [default: 15000]
    #[arg(long, env = "WIKIWATCH_LIVE_HEARTBEAT_MS", value_name = "MS")]
    pub live_heartbeat_ms: Option<u64>,
}

impl LiveArgs {
    /// The hub's tunables: the flags given over the defaults.
    pub fn options(&self) -> LiveOptions {
        let d = LiveOptions::default();
        LiveOptions {
            window: self.live_window_secs.map_or(d.window, Duration::from_secs),
            window_max: self.live_window_max.unwrap_or(d.window_max).max(1),
            queue: self.live_queue.unwrap_or(d.queue).max(1),
            lag_limit: self.live_lag_limit.unwrap_or(d.lag_limit).max(1),
            heartbeat: self
                .live_heartbeat_ms
                .map_or(d.heartbeat, |ms| Duration::from_millis(ms.max(10))),
            max_per_ip: self.live_max_per_ip.unwrap_or(d.max_per_ip),
        }
    }
}

/// The TOML file's shape: the same options, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    upstream: Option<String>,
    contact: Option<String>,
    db: Option<String>,
    listen: Option<String>,
    since: Option<String>,
    max_event_bytes: Option<usize>,
    idle_timeout_secs: Option<u64>,
    backoff_max_secs: Option<u64>,
    batch_events: Option<usize>,
    batch_max_ms: Option<u64>,
    http_max_connections: Option<usize>,
    http_header_timeout_secs: Option<u64>,
    read_concurrency: Option<usize>,
    hashtags_include_bots: Option<bool>,
    hashtags_include_wikidata: Option<bool>,
    hashtag_exclude: Option<Vec<String>>,
    hashtag_max_chars: Option<usize>,
    proxy_suffixes: Option<Vec<String>>,
    log_format: Option<String>,
    media_api: Option<String>,
    admin_token: Option<String>,
    geoip: Option<Vec<PathBuf>>,
    siteinfo_api: Option<String>,
    /// `[[link_collections]]` tables: name, patterns, optional users, group, description.
    link_collections: Option<Vec<crate::links::filter::CollectionDef>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value {value:?} for {option}: {hint}")]
    Invalid {
        option: &'static str,
        value: String,
        hint: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

/// Fully resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub upstream: String,
    pub user_agent: String,
    pub contact_given: bool,
    pub db: String,
    pub listen: SocketAddr,
    pub since_ms: Option<i64>,
    pub max_event_bytes: usize,
    pub idle_timeout: Duration,
    pub backoff_max: Duration,
    pub batch_events: usize,
    pub batch_max: Duration,
    /// Open HTTP connections served at once.
    pub http_max_connections: usize,
    /// Longest wait for a request's headers (and between requests).
    pub http_header_timeout: Duration,
    /// Bulk store reads served at once; `None` = twice the CPUs, at least 4.
    pub read_concurrency: Option<usize>,
    pub hashtags_include_bots: bool,
    pub hashtags_include_wikidata: bool,
    pub rules: Rules,
    pub log_format: LogFormat,
    /// MediaWiki API template for media flags; None = no checks.
    pub media_api: Option<String>,
    pub admin_token: Option<String>,
    pub link_collections: Vec<crate::links::filter::CollectionDef>,
    /// GeoIP databases for WikiMon `geo_ip`; empty = no geolocation.
    pub geoip: Vec<PathBuf>,
    /// MediaWiki API template for learning namespace names; None = built-in names only.
    pub siteinfo_api: Option<String>,
    /// Live feed tunables.
    pub live: LiveOptions,
}

/// Parses a `--since` value: epoch milliseconds or an ISO-8601 time.
pub fn parse_since(value: &str) -> Result<i64, ConfigError> {
    crate::event::parse_time_or_epoch_ms(value).ok_or_else(|| ConfigError::Invalid {
        option: "--since",
        value: value.to_owned(),
        hint: "use an ISO-8601 time such as 2026-11-01T00:00:00Z or epoch milliseconds".into(),
    })
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

pub fn user_agent(contact: Option<&str>) -> String {
    let contact = contact.unwrap_or("contact not configured; set --contact");
    format!(
        "wikiwatch/{} ({contact}) reqwest",
        env!("CARGO_PKG_VERSION")
    )
}

impl RunArgs {
    /// Merges flags and environment (already in `self`) over the file over defaults.
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        let file = match &self.config {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        let contact = self.contact.clone().or(file.contact);
        let listen_text = self
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_text
            .parse::<SocketAddr>()
            .map_err(|e| ConfigError::Invalid {
                option: "--listen",
                value: listen_text.clone(),
                hint: format!("{e}; use HOST:PORT such as 127.0.0.1:8080"),
            })?;
        let since_ms = match self.since.clone().or(file.since) {
            Some(s) => Some(parse_since(&s)?),
            None => None,
        };
        let upstream = self
            .upstream
            .clone()
            .or(file.upstream)
            .unwrap_or_else(|| DEFAULT_UPSTREAM.into());
        if url::Url::parse(&upstream).is_err() {
            return Err(ConfigError::Invalid {
                option: "--upstream",
                value: upstream,
                hint:
                    "use an http(s) URL such as https://stream.wikimedia.org/v2/stream/recentchange"
                        .into(),
            });
        }
        let mut hashtags = HashtagRules::default();
        if let Some(words) = self.hashtag_exclude.clone().or(file.hashtag_exclude) {
            hashtags = HashtagRules::with_excluded(words.iter().map(String::as_str));
        }
        if let Some(n) = self.hashtag_max_chars.or(file.hashtag_max_chars) {
            hashtags.max_chars = n;
        }
        let mut links = LinkRules::default();
        if let Some(suffixes) = self.proxy_suffixes.clone().or(file.proxy_suffixes) {
            links.proxy_suffixes = suffixes
                .into_iter()
                .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect();
        }
        let log_format = match self
            .log_format
            .clone()
            .or(file.log_format)
            .as_deref()
            .unwrap_or("auto")
        {
            "auto" => LogFormat::Auto,
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    option: "--log-format",
                    value: other.to_owned(),
                    hint: "use auto, text or json".into(),
                });
            }
        };
        let positive = |option: &'static str, v: u64| {
            if v == 0 {
                Err(ConfigError::Invalid {
                    option,
                    value: "0".into(),
                    hint: "must be at least 1".into(),
                })
            } else {
                Ok(v)
            }
        };
        let mut link_collections = Vec::new();
        for mut c in file.link_collections.unwrap_or_default() {
            c.source = "config".into();
            if let Err(e) = c.validate() {
                return Err(ConfigError::Invalid {
                    option: "link_collections",
                    value: c.name.clone(),
                    hint: format!("{}: {}", e.parameter, e.message),
                });
            }
            link_collections.push(c);
        }
        Ok(Settings {
            upstream,
            user_agent: user_agent(contact.as_deref()),
            contact_given: contact.is_some(),
            db: self
                .db
                .clone()
                .or(file.db)
                .unwrap_or_else(|| DEFAULT_DB.into()),
            listen,
            since_ms,
            max_event_bytes: positive(
                "--max-event-bytes",
                self.max_event_bytes
                    .or(file.max_event_bytes)
                    .unwrap_or(64 << 20) as u64,
            )? as usize,
            idle_timeout: Duration::from_secs(positive(
                "--idle-timeout-secs",
                self.idle_timeout_secs
                    .or(file.idle_timeout_secs)
                    .unwrap_or(60),
            )?),
            backoff_max: Duration::from_secs(positive(
                "--backoff-max-secs",
                self.backoff_max_secs
                    .or(file.backoff_max_secs)
                    .unwrap_or(60),
            )?),
            batch_events: positive(
                "--batch-events",
                self.batch_events.or(file.batch_events).unwrap_or(20_000) as u64,
            )? as usize,
            batch_max: Duration::from_millis(positive(
                "--batch-max-ms",
                self.batch_max_ms.or(file.batch_max_ms).unwrap_or(200),
            )?),
            http_max_connections: positive(
                "--http-max-connections",
                self.http_max_connections
                    .or(file.http_max_connections)
                    .unwrap_or(10_000) as u64,
            )? as usize,
            http_header_timeout: Duration::from_secs(positive(
                "--http-header-timeout-secs",
                self.http_header_timeout_secs
                    .or(file.http_header_timeout_secs)
                    .unwrap_or(10),
            )?),
            read_concurrency: match self.read_concurrency.or(file.read_concurrency) {
                Some(n) => Some(positive("--read-concurrency", n as u64)? as usize),
                None => None,
            },
            hashtags_include_bots: self.hashtags_include_bots
                || file.hashtags_include_bots.unwrap_or(false),
            hashtags_include_wikidata: self.hashtags_include_wikidata
                || file.hashtags_include_wikidata.unwrap_or(false),
            rules: Rules { hashtags, links },
            log_format,
            media_api: self.media_api.clone().or(file.media_api),
            admin_token: self
                .admin_token
                .clone()
                .or(file.admin_token)
                .filter(|t| !t.is_empty()),
            link_collections,
            geoip: self.geoip.clone().or(file.geoip).unwrap_or_default(),
            siteinfo_api: self.siteinfo_api.clone().or(file.siteinfo_api),
            live: self.live.options(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.toml");
        std::fs::write(
            &path,
            "db = \"sqlite:/tmp/x.db\"\nlisten = \"127.0.0.1:9999\"\nbatch_events = 7\n",
        )
        .unwrap();
        let args = RunArgs {
            config: Some(path),
            listen: Some("127.0.0.1:1234".into()),
            ..Default::default()
        };
        let s = args.resolve().unwrap();
        assert_eq!(s.listen.port(), 1234);
        assert_eq!(s.db, "sqlite:/tmp/x.db");
        assert_eq!(s.batch_events, 7);
        assert_eq!(s.upstream, DEFAULT_UPSTREAM);
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.toml");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let err = RunArgs {
            config: Some(path),
            ..Default::default()
        }
        .resolve()
        .unwrap_err()
        .to_string();
        assert!(err.contains("lisen"), "{err}");
        let err = RunArgs {
            since: Some("yesterday".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--since") && err.contains("yesterday"),
            "{err}"
        );
    }

    #[test]
    fn since_accepts_ms_iso_and_dates() {
        assert_eq!(parse_since("1520439377000").unwrap(), 1_520_439_377_000);
        assert_eq!(
            parse_since("2018-03-07T16:16:17Z").unwrap(),
            1_520_439_377_000
        );
        assert_eq!(parse_since("2018-03-07").unwrap(), 1_520_380_800_000);
    }
}
