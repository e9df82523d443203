//! Hashtag edits per day, month or year over the query's range: the
//! granularity parameter and its automatic choice (see [`crate::http::buckets`]).

use serde::Serialize;

use crate::hashtags::query::{DayCount, HashtagQuery};
use crate::http::buckets::{Unit, day_span, fill};
use crate::http::error::ApiError;
use crate::http::params::{Choices, Params};

/// The period length of a hashtag time series.
pub type Granularity = Unit;

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub period: String,
    pub start: String,
    pub edits: i64,
}

/// Most periods a time series may have.
const MAX_PERIODS: usize = 50_000;

/// Buckets the daily counts, zero-filled over the query's range (or the span
/// of the data when the query has none).
pub fn timeseries(
    q: &HashtagQuery,
    days: &[DayCount],
    chosen: Option<Granularity>,
) -> Result<(Granularity, Vec<Bucket>), ApiError> {
    let Some((first, last)) = day_span(
        q.from_ms,
        q.until_ms,
        days.first().map(|d| d.day),
        days.last().map(|d| d.day),
    ) else {
        return Ok((chosen.unwrap_or(Granularity::Day), Vec::new()));
    };
    let span = last - first + 1;
    let g = chosen.unwrap_or(if span < 90 {
        Granularity::Day
    } else if span < 1095 {
        Granularity::Month
    } else {
        Granularity::Year
    });
    let periods = fill(
        (first, last),
        g,
        MAX_PERIODS,
        days,
        |d| d.day,
        |n: &mut i64, d| *n += d.edits,
    )
    .map_err(|e| ApiError::bad("granularity", e.to_string()))?;
    Ok((
        g,
        periods
            .into_iter()
            .map(|p| Bucket {
                period: p.label,
                start: p.start,
                edits: p.value,
            })
            .collect(),
    ))
}

const GRANULARITIES: Choices<Option<Granularity>> = Choices {
    entries: &[
        (&["auto"], None),
        (&["day", "daily"], Some(Granularity::Day)),
        (&["month", "monthly"], Some(Granularity::Month)),
        (&["year", "yearly"], Some(Granularity::Year)),
    ],
    fold_case: true,
};

pub fn granularity(p: &Params) -> Result<Option<Granularity>, ApiError> {
    Ok(p.choice("granularity", &GRANULARITIES)?.flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeseries_zero_fills_and_picks_granularity() {
        let q = HashtagQuery::default();
        let days = [
            DayCount {
                day: 16_832,
                edits: 5,
            },
            DayCount {
                day: 16_833,
                edits: 3,
            },
            DayCount {
                day: 16_835,
                edits: 2,
            },
        ];
        let (g, b) = timeseries(&q, &days, None).unwrap();
        assert_eq!(g, Granularity::Day);
        assert_eq!(b[0].period, "2016-02-01");
        let counts: Vec<i64> = b.iter().map(|b| b.edits).collect();
        assert_eq!(counts, vec![5, 3, 0, 2]);
        let (_, b) = timeseries(&q, &days, Some(Granularity::Month)).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].period, "2016-02");
        assert_eq!(b[0].edits, 10);
    }
}
