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
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Ingest EventStreams into the store and serve the web pages, API and feeds.
    Run(Box<RunArgs>),
    /// Print what the extraction rules find in each line of stdin, as one JSON line each.
    Extract {
        #[arg(value_enum)]
        what: ExtractKind,
    },
    /// Normalise events from stdin (NDJSON or an SSE transcript): one JSON object per event.
    Parse,
    /// Serve recorded (and synthetic) events as a local EventStreams, with pacing and fault injection.
    ReplayServer(Box<crate::replay::ReplayArgs>),
    /// Print a deterministic synthetic event stream (NDJSON or SSE) to stdout.
    Synth(crate::synth::SynthArgs),
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
        Command::Parse => {
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
            crate::synth::run(&args, &mut out)?;
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

fn looks_like_sse(first_line: &str) -> bool {
    let l = first_line.trim_start_matches('\u{feff}');
    l.starts_with(':')
        || l.starts_with("event:")
        || l.starts_with("id:")
        || l.starts_with("data:")
        || l.starts_with("retry:")
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
    if looks_like_sse(&first) {
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
