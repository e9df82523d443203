//! Hashtag edits per day, month or year, zero-filled over the query's range.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::params::{Choices, DAY_MS, Params};
use crate::store::hashtag_queries::{DayCount, HashtagQuery};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Day,
    Month,
    Year,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub period: String,
    pub start: String,
    pub edits: i64,
}

fn day_date(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((719_163 + day) as i32).unwrap_or_default()
}

/// Buckets the daily counts, zero-filled over the query's range (or the span
/// of the data when the query has none).
pub fn timeseries(
    q: &HashtagQuery,
    days: &[DayCount],
    chosen: Option<Granularity>,
) -> Result<(Granularity, Vec<Bucket>), ApiError> {
    let first = q
        .from_ms
        .map(|ms| ms.div_euclid(DAY_MS))
        .or(days.first().map(|d| d.day));
    let last = q
        .until_ms
        .map(|ms| (ms - 1).div_euclid(DAY_MS))
        .or(days.last().map(|d| d.day));
    let (Some(first), Some(last)) = (first, last) else {
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
    let key = |d: NaiveDate| -> (i32, u32, u32) {
        match g {
            Granularity::Day => (d.year(), d.month(), d.day()),
            Granularity::Month => (d.year(), d.month(), 1),
            Granularity::Year => (d.year(), 1, 1),
        }
    };
    let (d0, d1) = (day_date(first), day_date(last));
    let mut buckets: Vec<((i32, u32, u32), i64)> = Vec::new();
    let mut d = d0;
    while d <= d1 {
        let k = key(d);
        if buckets.last().is_none_or(|b| b.0 != k) {
            buckets.push((k, 0));
            if buckets.len() > 50_000 {
                return Err(ApiError::bad(
                    "granularity",
                    "too many periods: choose a coarser granularity or a shorter range",
                ));
            }
        }
        d = match g {
            Granularity::Day => d.succ_opt().unwrap_or(d1 + chrono::Days::new(1)),
            Granularity::Month => NaiveDate::from_ymd_opt(
                if k.1 == 12 { k.0 + 1 } else { k.0 },
                if k.1 == 12 { 1 } else { k.1 + 1 },
                1,
            )
            .unwrap_or(d1 + chrono::Days::new(1)),
            Granularity::Year => {
                NaiveDate::from_ymd_opt(k.0 + 1, 1, 1).unwrap_or(d1 + chrono::Days::new(1))
            }
        };
    }
    for dc in days {
        let k = key(day_date(dc.day));
        if let Ok(i) = buckets.binary_search_by(|b| b.0.cmp(&k)) {
            buckets[i].1 += dc.edits;
        }
    }
    Ok((
        g,
        buckets
            .into_iter()
            .map(|((y, m, d), edits)| Bucket {
                period: match g {
                    Granularity::Day => format!("{y:04}-{m:02}-{d:02}"),
                    Granularity::Month => format!("{y:04}-{m:02}"),
                    Granularity::Year => format!("{y:04}"),
                },
                start: format!("{y:04}-{m:02}-{d:02}"),
                edits,
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
