//! Server-Sent Events: an incremental parser for the upstream byte stream and
//! the writer used by every SSE endpoint wikiwatch serves. STUB: to be implemented.

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
    _max_event_bytes: usize,
}

impl SseParser {
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser {
            _max_event_bytes: max_event_bytes,
        }
    }

    pub fn feed(&mut self, _chunk: &[u8], _out: &mut Vec<SseItem>) {}

    pub fn last_event_id(&self) -> Option<&str> {
        None
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
    buf.extend_from_slice(b"data: ");
    buf.extend_from_slice(data);
    buf.extend_from_slice(b"\n\n");
}
