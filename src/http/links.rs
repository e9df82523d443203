//! The external-link API (`/api/links/…`), its exports (CSV, NDJSON,
//! streamed page by page with keyset pagination, so memory stays flat) and
//! the collections admin API. Every view runs on the one query engine in
//! [`crate::store::links`].

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::{ApiError, AppState};
use crate::links::filter::{
    CollectionDef, InvalidParam, LinkFilter, LinkMatch, Provenance, Tristate, parse_action,
};
use crate::links::report::{Cursor, LinkEventRow, LinkReport, TopBy, TopRow, UserDomainRow};
use crate::store::Store;

/// Link settings from the configuration.
#[derive(Debug, Clone, Default)]
pub struct LinksConfig {
    /// Collections from the configuration file (read-only through the API).
    pub collections: Vec<CollectionDef>,
    /// Token of the admin API; `None` disables it.
    pub admin_token: Option<String>,
}

impl From<InvalidParam> for ApiError {
    fn from(e: InvalidParam) -> Self {
        ApiError::bad(e.parameter, e.message)
    }
}

/// Parameters every link endpoint accepts (filters) plus the per-view ones.
const FILTER_KEYS: &[&str] = &[
    "domain",
    "host",
    "prefix",
    "pattern",
    "wrappers",
    "action",
    "provenance",
    "wiki",
    "namespace",
    "user",
    "bots",
    "editor",
    "min_account_age_days",
    "max_account_age_days",
    "min_edits",
    "max_edits",
    "from",
    "to",
];
const VIEW_KEYS: &[&str] = &[
    "limit",
    "cursor",
    "format",
    "bucket",
    "top",
    "by",
    "window",
    "granularity",
    "only_listed_users",
    "table",
    "last_event_id",
    "since",
];

/// The query string as key/value pairs, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(q: Option<&str>) -> Result<Params, ApiError> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (k, _) in &pairs {
            if !FILTER_KEYS.contains(&k.as_str()) && !VIEW_KEYS.contains(&k.as_str()) {
                return Err(ApiError::bad(
                    "query",
                    format!(
                        "unknown parameter {k:?}; filters are {}",
                        FILTER_KEYS.join(", ")
                    ),
                ));
            }
        }
        Ok(Params(pairs))
    }

    /// Every value of `key`, repeated or comma separated.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    fn int(&self, key: &'static str) -> Result<Option<i64>, ApiError> {
        self.one(key)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::bad(key, format!("{v:?} is not a whole number")))
            })
            .transpose()
    }

    fn tristate(&self, key: &'static str) -> Result<Tristate, ApiError> {
        match self.one(key) {
            None => Ok(Tristate::Include),
            Some(v) => Tristate::parse(v)
                .ok_or_else(|| ApiError::bad(key, format!("{v:?}: use include, exclude or only"))),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

/// `2026-01-31` (a whole UTC day) or an ISO-8601 time. Returns `(start, end)`
/// of what was named, end exclusive.
fn parse_time(key: &'static str, v: &str) -> Result<(i64, i64), ApiError> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let start = d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
            .unwrap_or(0);
        return Ok((start, start + 86_400_000));
    }
    match crate::event::parse_dt_ms(v) {
        Some(ms) => Ok((ms, ms + 1)),
        None => Err(ApiError::bad(
            key,
            format!("{v:?} is not a date: use YYYY-MM-DD (UTC) or an ISO-8601 time"),
        )),
    }
}

/// Builds the filter from the parameters. Provenance defaults to `edit`;
/// `provenance=all` counts every event.
pub fn parse_filter(p: &Params) -> Result<LinkFilter, ApiError> {
    let mut f = LinkFilter::default();
    for v in p.all("domain") {
        f.matchers.push(LinkMatch::domain(&v)?);
    }
    for v in p.all("host") {
        f.matchers.push(LinkMatch::host(&v)?);
    }
    for (k, v) in &p.0 {
        // URL prefixes and patterns may contain commas: one per parameter.
        if k == "prefix" && !v.trim().is_empty() {
            f.matchers.push(LinkMatch::prefix(v)?);
        }
        if k == "pattern" && !v.trim().is_empty() {
            f.matchers.push(LinkMatch::pattern(v)?);
        }
    }
    f.wrappers = p.tristate("wrappers")?;
    for v in p.all("action") {
        f.actions.push(parse_action(&v).ok_or_else(|| {
            ApiError::bad(
                "action",
                format!("{v:?}: use added, removed, page_deleted or page_restored"),
            )
        })?);
    }
    let provenances = p.all("provenance");
    if provenances.is_empty() {
        f.provenances = vec![Provenance::Edit];
    } else if !provenances.iter().any(|v| v == "all") {
        for v in provenances {
            f.provenances.push(Provenance::parse(&v).ok_or_else(|| {
                ApiError::bad(
                    "provenance",
                    format!("{v:?}: use edit, propagated, system or all"),
                )
            })?);
        }
    }
    for w in p.all("wiki") {
        if !w
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '*')
        {
            return Err(ApiError::bad(
                "wiki",
                format!("{w:?}: use database names such as enwiki, with * as a wildcard"),
            ));
        }
        f.wikis.push(w);
    }
    for v in p.all("namespace") {
        f.namespaces.push(
            v.parse()
                .map_err(|_| ApiError::bad("namespace", format!("{v:?} is not a number")))?,
        );
    }
    for u in p.all("user") {
        f.users.push(u.replace('_', " "));
    }
    f.bots = p.tristate("bots")?;
    for v in p.all("editor") {
        f.editor_kinds.push(match v.as_str() {
            "ip" => crate::extract::EditorKind::Ip,
            "temp" => crate::extract::EditorKind::Temp,
            "named" => crate::extract::EditorKind::Named,
            _ => {
                return Err(ApiError::bad(
                    "editor",
                    format!("{v:?}: use ip, temp or named"),
                ));
            }
        });
    }
    f.min_account_age_days = p.int("min_account_age_days")?;
    f.max_account_age_days = p.int("max_account_age_days")?;
    f.min_edit_count = p.int("min_edits")?;
    f.max_edit_count = p.int("max_edits")?;
    if let Some(v) = p.one("from") {
        f.from_ms = Some(parse_time("from", v)?.0);
    }
    if let Some(v) = p.one("to") {
        f.until_ms = Some(parse_time("to", v)?.1);
    }
    if let (Some(a), Some(b)) = (f.from_ms, f.until_ms)
        && a >= b
    {
        return Err(ApiError::bad("to", "the end is before the start"));
    }
    Ok(f)
}

fn limit(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match p.int("limit")? {
        None => Ok(default),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(n) => Err(ApiError::bad(
            "limit",
            format!("{n} is out of range: use 1 to {max}"),
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Ndjson,
}

fn format(p: &Params) -> Result<Format, ApiError> {
    match p.one("format").unwrap_or("json") {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        "ndjson" => Ok(Format::Ndjson),
        v => Err(ApiError::bad(
            "format",
            format!("{v:?}: use json, csv or ndjson"),
        )),
    }
}

/// One CSV field: formula-looking text (`= + - @`, tab, CR at the start) is
/// prefixed with `'` so spreadsheets show it as text; fields with commas,
/// quotes or line breaks are quoted.
pub fn csv_field(s: &str) -> String {
    let neutral = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

pub fn csv_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

const EVENT_CSV_HEADER: &[&str] = &[
    "id",
    "time",
    "action",
    "provenance",
    "wiki",
    "page_namespace",
    "page_title",
    "page_id",
    "rev_id",
    "rc_id",
    "user",
    "bot",
    "editor_kind",
    "url",
    "target",
    "host",
    "domain",
    "wrapper",
];

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn event_csv(e: &LinkEventRow) -> String {
    csv_line(&[
        e.id.to_string(),
        e.time.clone(),
        e.action.clone(),
        opt(&e.provenance),
        e.wiki.clone(),
        e.page_namespace.to_string(),
        e.page_title.clone(),
        e.page_id.to_string(),
        opt(&e.rev_id),
        opt(&e.rc_id),
        opt(&e.performer),
        opt(&e.performer_bot),
        opt(&e.editor_kind),
        e.url.clone(),
        e.target.clone(),
        opt(&e.host),
        opt(&e.domain),
        opt(&e.wrapper_kind),
    ])
}

fn download(content_type: &'static str, name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Streams every event the filter selects, newest first, one keyset page at
/// a time.
fn export_events(
    store: Arc<dyn Store>,
    filter: LinkFilter,
    fmt: Format,
    max_rows: Option<usize>,
    name: &str,
) -> Response {
    const PAGE: usize = 1000;
    struct St {
        store: Arc<dyn Store>,
        filter: LinkFilter,
        cursor: Option<Cursor>,
        header: bool,
        done: bool,
        left: usize,
    }
    let st = St {
        store,
        filter,
        cursor: None,
        header: fmt == Format::Csv,
        done: false,
        left: max_rows.unwrap_or(usize::MAX),
    };
    let stream = futures_util::stream::unfold(st, move |mut st| async move {
        if st.header {
            st.header = false;
            let h: Vec<String> = EVENT_CSV_HEADER.iter().map(|s| (*s).to_owned()).collect();
            return Some((Ok::<_, std::io::Error>(csv_line(&h)), st));
        }
        if st.done || st.left == 0 {
            return None;
        }
        let n = PAGE.min(st.left);
        match st.store.link_events(&st.filter, st.cursor, n).await {
            Err(e) => {
                tracing::error!(error = %e, "export failed");
                Some((Err(std::io::Error::other(e.to_string())), {
                    st.done = true;
                    st
                }))
            }
            Ok(rows) => {
                if rows.len() < n {
                    st.done = true;
                }
                st.left -= rows.len();
                if let Some(last) = rows.last() {
                    st.cursor = Some(Cursor {
                        time_ms: last.time_ms,
                        id: last.id,
                    });
                } else {
                    return None;
                }
                let mut out = String::new();
                for r in &rows {
                    match fmt {
                        Format::Csv => out.push_str(&event_csv(r)),
                        _ => {
                            out.push_str(&serde_json::to_string(r).unwrap_or_default());
                            out.push('\n');
                        }
                    }
                }
                Some((Ok(out), st))
            }
        }
    });
    match fmt {
        Format::Csv => download(
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
            Body::from_stream(stream),
        ),
        _ => download(
            "application/x-ndjson",
            &format!("{name}.ndjson"),
            Body::from_stream(stream),
        ),
    }
}

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
    let n = limit(p, 50, 1000)?;
    let cursor = p.one("cursor").map(Cursor::decode).transpose()?;
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

/// `GET /api/links/events`
pub async fn events(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let filter = parse_filter(&p)?;
    match format(&p)? {
        Format::Json => Ok(Json(events_page(&state, &filter, &p).await?).into_response()),
        fmt => {
            let max = p.int("limit")?.map(|n| n.max(0) as usize);
            Ok(export_events(
                Arc::clone(&state.store),
                filter,
                fmt,
                max,
                "link-events",
            ))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Day,
    Month,
}

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// `2026-01-31` or `2026-01`.
    pub period: String,
    pub added: i64,
    pub removed: i64,
    pub net: i64,
}

/// Zero-filled series from the first to the last day of the range (the
/// filter's dates, else the data's).
pub fn series(report: &LinkReport, filter: &LinkFilter, bucket: Bucket) -> Vec<Period> {
    const DAY: i64 = 86_400_000;
    let first = filter
        .from_ms
        .map(|t| t.div_euclid(DAY))
        .or(report.days.first().map(|d| d.day));
    let last = filter
        .until_ms
        .map(|t| (t - 1).div_euclid(DAY))
        .or(report.days.last().map(|d| d.day));
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let last = last.min(first + 366 * 30);
    let label = |day: i64| {
        let date = chrono::DateTime::from_timestamp_millis(day * DAY)
            .map(|d| d.date_naive())
            .unwrap_or_default();
        match bucket {
            Bucket::Day => date.format("%Y-%m-%d").to_string(),
            Bucket::Month => date.format("%Y-%m").to_string(),
        }
    };
    let mut out: Vec<Period> = Vec::new();
    let mut it = report.days.iter().peekable();
    for day in first..=last {
        let l = label(day);
        if out.last().is_none_or(|p| p.period != l) {
            out.push(Period {
                period: l,
                added: 0,
                removed: 0,
                net: 0,
            });
        }
        while let Some(d) = it.peek() {
            if d.day < day {
                it.next();
            } else {
                break;
            }
        }
        if let Some(d) = it.peek()
            && d.day == day
            && let Some(p) = out.last_mut()
        {
            p.added += d.added;
            p.removed += d.removed;
            p.net = p.added - p.removed;
        }
    }
    out
}

fn bucket(p: &Params, filter: &LinkFilter, report: &LinkReport) -> Result<Bucket, ApiError> {
    match p.one("bucket") {
        Some("day") => Ok(Bucket::Day),
        Some("month") => Ok(Bucket::Month),
        Some(v) => Err(ApiError::bad("bucket", format!("{v:?}: use day or month"))),
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
    let top = match p.int("top")? {
        None => 10,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => return Err(ApiError::bad("top", format!("{n}: use 1 to 100"))),
    };
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

/// The CSV of one table of a report (`table=series|users|wikis|pages`).
fn report_csv(view: &ReportView, table: &str, name: &str) -> Result<Response, ApiError> {
    let mut out = String::new();
    match table {
        "series" => {
            out.push_str(&csv_line(&[
                "period".into(),
                "added".into(),
                "removed".into(),
                "net".into(),
            ]));
            for s in &view.series {
                out.push_str(&csv_line(&[
                    s.period.clone(),
                    s.added.to_string(),
                    s.removed.to_string(),
                    s.net.to_string(),
                ]));
            }
        }
        "users" | "wikis" | "pages" => {
            let rows = match table {
                "users" => &view.top_users,
                "wikis" => &view.top_wikis,
                _ => &view.top_pages,
            };
            out.push_str(&csv_line(&[
                table.trim_end_matches('s').into(),
                "wiki".into(),
                "added".into(),
                "removed".into(),
                "net".into(),
            ]));
            for r in rows {
                out.push_str(&csv_line(&[
                    r.key.clone(),
                    opt(&r.wiki),
                    r.added.to_string(),
                    r.removed.to_string(),
                    r.net.to_string(),
                ]));
            }
        }
        other => {
            return Err(ApiError::bad(
                "table",
                format!("{other:?}: use series, users, wikis, pages or events"),
            ));
        }
    }
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("{name}-{table}.csv"),
        Body::from(out),
    ))
}

async fn report_response(
    state: &AppState,
    subject: String,
    filter: LinkFilter,
    p: &Params,
    name: &str,
) -> Result<Response, ApiError> {
    match format(p)? {
        Format::Json => Ok(Json(build_report(state, subject, &filter, p).await?).into_response()),
        fmt => {
            let table = p.one("table").unwrap_or("events");
            if table == "events" {
                return Ok(export_events(
                    Arc::clone(&state.store),
                    filter,
                    fmt,
                    None,
                    name,
                ));
            }
            if fmt == Format::Ndjson {
                return Err(ApiError::bad(
                    "format",
                    "ndjson is for table=events; use csv or json for the other tables",
                ));
            }
            let view = build_report(state, subject, &filter, p).await?;
            report_csv(&view, table, name)
        }
    }
}

/// `GET /api/links/domains/{domain}`
pub async fn domain_report(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let mut filter = parse_filter(&p)?;
    let m = LinkMatch::domain(&domain)?;
    let name = match &m {
        LinkMatch::Domain { domain, .. } => domain.clone(),
        _ => domain.clone(),
    };
    filter.matchers = vec![m];
    report_response(&state, name.clone(), filter, &p, &name).await
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

/// `GET /api/links/users/{user}`
pub async fn user_report(
    State(state): State<AppState>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    Ok(Json(build_user(&state, &user, &p).await?).into_response())
}

/// `GET /api/links/pages/{wiki}/{title}`
pub async fn page_history(
    State(state): State<AppState>,
    Path((wiki, title)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let mut filter = parse_filter(&p)?;
    filter.page = Some((wiki, title.replace('_', " ")));
    match format(&p)? {
        Format::Json => Ok(Json(events_page(&state, &filter, &p).await?).into_response()),
        fmt => Ok(export_events(
            Arc::clone(&state.store),
            filter,
            fmt,
            None,
            "page-links",
        )),
    }
}

/// `24h`, `7d`, `30d`, `all` → a start time.
fn window_start(v: &str, now: i64) -> Result<Option<i64>, ApiError> {
    if v == "all" {
        return Ok(None);
    }
    let bad = || ApiError::bad("window", format!("{v:?}: use Nh, Nd or all (e.g. 24h, 7d)"));
    let (n, unit) = v.split_at(v.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    let ms = match unit {
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        _ => return Err(bad()),
    };
    if n <= 0 {
        return Err(bad());
    }
    Ok(Some(now - ms))
}

/// `GET /api/links/top?by=domain|user|wiki|page&window=7d`
pub async fn top(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let mut filter = parse_filter(&p)?;
    let by_text = p.one("by").unwrap_or("domain");
    let by = TopBy::parse(by_text).ok_or_else(|| {
        ApiError::bad("by", format!("{by_text:?}: use domain, user, wiki or page"))
    })?;
    let window = p.one("window").unwrap_or("7d").to_owned();
    if filter.from_ms.is_none() {
        filter.from_ms = window_start(&window, crate::clock::now_ms())?;
    }
    let n = limit(&p, 25, 1000)?;
    let rows = state.store.link_top(&filter, by, n).await?;
    Ok(Json(json!({"by": by, "window": window, "rows": rows})).into_response())
}

// ---------------------------------------------------------------- collections

/// Config collections first, then those stored through the admin API.
pub async fn all_collections(state: &AppState) -> Result<Vec<CollectionDef>, ApiError> {
    let mut out: Vec<CollectionDef> = state.links.collections.clone();
    for c in state.store.link_collections().await? {
        if !out.iter().any(|o| o.name == c.name) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The filter of a set of collections: their patterns OR'ed, and with
/// `only_listed_users` their users.
pub fn collections_filter(
    cols: &[CollectionDef],
    p: &Params,
) -> Result<(LinkFilter, bool), ApiError> {
    let mut filter = parse_filter(p)?;
    if !filter.matchers.is_empty() {
        return Err(ApiError::bad(
            "domain",
            "a collection's patterns decide which links count; drop domain/host/prefix/pattern",
        ));
    }
    for c in cols {
        filter.matchers.extend(c.validate()?);
    }
    let only = match p.one("only_listed_users") {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(v) => {
            return Err(ApiError::bad(
                "only_listed_users",
                format!("{v:?}: use true or false"),
            ));
        }
    };
    if only {
        let users: Vec<String> = cols.iter().flat_map(|c| c.users.iter().cloned()).collect();
        if users.is_empty() {
            return Err(ApiError::bad(
                "only_listed_users",
                "this collection has no user list",
            ));
        }
        filter.users = users;
    }
    Ok((filter, only))
}

/// `GET /api/links/collections`
pub async fn list_collections(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(json!({"collections": all_collections(&state).await?})).into_response())
}

pub async fn find_collections(
    state: &AppState,
    name: &str,
    group: bool,
) -> Result<Vec<CollectionDef>, ApiError> {
    let cols: Vec<CollectionDef> = all_collections(state)
        .await?
        .into_iter()
        .filter(|c| {
            if group {
                c.group.as_deref() == Some(name)
            } else {
                c.name == name
            }
        })
        .collect();
    if cols.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no {} named {name:?}",
            if group {
                "collection group"
            } else {
                "collection"
            }
        )));
    }
    Ok(cols)
}

/// `GET /api/links/collections/{name}` — a collection's dashboard.
pub async fn collection_report(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let cols = find_collections(&state, &name, false).await?;
    let (filter, _) = collections_filter(&cols, &p)?;
    report_response(&state, name.clone(), filter, &p, &name).await
}

/// `GET /api/links/collection-groups/{group}` — all collections of a group.
pub async fn group_report(
    State(state): State<AppState>,
    Path(group): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let cols = find_collections(&state, &group, true).await?;
    let (filter, _) = collections_filter(&cols, &p)?;
    report_response(&state, group.clone(), filter, &p, &group).await
}

fn admin_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// Compares in time independent of where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

/// `None` when the request may use the admin API, else the refusal.
fn check_admin(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = state.links.admin_token.as_deref() else {
        return Some(admin_error(
            StatusCode::NOT_FOUND,
            "the admin API is disabled: start wikiwatch with --admin-token",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        None => Some(admin_error(
            StatusCode::UNAUTHORIZED,
            "send the admin token as Authorization: Bearer TOKEN",
        )),
        Some(g) if constant_time_eq(g.trim().as_bytes(), token.as_bytes()) => None,
        Some(_) => Some(admin_error(StatusCode::FORBIDDEN, "wrong admin token")),
    }
}

/// `PUT /api/admin/links/collections/{name}` with a JSON body
/// `{"patterns": […], "users": […], "group": …, "description": …}`.
pub async fn put_collection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if let Some(refusal) = check_admin(&state, &headers) {
        return Ok(refusal);
    }
    let mut value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad("body", format!("not JSON: {e}")))?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("name".into(), json!(name));
    }
    let mut col: CollectionDef = serde_json::from_value(value)
        .map_err(|e| ApiError::bad("body", format!("not a collection: {e}")))?;
    col.source = "api".into();
    col.validate()?;
    if state.links.collections.iter().any(|c| c.name == col.name) {
        return Ok(admin_error(
            StatusCode::CONFLICT,
            "this collection is defined in the configuration file; change it there",
        ));
    }
    state.store.put_link_collection(&col).await?;
    Ok((StatusCode::OK, Json(json!({"collection": col}))).into_response())
}

/// `DELETE /api/admin/links/collections/{name}`
pub async fn delete_collection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(refusal) = check_admin(&state, &headers) {
        return Ok(refusal);
    }
    if state.store.delete_link_collection(&name).await? {
        Ok(Json(json!({"deleted": name})).into_response())
    } else {
        Err(ApiError::NotFound(format!("no collection named {name:?}")))
    }
}

// ---------------------------------------------------------------- OpenAPI

fn filter_params() -> serde_json::Value {
    let p = |name: &str, desc: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": desc});
    json!([
        p(
            "domain",
            "Domain with its subdomains, on label boundaries (apa.org never matches iaapa.org). Repeatable or comma separated."
        ),
        p("host", "Exact host."),
        p(
            "prefix",
            "URL prefix with scheme and host (https://www.jstor.org/stable/)."
        ),
        p(
            "pattern",
            "Special:LinkSearch pattern (*.example.org/path)."
        ),
        p(
            "wrappers",
            "Proxied and archived links, counted for their target: include (default), exclude, only."
        ),
        p(
            "action",
            "added, removed, page_deleted, page_restored (comma separated)."
        ),
        p("provenance", "edit (default), propagated, system, or all."),
        p(
            "wiki",
            "Database names, * as wildcard (enwiki, *wiktionary)."
        ),
        p("namespace", "Namespace numbers."),
        p("user", "User names."),
        p("bots", "include (default), exclude, only."),
        p("editor", "ip, temp, named."),
        p("min_account_age_days", "Account age at the time, at least."),
        p("max_account_age_days", "Account age at the time, under."),
        p("min_edits", "Edit count at the time, at least."),
        p("max_edits", "Edit count at the time, at most."),
        p("from", "Start, YYYY-MM-DD (UTC) or ISO-8601."),
        p("to", "End, inclusive: a date covers the whole UTC day."),
    ])
}

/// The link paths of the OpenAPI document, to merge into the shared one.
pub fn links_paths() -> serde_json::Value {
    let filters = filter_params();
    let with = |extra: serde_json::Value| {
        let mut v = filters.as_array().cloned().unwrap_or_default();
        v.extend(extra.as_array().cloned().unwrap_or_default());
        serde_json::Value::Array(v)
    };
    let q = |name: &str, desc: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": desc});
    let path_param = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
    let err = json!({"description": "Bad parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let page = json!([
        q("limit", "Rows per page (1–1000, default 50)."),
        q("cursor", "next_cursor of the previous page."),
        q(
            "format",
            "json (default), csv or ndjson (streamed; ignores cursor)."
        )
    ]);
    let report = json!([
        q("bucket", "day or month (default by range)."),
        q("top", "Length of the top lists (1–100, default 10)."),
        q(
            "format",
            "json, or csv/ndjson with table=events|series|users|wikis|pages."
        ),
        q("table", "Table to export.")
    ]);
    json!({
        "/api/links/events": {"get": {"summary": "Link events, newest first (keyset pagination)", "parameters": with(page.clone()),
            "responses": {"200": {"description": "A page of events", "content": {"application/json": {}, "text/csv": {}, "application/x-ndjson": {}}}, "400": err}}},
        "/api/links/domains/{domain}": {"get": {"summary": "Domain report: added, removed, net over time (zero-filled), present count, first/last seen, top users/wikis/pages, spam signals, latest events",
            "parameters": with(json!([path_param("domain")]).as_array().cloned().unwrap_or_default().into_iter().chain(report.as_array().cloned().unwrap_or_default()).collect()),
            "responses": {"200": {"description": "Report"}, "400": err}}},
        "/api/links/users/{user}": {"get": {"summary": "Every domain a user added or removed, per wiki", "parameters": with(json!([path_param("user")])), "responses": {"200": {"description": "Domains"}, "400": err}}},
        "/api/links/pages/{wiki}/{title}": {"get": {"summary": "A page's link history", "parameters": with(json!([path_param("wiki"), path_param("title"), q("limit", ""), q("cursor", ""), q("format", "")])), "responses": {"200": {"description": "Events"}, "400": err}}},
        "/api/links/top": {"get": {"summary": "Ranked lists", "parameters": with(json!([q("by", "domain, user, wiki or page"), q("window", "24h, 7d (default), 30d, all"), q("limit", "1–1000")])), "responses": {"200": {"description": "Rows"}, "400": err}}},
        "/api/links/collections": {"get": {"summary": "Collections (from the configuration and the admin API)", "responses": {"200": {"description": "Collections"}}}},
        "/api/links/collections/{name}": {"get": {"summary": "A collection's dashboard", "parameters": with(json!([path_param("name"), q("only_listed_users", "true: only the collection's users"), q("bucket", ""), q("format", ""), q("table", "")])), "responses": {"200": {"description": "Report"}, "404": {"description": "No such collection"}}}},
        "/api/links/collection-groups/{group}": {"get": {"summary": "Dashboard of all collections in a group", "parameters": with(json!([path_param("group"), q("only_listed_users", ""), q("bucket", ""), q("format", ""), q("table", "")])), "responses": {"200": {"description": "Report"}}}},
        "/api/admin/links/collections/{name}": {
            "put": {"summary": "Create or replace a collection (Authorization: Bearer TOKEN)", "parameters": [path_param("name")],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}},
                "responses": {"200": {"description": "Stored"}, "401": {"description": "No token"}, "403": {"description": "Wrong token"}, "404": {"description": "Admin API disabled"}}},
            "delete": {"summary": "Delete a collection", "parameters": [path_param("name")], "responses": {"200": {"description": "Deleted"}, "403": {"description": "Wrong token"}}}
        },
        "/v2/stream/links": {"get": {"summary": "EventStreams-compatible SSE feed of link events; resume with Last-Event-ID from the store", "parameters": with(json!([q("granularity", "link (default) or edit"), q("since", "ISO-8601 time to start from")])), "responses": {"200": {"description": "text/event-stream"}}}},
        "/v2/stream/new-urls": {"get": {"summary": "Each target URL the first time it is added anywhere (wrappers unwrapped)", "parameters": with(json!([q("granularity", "link (default) or edit"), q("since", "")])), "responses": {"200": {"description": "text/event-stream"}}}}
    })
}

/// Schemas the link paths refer to.
pub fn links_schemas() -> serde_json::Value {
    json!({
        "Error": {"type": "object", "properties": {"error": {"type": "string"}, "parameter": {"type": "string"}}, "required": ["error"]},
        "Collection": {"type": "object", "properties": {
            "patterns": {"type": "array", "items": {"type": "string"}},
            "users": {"type": "array", "items": {"type": "string"}},
            "group": {"type": "string"}, "description": {"type": "string"}}, "required": ["patterns"]}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_neutralises_formulas() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM"), "'@SUM");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn bad_params_are_named() {
        let p = Params::parse(Some("action=bogus")).unwrap();
        match parse_filter(&p) {
            Err(ApiError::BadRequest { parameter, .. }) => assert_eq!(parameter, "action"),
            other => panic!("{other:?}"),
        }
        assert!(Params::parse(Some("nope=1")).is_err());
    }
}
