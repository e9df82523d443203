//! The one time bucketing of every series (hashtag time series, link
//! reports): UTC days grouped by day, month or year, zero-filled from the
//! first to the last day of a range.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::params::DAY_MS;

/// The length of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Day,
    Month,
    Year,
}

/// One period of a series: its label (`2026-01-31`, `2026-01` or `2026`),
/// its first day (`2026-01-01`) and what was added up in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Period<A> {
    pub label: String,
    pub start: String,
    pub value: A,
}

/// A series would have more periods than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many periods: choose a coarser granularity or a shorter range")]
pub struct TooManyPeriods;

/// The days (since 1970-01-01) a series covers: those of the range
/// `[from_ms, until_ms)` where given, else the first and last day of the data.
pub fn day_span(
    from_ms: Option<i64>,
    until_ms: Option<i64>,
    data_first: Option<i64>,
    data_last: Option<i64>,
) -> Option<(i64, i64)> {
    let first = from_ms.map(|ms| ms.div_euclid(DAY_MS)).or(data_first)?;
    let last = until_ms
        .map(|ms| (ms - 1).div_euclid(DAY_MS))
        .or(data_last)?;
    Some((first, last))
}

/// The date of a day number (days since 1970-01-01).
fn date_of(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((719_163 + day) as i32).unwrap_or_default()
}

/// The periods from day `first` to day `last` (both included), each holding
/// `add` of the data of its days (`day` gives a datum's day; data outside
/// the span is left out), zero-filled. More than `max` periods is refused.
pub fn fill<D, A: Default>(
    (first, last): (i64, i64),
    unit: Unit,
    max: usize,
    data: &[D],
    day: impl Fn(&D) -> i64,
    mut add: impl FnMut(&mut A, &D),
) -> Result<Vec<Period<A>>, TooManyPeriods> {
    let key = |d: NaiveDate| -> (i32, u32, u32) {
        match unit {
            Unit::Day => (d.year(), d.month(), d.day()),
            Unit::Month => (d.year(), d.month(), 1),
            Unit::Year => (d.year(), 1, 1),
        }
    };
    let (d0, d1) = (date_of(first), date_of(last));
    let past_end = d1 + chrono::Days::new(1);
    let mut periods: Vec<((i32, u32, u32), A)> = Vec::new();
    let mut d = d0;
    while d <= d1 {
        let k = key(d);
        if periods.last().is_none_or(|p| p.0 != k) {
            periods.push((k, A::default()));
            if periods.len() > max {
                return Err(TooManyPeriods);
            }
        }
        d = match unit {
            Unit::Day => d.succ_opt().unwrap_or(past_end),
            Unit::Month => NaiveDate::from_ymd_opt(
                if k.1 == 12 { k.0 + 1 } else { k.0 },
                if k.1 == 12 { 1 } else { k.1 + 1 },
                1,
            )
            .unwrap_or(past_end),
            Unit::Year => NaiveDate::from_ymd_opt(k.0 + 1, 1, 1).unwrap_or(past_end),
        };
    }
    for x in data {
        let dx = day(x);
        if dx < first || dx > last {
            continue;
        }
        let k = key(date_of(dx));
        if let Ok(i) = periods.binary_search_by(|p| p.0.cmp(&k)) {
            add(&mut periods[i].1, x);
        }
    }
    Ok(periods
        .into_iter()
        .map(|((y, m, d), value)| Period {
            label: match unit {
                Unit::Day => format!("{y:04}-{m:02}-{d:02}"),
                Unit::Month => format!("{y:04}-{m:02}"),
                Unit::Year => format!("{y:04}"),
            },
            start: format!("{y:04}-{m:02}-{d:02}"),
            value,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_zero_filled_and_labelled() {
        // 2016-01-30 .. 2016-03-02
        let days = [(16_830, 1), (16_832, 2), (16_862, 4), (16_900, 8)];
        let f = |unit, max| {
            fill(
                (16_830, 16_862),
                unit,
                max,
                &days,
                |d| d.0,
                |a: &mut i64, d| *a += d.1,
            )
        };
        let by_day = f(Unit::Day, 100).unwrap();
        assert_eq!(by_day.len(), 33);
        assert_eq!(by_day[0].label, "2016-01-30");
        assert_eq!(by_day[2].value, 2);
        let by_month = f(Unit::Month, 100).unwrap();
        let months: Vec<(&str, &str, i64)> = by_month
            .iter()
            .map(|p| (p.label.as_str(), p.start.as_str(), p.value))
            .collect();
        assert_eq!(
            months,
            vec![
                ("2016-01", "2016-01-01", 1),
                ("2016-02", "2016-02-01", 2),
                ("2016-03", "2016-03-01", 4)
            ]
        );
        assert_eq!(f(Unit::Year, 100).unwrap()[0].label, "2016");
        assert_eq!(f(Unit::Day, 10), Err(TooManyPeriods));
        assert_eq!(day_span(None, Some(DAY_MS), Some(-3), None), Some((-3, 0)));
    }
}
