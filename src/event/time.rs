//! Event times: `meta.dt` in its several ISO-8601 spellings to epoch
//! milliseconds, and back to RFC 3339 UTC.

/// Milliseconds since the Unix epoch from an ISO-8601 / RFC 3339 string as
/// found in `meta.dt` (`2018-03-07T16:16:17+00:00`, `…Z`, `….048Z`, or a
/// space instead of `T`).
pub fn parse_dt_ms(dt: &str) -> Option<i64> {
    let dt = dt.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(dt) {
        return Some(t.timestamp_millis());
    }
    let with_t = dt.replacen(' ', "T", 1);
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&with_t) {
        return Some(t.timestamp_millis());
    }
    // A date-time without an offset is UTC, as MediaWiki writes it.
    chrono::NaiveDateTime::parse_from_str(&with_t, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// Formats epoch milliseconds as RFC 3339 UTC with millisecond precision.
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Parses a starting point as the replay server and `--since` take it: epoch
/// milliseconds, an ISO-8601 time, or a date (midnight UTC).
pub fn parse_time_or_epoch_ms(value: &str) -> Option<i64> {
    let v = value.trim();
    if let Ok(ms) = v.parse::<i64>() {
        return Some(ms);
    }
    parse_dt_ms(v).or_else(|| {
        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_date_forms() {
        assert_eq!(parse_dt_ms("2023-07-29T07:51:39Z"), Some(1_690_617_099_000));
        assert_eq!(
            parse_dt_ms("2018-03-07T16:16:17+00:00"),
            Some(1_520_439_377_000)
        );
        assert_eq!(
            parse_dt_ms("2026-03-03T11:15:25.048Z"),
            Some(1_772_536_525_048)
        );
        assert_eq!(parse_dt_ms("garbage"), None);
    }
}
