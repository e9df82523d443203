//! The command-line interface: one subcommand per job, each a thin call into
//! the library.

use std::io::{BufRead, BufWriter, Write};

use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use crate::config::{LogFormat, RunArgs};
use crate::event;
use crate::extract::{self, Rules};
use crate::sse::{SseItem, SseParser};

#[derive(Parser, Debug)]
#[command(
    name = "wikiwatch",
    version,
    about = "Watches every Wikimedia wiki in real time: hashtags, live edit feeds and external links, from one ingest of EventStreams."
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Ingest EventStreams into the store and serve the web pages, API and feeds.
    Run(Box<RunArgs>),
    /// Print what the extraction rules find in each line of stdin, as one JSON line each.
    Extract {
        #[arg(value_enum)]
        what: ExtractKind,
    },
    /// Normalise events from stdin (NDJSON or an SSE transcript): one JSON object per event.
    Parse(crate::cli::ParseArgs),
    /// Serve recorded (and synthetic) events as a local EventStreams, with pacing and fault injection.
    ReplayServer(Box<crate::replay::ReplayArgs>),
    /// Print a deterministic synthetic event stream (NDJSON or SSE) to stdout.
    Synth(crate::replay::synth::SynthArgs),
    /// Run everything offline: the replay server over the bundled recordings plus a live synthetic feed, and the app on it.
    Demo(crate::demo::DemoArgs),
    /// Measure throughput (both sides of each ratio in one run).
    Bench(crate::bench::BenchArgs),
    /// Print every stored row in a canonical, sorted text form (for comparing stores).
    Dump {
        /// Database URL, as for `run --db`.
        #[arg(long, env = "WIKIWATCH_DB", default_value = crate::config::DEFAULT_DB)]
        db: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ExtractKind {
    Hashtags,
    Mentions,
    Links,
}

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => {
            let settings = args.resolve()?;
            crate::app::init_logging(settings.log_format);
            let shutdown = CancellationToken::new();
            crate::app::cancel_on_signals(shutdown.clone());
            crate::app::run(settings, shutdown).await?;
            Ok(())
        }
        Command::Extract { what } => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            extract_lines(what, &Rules::default(), stdin, stdout)?;
            Ok(())
        }
        Command::Parse(args) if args.format == ParseFormat::Wikimon => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            parse_wikimon(&args, &Rules::default(), stdin, stdout).await?;
            Ok(())
        }
        Command::Parse(_) => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            parse_events(&Rules::default(), stdin, stdout)?;
            Ok(())
        }
        Command::ReplayServer(args) => {
            crate::app::init_logging(LogFormat::Text);
            crate::replay::run(*args).await?;
            Ok(())
        }
        Command::Synth(args) => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            crate::replay::synth::run(&args, &mut out)?;
            out.flush()?;
            Ok(())
        }
        Command::Demo(args) => {
            crate::app::init_logging(LogFormat::Text);
            let shutdown = CancellationToken::new();
            crate::app::cancel_on_signals(shutdown.clone());
            crate::demo::run(args, shutdown).await?;
            Ok(())
        }
        Command::Bench(args) => {
            crate::app::init_logging(LogFormat::Text);
            crate::bench::run(args).await?;
            Ok(())
        }
        Command::Dump { db } => {
            crate::app::init_logging(LogFormat::Text);
            let store = crate::store::open(&db).await?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            for line in store.dump().await? {
                writeln!(out, "{line}")?;
            }
            out.flush()?;
            Ok(())
        }
    }
}

/// `wikiwatch extract`: one JSON line per input line, in order.
pub fn extract_lines(
    what: ExtractKind,
    rules: &Rules,
    input: impl BufRead,
    output: impl Write,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(output);
    for line in input.lines() {
        let line = line?;
        let json = match what {
            ExtractKind::Hashtags => {
                let tags: Vec<String> = extract::hashtags(&line, &rules.hashtags)
                    .tags
                    .into_iter()
                    .map(|t| t.text)
                    .collect();
                serde_json::to_string(&tags)
            }
            ExtractKind::Mentions => serde_json::to_string(&extract::mentions(&line)),
            ExtractKind::Links => {
                serde_json::to_string(&extract::analyze_link(line.trim(), &rules.links))
            }
        }
        .map_err(std::io::Error::other)?;
        writeln!(out, "{json}")?;
    }
    out.flush()
}

/// `wikiwatch parse`: normalises NDJSON lines or an SSE transcript. A line or
/// event that is not valid JSON becomes `{"error": …}` in its place.
pub fn parse_events(
    rules: &Rules,
    mut input: impl BufRead,
    output: impl Write,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(output);
    let mut text = Vec::new();
    input.read_to_end(&mut text)?;
    let first = text
        .split(|b| *b == b'\n')
        .map(|l| String::from_utf8_lossy(l).trim().to_string())
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let emit = |data: &[u8], out: &mut BufWriter<_>| -> std::io::Result<()> {
        let line = match event::parse(data, rules) {
            Ok(ev) => serde_json::to_string(&ev),
            Err(e) => serde_json::to_string(&serde_json::json!({ "error": e.to_string() })),
        }
        .map_err(std::io::Error::other)?;
        writeln!(out, "{line}")
    };
    if crate::sse::looks_like_sse(&first) {
        let mut parser = SseParser::new(64 << 20);
        let mut items = Vec::new();
        parser.feed(&text, &mut items);
        parser.feed(b"\n\n", &mut items);
        for item in items {
            match item {
                SseItem::Event(e) if e.event == "message" => emit(&e.data, &mut out)?,
                SseItem::Oversized { id, bytes } => writeln!(
                    out,
                    "{}",
                    serde_json::json!({"error": format!("event of {bytes} bytes exceeds the size cap"), "id": id})
                )?,
                _ => {}
            }
        }
    } else {
        for line in text.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            emit(line, &mut out)?;
        }
    }
    out.flush()
}

/// What `wikiwatch parse` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ParseFormat {
    /// The normalised event.
    #[default]
    Event,
    /// The WikiMon v2 message (`null` when WikiMon sends nothing for the event).
    Wikimon,
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ParseArgs {
    /// Output: the normalised event, or the WikiMon v2 message.
    #[arg(long, value_enum, default_value_t = ParseFormat::Event)]
    pub format: ParseFormat,
    /// GeoIP database(s) (.mmdb, MaxMind GeoIP2/GeoLite2 or DB-IP) for `geo_ip` of IP editors.
    #[arg(
        long,
        env = "WIKIWATCH_GEOIP",
        value_name = "FILE.mmdb",
        value_delimiter = ','
    )]
    pub geoip: Vec<std::path::PathBuf>,
    /// Learn unknown namespace names from this MediaWiki API (`{domain}` is
    /// replaced by the wiki's host name), e.g. https://{domain}/w/api.php.
    #[arg(long, env = "WIKIWATCH_SITEINFO_API", value_name = "URL")]
    pub siteinfo_api: Option<String>,
    /// Store that caches learnt namespace names (as `run --db`); none when not given.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Contact for the User-Agent of siteinfo requests.
    #[arg(long, env = "WIKIWATCH_CONTACT")]
    pub contact: Option<String>,
}

/// The data of each event in `text` (NDJSON or an SSE transcript), or why
/// one could not be read.
fn event_payloads(text: &[u8]) -> Vec<Result<Vec<u8>, String>> {
    let first = text
        .split(|b| *b == b'\n')
        .map(|l| String::from_utf8_lossy(l).trim().to_string())
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let mut out = Vec::new();
    if crate::sse::looks_like_sse(&first) {
        let mut parser = SseParser::new(64 << 20);
        let mut items = Vec::new();
        parser.feed(text, &mut items);
        parser.feed(b"\n\n", &mut items);
        for item in items {
            match item {
                SseItem::Event(e) if e.event == "message" => out.push(Ok(e.data.to_vec())),
                SseItem::Oversized { bytes, .. } => {
                    out.push(Err(format!("event of {bytes} bytes exceeds the size cap")))
                }
                _ => {}
            }
        }
    } else {
        for line in text.split(|b| *b == b'\n') {
            if !line.iter().all(u8::is_ascii_whitespace) {
                out.push(Ok(line.to_vec()));
            }
        }
    }
    out
}

/// `wikiwatch parse --format wikimon`: the WikiMon v2 message of each event,
/// one line each (`null` when WikiMon sends nothing). With `--siteinfo-api`
/// an unknown namespace is learnt (from the `--db` cache first) before the
/// event's message is printed.
pub async fn parse_wikimon(
    args: &ParseArgs,
    rules: &Rules,
    mut input: impl BufRead,
    output: impl Write,
) -> anyhow::Result<()> {
    use crate::live::wikimon::{self, geoip::GeoIp, namespaces};
    let mut ctx = wikimon::WikimonContext::builtin();
    if !args.geoip.is_empty() {
        ctx = ctx.with_geoip(std::sync::Arc::new(GeoIp::open(args.geoip.as_slice())?));
    }
    let learning = match &args.siteinfo_api {
        Some(api) => {
            let opts = namespaces::SiteinfoOptions::new(
                api.clone(),
                crate::config::user_agent(args.contact.as_deref()),
            );
            let client = namespaces::http_client(&opts)?;
            let store = match &args.db {
                Some(url) => Some(crate::store::open(url).await?),
                None => None,
            };
            Some((opts, client, store))
        }
        None => None,
    };
    let mut text = Vec::new();
    input.read_to_end(&mut text)?;
    let mut out = BufWriter::new(output);
    for payload in event_payloads(&text) {
        let ev = match payload.and_then(|d| event::parse(&d, rules).map_err(|e| e.to_string())) {
            Ok(ev) => ev,
            Err(e) => {
                writeln!(out, "{}", serde_json::json!({ "error": e }))?;
                continue;
            }
        };
        if let (Some((opts, client, store)), event::Event::Recentchange(c)) = (&learning, &ev)
            && namespaces::builtin_name(c.namespace).is_none()
            && let Err(e) = ctx
                .namespaces()
                .learn_now(client, opts, store.as_deref(), &c.wiki, &c.server_name)
                .await
        {
            tracing::warn!(wiki = %c.wiki, error = %e, "could not learn the wiki's namespaces");
        }
        match wikimon::message(&ev, &ctx) {
            Some(m) => writeln!(out, "{}", m.json)?,
            None => writeln!(out, "null")?,
        }
    }
    out.flush()?;
    Ok(())
}
