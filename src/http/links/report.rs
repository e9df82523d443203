//! The link views the API and the pages share: a page of events, a report
//! (totals, series, top lists, signals) and a user's domains.

use serde::Serialize;

use super::filter::parse_filter;
use crate::http::buckets::{Unit, day_span, fill};
use crate::http::error::ApiError;
use crate::http::params::{Choices, Params};
use crate::http::state::AppState;
use crate::links::filter::LinkFilter;
use crate::links::report::{Cursor, LinkEventRow, LinkReport, TopRow, UserDomainRow};

#[derive(Serialize)]
pub struct EventsPage {
    pub events: Vec<LinkEventRow>,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub async fn events_page(
    state: &AppState,
    filter: &LinkFilter,
    p: &Params,
) -> Result<EventsPage, ApiError> {
    let n = p.limit(50, 1000)?;
    let cursor = p.cursor("cursor", |c| Cursor::decode(c).ok_or(()))?;
    let mut events = state.store.link_events(filter, cursor, n + 1).await?;
    let more = events.len() > n;
    events.truncate(n);
    let next_cursor = if more {
        events.last().map(|e| {
            Cursor {
                time_ms: e.time_ms,
                id: e.id,
            }
            .encode()
        })
    } else {
        None
    };
    Ok(EventsPage {
        events,
        next_cursor,
    })
}

/// The period length of a report's series (day or month).
pub type Bucket = Unit;

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// `2026-01-31` or `2026-01`.
    pub period: String,
    pub added: i64,
    pub removed: i64,
    pub net: i64,
}

/// Zero-filled series from the first to the last day of the range (the
/// filter's dates, else the data's), at most 30 years.
pub fn series(report: &LinkReport, filter: &LinkFilter, bucket: Bucket) -> Vec<Period> {
    let Some((first, last)) = day_span(
        filter.from_ms,
        filter.until_ms,
        report.days.first().map(|d| d.day),
        report.days.last().map(|d| d.day),
    ) else {
        return Vec::new();
    };
    let last = last.min(first + 366 * 30);
    fill(
        (first, last),
        bucket,
        usize::MAX,
        &report.days,
        |d| d.day,
        |(added, removed): &mut (i64, i64), d| {
            *added += d.added;
            *removed += d.removed;
        },
    )
    .unwrap_or_default()
    .into_iter()
    .map(|p| {
        let (added, removed) = p.value;
        Period {
            period: p.label,
            added,
            removed,
            net: added - removed,
        }
    })
    .collect()
}

const BUCKETS: Choices<Bucket> = Choices {
    entries: &[(&["day"], Bucket::Day), (&["month"], Bucket::Month)],
    fold_case: false,
};

fn bucket(p: &Params, filter: &LinkFilter, report: &LinkReport) -> Result<Bucket, ApiError> {
    match p.choice("bucket", &BUCKETS)? {
        Some(b) => Ok(b),
        None => {
            let first = filter
                .from_ms
                .map(|t| t / 86_400_000)
                .or(report.days.first().map(|d| d.day))
                .unwrap_or(0);
            let last = filter
                .until_ms
                .map(|t| t / 86_400_000)
                .or(report.days.last().map(|d| d.day))
                .unwrap_or(0);
            Ok(if last - first > 92 {
                Bucket::Month
            } else {
                Bucket::Day
            })
        }
    }
}

#[derive(Serialize)]
pub struct ReportView {
    pub subject: String,
    pub added: i64,
    pub removed: i64,
    pub net: i64,
    pub present: i64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub bucket: Bucket,
    pub series: Vec<Period>,
    pub top_users: Vec<TopRow>,
    pub top_wikis: Vec<TopRow>,
    pub top_pages: Vec<TopRow>,
    pub signals: crate::links::report::SpamSignals,
    pub latest: Vec<LinkEventRow>,
    /// `rollups` or `log`: whether the per-domain rollups answered.
    pub computed_from: &'static str,
}

pub async fn build_report(
    state: &AppState,
    subject: String,
    filter: &LinkFilter,
    p: &Params,
) -> Result<ReportView, ApiError> {
    let top = p.bounded("top", 10, 100)?;
    let report = state.store.link_report(filter, top).await?;
    let b = bucket(p, filter, &report)?;
    let latest = state.store.link_events(filter, None, 10).await?;
    Ok(ReportView {
        subject,
        added: report.added,
        removed: report.removed,
        net: report.net,
        present: report.present,
        first_seen: report.first_seen_ms.map(crate::event::format_ms),
        last_seen: report.last_seen_ms.map(crate::event::format_ms),
        bucket: b,
        series: series(&report, filter, b),
        top_users: report.top_users.clone(),
        top_wikis: report.top_wikis.clone(),
        top_pages: report.top_pages.clone(),
        signals: report.signals.clone(),
        latest,
        computed_from: report.computed_from,
    })
}

#[derive(Serialize)]
pub struct UserView {
    pub user: String,
    pub domains: Vec<UserDomainRow>,
    pub latest: Vec<LinkEventRow>,
}

pub async fn build_user(state: &AppState, user: &str, p: &Params) -> Result<UserView, ApiError> {
    let mut filter = parse_filter(p)?;
    let user = user.replace('_', " ");
    filter.users = vec![user.clone()];
    Ok(UserView {
        domains: state.store.link_user_domains(&filter).await?,
        latest: state.store.link_events(&filter, None, 20).await?,
        user,
    })
}
