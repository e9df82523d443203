//! `wikiwatch synth`: prints a synthetic stream as NDJSON or as an
//! EventStreams SSE transcript.

use clap::{Args, ValueEnum};

use super::generator::{STREAMS, SYNTH_START_MS, Synth};

/// Output format of `wikiwatch synth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SynthFormat {
    /// One JSON event per line.
    Ndjson,
    /// An EventStreams SSE transcript (`:ok`, then `event`/`id`/`data`).
    Sse,
}

/// Options of `wikiwatch synth`.
#[derive(Args, Debug, Clone)]
pub struct SynthArgs {
    /// Number of events.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Seed; the same seed always gives the same events.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time of the first event: ISO-8601 or epoch ms (default 2026-01-01T00:00:00Z).
    #[arg(long)]
    pub start: Option<String>,
    /// Events per second of stream time.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// ndjson or sse.
    #[arg(long, value_enum, default_value_t = SynthFormat::Ndjson)]
    pub format: SynthFormat,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("invalid --start {0:?}: use ISO-8601 (2026-01-01T00:00:00Z) or epoch milliseconds")]
    Start(String),
    #[error("invalid --rate {0}: it must be above 0")]
    Rate(f64),
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
}

/// `wikiwatch synth`: writes the events to `out`.
pub fn run(args: &SynthArgs, out: &mut dyn std::io::Write) -> Result<(), SynthError> {
    let start_ms = match &args.start {
        None => SYNTH_START_MS,
        Some(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| crate::event::parse_dt_ms(s))
            .ok_or_else(|| SynthError::Start(s.clone()))?,
    };
    if args.rate.is_nan() || args.rate <= 0.0 {
        return Err(SynthError::Rate(args.rate));
    }
    let synth = Synth::new(args.seed, start_ms, args.rate);
    let mut id_parts: Vec<String> = STREAMS
        .iter()
        .flat_map(|s| {
            ["eqiad", "codfw"]
                .map(|dc| format!(r#"{{"topic":"{dc}.{s}","partition":0,"offset":-1}}"#))
        })
        .collect();
    let mut buf = Vec::with_capacity(1 << 20);
    if args.format == SynthFormat::Sse {
        buf.extend_from_slice(b":ok\n\n");
    }
    for ev in synth.iter(0..args.events) {
        match args.format {
            SynthFormat::Ndjson => {
                buf.extend_from_slice(ev.json.as_bytes());
                buf.push(b'\n');
            }
            SynthFormat::Sse => {
                let k = STREAMS.iter().position(|s| *s == ev.stream).unwrap_or(0) * 2;
                id_parts[k] = format!(
                    r#"{{"topic":"{}","partition":0,"timestamp":{}}}"#,
                    ev.topic,
                    ev.dt_ms + 1
                );
                let id = format!("[{}]", id_parts.join(","));
                crate::sse::write_event(&mut buf, "message", Some(&id), ev.json.as_bytes());
            }
        }
        if buf.len() > (1 << 20) {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, parse};
    use crate::extract::Rules;

    #[test]
    fn the_same_seed_gives_the_same_events_and_another_seed_others() {
        let a = Synth::new(7, 0, 1000.0);
        let b = Synth::new(7, 0, 1000.0);
        let c = Synth::new(8, 0, 1000.0);
        for i in [0, 1, 99, 12_345] {
            assert_eq!(a.event(i).json, b.event(i).json);
            assert_ne!(a.event(i).json, c.event(i).json);
        }
    }

    #[test]
    fn events_parse_into_their_streams_with_ordered_times_and_offsets() {
        let s = Synth::new(3, 1_767_225_600_000, 500.0);
        let rules = Rules::default();
        let mut last_dt = i64::MIN;
        let mut last_offset: std::collections::HashMap<&str, u64> = Default::default();
        let (mut rc, mut links, mut del, mut tagged, mut externals, mut mentions) =
            (0, 0, 0, 0, 0, 0);
        let n = 20_000;
        for ev in s.iter(0..n) {
            assert!(ev.dt_ms >= last_dt);
            last_dt = ev.dt_ms;
            if let Some(prev) = last_offset.insert(ev.stream, ev.offset) {
                assert!(ev.offset > prev, "{} offsets must increase", ev.stream);
            }
            let parsed =
                parse(ev.json.as_bytes(), &rules).unwrap_or_else(|e| panic!("{e}: {}", ev.json));
            assert_eq!(parsed.envelope().dt_ms, ev.dt_ms);
            match parsed {
                Event::Recentchange(c) => {
                    assert_eq!(ev.stream, "mediawiki.recentchange");
                    rc += 1;
                    tagged += usize::from(!c.hashtags.is_empty());
                    mentions += usize::from(!c.mentions.is_empty());
                }
                Event::PageLinksChange(l) => {
                    assert_eq!(ev.stream, "mediawiki.page-links-change");
                    links += 1;
                    externals += l.added.len() + l.removed.len();
                }
                Event::PageDelete(_) => del += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((rc, links, del), (14_000, 5_600, 400));
        // ~3% of non-Wikidata summaries, plus QuickStatements batches.
        assert!((250..1_200).contains(&tagged), "{tagged} tagged");
        assert!(mentions > 20, "{mentions} mentions");
        assert!(externals > 5_000, "{externals} external links");
    }

    #[test]
    fn sse_output_reads_back_as_the_same_events() {
        let args = SynthArgs {
            events: 500,
            seed: 2,
            start: Some("2026-03-01T00:00:00Z".into()),
            rate: 100.0,
            format: SynthFormat::Sse,
        };
        let mut out = Vec::new();
        run(&args, &mut out).unwrap();
        let mut parser = crate::sse::SseParser::new(64 << 20);
        let mut items = Vec::new();
        parser.feed(&out, &mut items);
        let datas: Vec<_> = items
            .into_iter()
            .filter_map(|i| match i {
                crate::sse::SseItem::Event(e) => Some(e.data),
                _ => None,
            })
            .collect();
        let synth = Synth::new(2, 1_772_323_200_000, 100.0);
        assert_eq!(datas.len(), 500);
        for (i, d) in datas.iter().enumerate() {
            assert_eq!(d.as_slice(), synth.event(i as u64).json.as_bytes());
        }
    }
}
