//! Server-Sent Events: an incremental parser for the upstream byte stream and
//! the writer used by every SSE endpoint wikiwatch serves.
//!
//! The parser follows the WHATWG EventSource rules: input arrives in chunks
//! split anywhere (even between the CR and LF of one line end); lines end in
//! LF, CRLF or CR; a leading BOM is skipped; `:` lines are comments; `data`
//! lines are joined with `\n`; `id` (unless it contains NUL) sets the
//! last-event-id buffer, which outlives the event; `retry` takes ASCII digits;
//! a blank line dispatches, and an event without data is not dispatched.
//!
//! One addition: a size cap per event. An event whose data (or any single
//! line) grows past the cap is discarded as it arrives, without buffering,
//! and reported as [`SseItem::Oversized`] with its id, so a huge event can
//! never wedge the stream (a 158 KiB event once stalled WikiMon for 71 hours).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, `message` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: Vec<u8>,
    /// The last-event-id buffer at dispatch time.
    pub id: Option<String>,
}

/// What the parser yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    Event(SseEvent),
    /// An event whose size passed the cap; its data was discarded.
    Oversized {
        id: Option<String>,
        bytes: usize,
    },
    /// A `retry:` field, in milliseconds.
    Retry(u64),
}

pub struct SseParser {
    max_event_bytes: usize,
    /// The current, incomplete line.
    line: Vec<u8>,
    /// True while the current line is being discarded for size.
    line_overflow: bool,
    data: Vec<u8>,
    has_data: bool,
    event_type: Option<String>,
    last_id: Option<String>,
    /// Bytes of the current event, counted even when discarded.
    event_bytes: usize,
    oversized: bool,
    /// The previous chunk ended in CR: a leading LF belongs to that line end.
    after_cr: bool,
    started: bool,
}

impl SseParser {
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser {
            max_event_bytes: max_event_bytes.max(1),
            line: Vec::new(),
            line_overflow: false,
            data: Vec::new(),
            has_data: false,
            event_type: None,
            last_id: None,
            event_bytes: 0,
            oversized: false,
            after_cr: false,
            started: false,
        }
    }

    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Parses `chunk`, appending complete items to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<SseItem>) {
        if !self.started {
            // The BOM may itself be split across chunks; wait for 3 bytes.
            let mut probe = std::mem::take(&mut self.line);
            probe.extend_from_slice(chunk);
            if probe.len() < 3 && b"\xEF\xBB\xBF".starts_with(&probe) {
                self.line = probe;
                return;
            }
            self.started = true;
            let rest = probe.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&probe);
            let rest = rest.to_vec();
            self.feed(&rest, out);
            return;
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while !chunk.is_empty() {
            match chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
                None => {
                    self.append_to_line(chunk);
                    return;
                }
                Some(i) => {
                    self.append_to_line(&chunk[..i]);
                    let line_end = if chunk[i] == b'\r' {
                        match chunk.get(i + 1) {
                            Some(b'\n') => i + 2,
                            Some(_) => i + 1,
                            None => {
                                self.after_cr = true;
                                i + 1
                            }
                        }
                    } else {
                        i + 1
                    };
                    self.end_line(out);
                    chunk = &chunk[line_end..];
                }
            }
        }
    }

    fn append_to_line(&mut self, bytes: &[u8]) {
        self.event_bytes = self.event_bytes.saturating_add(bytes.len());
        if self.line_overflow {
            return;
        }
        if self.line.len() + bytes.len() > self.max_event_bytes {
            self.line_overflow = true;
            self.oversized = true;
            self.line = Vec::new();
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn end_line(&mut self, out: &mut Vec<SseItem>) {
        self.event_bytes = self.event_bytes.saturating_add(1);
        if self.line_overflow {
            self.line_overflow = false;
            self.line.clear();
            return;
        }
        if self.line.is_empty() {
            self.dispatch(out);
            return;
        }
        let line = std::mem::take(&mut self.line);
        self.field(&line, out);
        self.line = line;
        self.line.clear();
    }

    fn field(&mut self, line: &[u8], out: &mut Vec<SseItem>) {
        if line[0] == b':' {
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                if self.oversized {
                    return;
                }
                let extra = value.len() + usize::from(self.has_data);
                if self.data.len() + extra > self.max_event_bytes {
                    self.oversized = true;
                    self.data = Vec::new();
                    return;
                }
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => self.event_type = Some(String::from_utf8_lossy(value).into_owned()),
            b"id" if !value.contains(&0) => {
                self.last_id = if value.is_empty() {
                    None
                } else {
                    Some(String::from_utf8_lossy(value).into_owned())
                };
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Ok(ms) = std::str::from_utf8(value).unwrap_or("").parse() {
                    out.push(SseItem::Retry(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        let bytes = std::mem::take(&mut self.event_bytes);
        let event_type = self.event_type.take();
        if self.oversized {
            self.oversized = false;
            self.has_data = false;
            self.data = Vec::new();
            out.push(SseItem::Oversized {
                id: self.last_id.clone(),
                bytes,
            });
            return;
        }
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(SseItem::Event(SseEvent {
            event: event_type.unwrap_or_else(|| "message".to_owned()),
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        }));
    }
}

/// Appends one event in EventStreams framing (`event:`, `id:`, `data:` lines, blank line).
pub fn write_event(buf: &mut Vec<u8>, event: &str, id: Option<&str>, data: &[u8]) {
    buf.extend_from_slice(b"event: ");
    buf.extend_from_slice(event.as_bytes());
    buf.push(b'\n');
    if let Some(id) = id {
        buf.extend_from_slice(b"id: ");
        buf.extend_from_slice(id.as_bytes());
        buf.push(b'\n');
    }
    // A data value with line breaks needs one `data:` line per line.
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            buf.push(b'\n');
        }
        buf.extend_from_slice(b"data: ");
        buf.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
    }
    buf.extend_from_slice(b"\n\n");
}

/// Whether a text's first line is Server-Sent Events (a comment or one of the
/// fields `event`, `id`, `data`, `retry`) rather than JSON.
pub fn looks_like_sse(first_line: &str) -> bool {
    let l = first_line.trim_start_matches('\u{feff}');
    l.starts_with(':')
        || ["event:", "id:", "data:", "retry:"]
            .iter()
            .any(|f| l.starts_with(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(input: &[u8], cap: usize) -> Vec<SseItem> {
        let mut p = SseParser::new(cap);
        let mut out = Vec::new();
        p.feed(input, &mut out);
        out
    }

    fn ev(event: &str, data: &str, id: Option<&str>) -> SseItem {
        SseItem::Event(SseEvent {
            event: event.into(),
            data: data.as_bytes().to_vec(),
            id: id.map(Into::into),
        })
    }

    #[test]
    fn eventstreams_framing() {
        let input = b":ok\n\nevent: message\nid: [{\"topic\":\"t\"}]\ndata: {\"a\":1}\n\n";
        assert_eq!(
            parse_all(input, 1000),
            vec![ev("message", "{\"a\":1}", Some("[{\"topic\":\"t\"}]"))]
        );
    }

    #[test]
    fn line_ends_multiline_data_bom_and_fields() {
        let input =
            b"\xEF\xBB\xBFdata: a\r\ndata:b\rdata\n\nevent: x\nretry: 1500\nid: 7\ndata: c\n\n";
        assert_eq!(
            parse_all(input, 1000),
            vec![
                ev("message", "a\nb\n", None),
                SseItem::Retry(1500),
                ev("x", "c", Some("7"))
            ]
        );
    }

    #[test]
    fn id_persists_ignores_nul_and_empty_data_is_not_dispatched() {
        let input = b"id: 1\n\ndata: a\n\nid: 2\0x\ndata: b\n\nid\ndata: c\n\n";
        assert_eq!(
            parse_all(input, 1000),
            vec![
                ev("message", "a", Some("1")),
                ev("message", "b", Some("1")),
                ev("message", "c", None)
            ]
        );
    }

    #[test]
    fn bad_retry_and_unknown_fields_are_ignored() {
        let input = b"retry: 12a\nfoo: bar\ndata: x\n\n";
        assert_eq!(parse_all(input, 1000), vec![ev("message", "x", None)]);
    }

    #[test]
    fn oversized_event_is_skipped_and_the_next_parses() {
        let big = "x".repeat(5000);
        let input = format!("id: 1\ndata: {big}\nid: 2\n\ndata: small\n\n");
        for split in [1, 7, 100, 4096, input.len()] {
            let mut p = SseParser::new(1000);
            let mut out = Vec::new();
            for c in input.as_bytes().chunks(split) {
                p.feed(c, &mut out);
            }
            assert_eq!(out.len(), 2, "split {split}: {out:?}");
            assert!(
                matches!(&out[0], SseItem::Oversized { id: Some(id), bytes } if id == "2" && *bytes > 5000),
                "{:?}",
                out[0]
            );
            assert_eq!(out[1], ev("message", "small", Some("2")));
            // Never buffered the big line.
            assert!(p.line.capacity() <= 4096 + 1000, "{}", p.line.capacity());
        }
    }

    #[test]
    fn many_data_lines_adding_up_past_the_cap_are_oversized() {
        let line = format!("data: {}\n", "y".repeat(400));
        let input = format!("{}{}\n", line.repeat(5), "");
        let out = parse_all(input.as_bytes(), 1000);
        assert!(matches!(out[0], SseItem::Oversized { .. }), "{out:?}");
    }

    #[test]
    fn writer_output_parses_back() {
        let mut buf = Vec::new();
        write_event(&mut buf, "message", Some("[1]"), b"{\"a\":\"b\"}");
        write_event(&mut buf, "message", None, b"two\nlines");
        assert_eq!(
            parse_all(&buf, 1000),
            vec![
                ev("message", "{\"a\":\"b\"}", Some("[1]")),
                ev("message", "two\nlines", Some("[1]"))
            ]
        );
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_items(
            events in proptest::collection::vec(("[a-z]{0,3}", "[ -~]{0,40}", proptest::option::of("[0-9]{1,5}")), 0..8),
            eol in 0usize..3,
            cuts in proptest::collection::vec(0usize..400, 0..10),
        ) {
            let nl = ["\n", "\r\n", "\r"][eol];
            let mut text = String::from(":ok");
            text.push_str(nl);
            text.push_str(nl);
            for (name, data, id) in &events {
                if !name.is_empty() { text.push_str(&format!("event: {name}{nl}")); }
                if let Some(id) = id { text.push_str(&format!("id: {id}{nl}")); }
                text.push_str(&format!("data: {data}{nl}{nl}"));
            }
            let whole = parse_all(text.as_bytes(), 10_000);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.sort_unstable();
            let mut p = SseParser::new(10_000);
            let mut out = Vec::new();
            let mut start = 0;
            for c in cuts {
                p.feed(&text.as_bytes()[start..c], &mut out);
                start = c;
            }
            p.feed(&text.as_bytes()[start..], &mut out);
            prop_assert_eq!(&out, &whole);
            prop_assert_eq!(whole.len(), events.len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..2000), cap in 1usize..200) {
            let mut p = SseParser::new(cap);
            let mut out = Vec::new();
            for c in input.chunks(13) {
                p.feed(c, &mut out);
            }
            for item in out {
                if let SseItem::Event(e) = item {
                    prop_assert!(e.data.len() <= cap);
                }
            }
        }
    }
}
