//! The resume token: EventStreams' per-topic-partition assignment list, as
//! sent in each event's `id:` and accepted back in `Last-Event-ID`.
//!
//! `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1670732822001},
//!   {"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`
//!
//! After an event from a topic is sent, that topic's element becomes
//! `timestamp = kafka_ts + 1`; the others keep their initial form. `offset`
//! wins over `timestamp` when both are given.

use serde::Deserialize;

use super::corpus::Entry;

/// Where one topic-partition starts or stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seek {
    /// A Kafka offset; `-1` means "latest", which for a replay is the start of
    /// the recording (all of it lies ahead of a new client).
    Offset(i64),
    /// The first event with a Kafka timestamp at or after this (ms).
    Timestamp(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    pub topic: String,
    pub partition: i64,
    pub seek: Seek,
}

impl Assigned {
    /// The index of the first event on `entries` this seek selects.
    pub fn start_index(&self, entries: &[Entry]) -> usize {
        match self.seek {
            Seek::Offset(o) if o < 0 => 0,
            Seek::Offset(o) => usize::try_from(o).unwrap_or(usize::MAX).min(entries.len()),
            Seek::Timestamp(t) => entries.partition_point(|e| e.ts_ms < t),
        }
    }

    /// This element as JSON, the way KafkaSSE writes it.
    pub fn write_json(&self, out: &mut String) {
        use std::fmt::Write;
        let topic = serde_json::to_string(&self.topic).unwrap_or_default();
        let _ = match self.seek {
            Seek::Offset(o) => write!(
                out,
                r#"{{"topic":{topic},"partition":{},"offset":{o}}}"#,
                self.partition
            ),
            Seek::Timestamp(t) => write!(
                out,
                r#"{{"topic":{topic},"partition":{},"timestamp":{t}}}"#,
                self.partition
            ),
        };
    }
}

/// Why a `Last-Event-ID` was refused; the status the real service answers.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssignmentError {
    #[error("Last-Event-ID is not a JSON array of assignments: {0}")]
    Invalid(String),
    #[error("topic {0} is not part of the requested streams")]
    TopicNotAvailable(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Element {
    Topic(String),
    Full {
        topic: String,
        #[serde(default)]
        partition: i64,
        offset: Option<i64>,
        timestamp: Option<i64>,
    },
}

/// Parses a `Last-Event-ID` against the topics the URL allows.
pub fn parse_last_event_id(
    header: &str,
    allowed_topics: &[String],
) -> Result<Vec<Assigned>, AssignmentError> {
    let elements: Vec<Element> =
        serde_json::from_str(header).map_err(|e| AssignmentError::Invalid(e.to_string()))?;
    if elements.is_empty() {
        return Err(AssignmentError::Invalid("the array is empty".into()));
    }
    let mut out = Vec::with_capacity(elements.len());
    for el in elements {
        let a = match el {
            Element::Topic(topic) => Assigned {
                topic,
                partition: 0,
                seek: Seek::Offset(-1),
            },
            Element::Full {
                topic,
                partition,
                offset,
                timestamp,
            } => {
                let seek = match (offset, timestamp) {
                    (Some(o), _) => Seek::Offset(o),
                    (None, Some(t)) => Seek::Timestamp(t),
                    (None, None) => {
                        return Err(AssignmentError::Invalid(format!(
                            "the element for {topic} has neither offset nor timestamp"
                        )));
                    }
                };
                Assigned {
                    topic,
                    partition,
                    seek,
                }
            }
        };
        if !allowed_topics.contains(&a.topic) {
            return Err(AssignmentError::TopicNotAvailable(a.topic));
        }
        out.push(a);
    }
    Ok(out)
}

/// The whole list as one `id:` value (the server builds it from kept parts).
#[cfg(test)]
pub fn to_json(assigned: &[Assigned]) -> String {
    let mut s = String::with_capacity(assigned.len() * 80);
    s.push('[');
    for (i, a) in assigned.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        a.write_json(&mut s);
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> Vec<String> {
        vec![
            "eqiad.mediawiki.recentchange".into(),
            "codfw.mediawiki.recentchange".into(),
        ]
    }

    #[test]
    fn the_real_id_form_round_trips() {
        let id = r#"[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1670732822001},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]"#;
        let a = parse_last_event_id(id, &topics()).unwrap();
        assert_eq!(a[0].seek, Seek::Timestamp(1_670_732_822_001));
        assert_eq!(a[1].seek, Seek::Offset(-1));
        assert_eq!(to_json(&a), id);
    }

    #[test]
    fn offset_wins_over_timestamp_and_bare_topics_mean_latest() {
        let id = r#"[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":7,"timestamp":5},"codfw.mediawiki.recentchange"]"#;
        let a = parse_last_event_id(id, &topics()).unwrap();
        assert_eq!(a[0].seek, Seek::Offset(7));
        assert_eq!(a[1].seek, Seek::Offset(-1));
    }

    #[test]
    fn bad_ids_are_refused_with_the_reason() {
        assert!(matches!(
            parse_last_event_id("not json", &topics()),
            Err(AssignmentError::Invalid(_))
        ));
        assert!(matches!(
            parse_last_event_id("[]", &topics()),
            Err(AssignmentError::Invalid(_))
        ));
        assert_eq!(
            parse_last_event_id(
                r#"[{"topic":"eqiad.other","partition":0,"offset":1}]"#,
                &topics()
            ),
            Err(AssignmentError::TopicNotAvailable("eqiad.other".into()))
        );
    }
}
