//! The banner every page shows above its content when ingest is behind
//! (`base.html` renders it), and the human form of a duration it uses.

use super::state::AppState;

/// How far behind ingest may fall before pages say so.
pub const STALE_AFTER_SECS: f64 = 300.0;

/// The banner text, `None` while ingest is current: organisers were hurt
/// most by late data they could not see was late.
pub fn ingest_note(state: &AppState) -> Option<String> {
    match state.telemetry.lag_seconds() {
        Some(l) if l <= STALE_AFTER_SECS => None,
        Some(l) => Some(format!(
            "Ingest is behind: the newest event is {} old. Counts and lists may be incomplete until it catches up.",
            human_duration(l)
        )),
        None => Some("No events ingested yet: counts and lists are empty or incomplete.".into()),
    }
}

/// `42 s`, `5 min`, `3 h`, `2 days`.
pub fn human_duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}
