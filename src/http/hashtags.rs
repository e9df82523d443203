//! Hashtags: the JSON API, streamed CSV/NDJSON exports, the Atom and SSE
//! feeds and the server-rendered pages, all over one query engine
//! ([`crate::store::HashtagQueries`]).
//!
//! Parameters are parsed here into a validated [`HashtagQuery`]; a bad one is
//! a 400 naming it. The URL holds the whole query, so results can be shared.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use futures_util::Stream;
use serde::Serialize;
use serde_json::json;

use super::{ApiError, AppState};
use crate::extract::hashtag_key;
use crate::hashtags::query::{
    CHANGE_TYPES, Cursor, DayCount, EditRow, HashtagQuery, HashtagStats, MediaFilter, RowEncoder,
    TagInfo, TagMode, TagOrder, TopBy, TopRow, TrendingRow, WikiFilter,
};
use crate::store::HashtagQueries;
use crate::store::{Store, StoreError};

const DAY_MS: i64 = 86_400_000;
/// Rows per store call while streaming an export.
const EXPORT_PAGE: usize = 5_000;
const MAX_TAGS: usize = 20;

// ---------------------------------------------------------------- parameters

/// The raw query string as ordered pairs (repeated names allowed).
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Every value of `name`, split on `sep`, trimmed, without empties.
    fn list(&self, name: &str, sep: char) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(sep).map(str::trim).map(str::to_owned))
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The last non-empty value of `name`.
    fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// The query string without the named parameters (for building links).
    fn without(&self, drop: &[&str]) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !drop.contains(&k.as_str()) && !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

fn flag(p: &Params, name: &'static str) -> Result<bool, ApiError> {
    match p.one(name).map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "off" | "no") => Ok(false),
        Some("1" | "true" | "on" | "yes") => Ok(true),
        Some(v) => Err(ApiError::bad(
            name,
            format!("{name} must be true or false, not {v:?}"),
        )),
    }
}

fn date(p: &Params, name: &'static str) -> Result<Option<i64>, ApiError> {
    let Some(v) = p.one(name) else {
        return Ok(None);
    };
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        ApiError::bad(
            name,
            format!("{name} must be a date as YYYY-MM-DD (UTC), not {v:?}"),
        )
    })?;
    Ok(d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis()))
}

/// A tag as typed (`#WPWP`, `wpwp`, `＃WPWP`) → its key, or None if empty.
pub fn tag_key_of(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.trim_start_matches(['#', '＃']).trim();
    (!s.is_empty()).then(|| hashtag_key(s))
}

/// Parses the shared query parameters.
pub fn parse_query(p: &Params) -> Result<HashtagQuery, ApiError> {
    let mut q = HashtagQuery::default();
    let mut raw_tags = p.list("tags", ',');
    raw_tags.extend(p.list("tag", ','));
    for t in raw_tags {
        let Some(key) = tag_key_of(&t) else { continue };
        if key.chars().count() > 128 {
            return Err(ApiError::bad("tags", "a tag has at most 128 characters"));
        }
        if key.chars().any(char::is_whitespace) {
            return Err(ApiError::bad(
                "tags",
                format!("{t:?} is not a tag: separate several tags with commas"),
            ));
        }
        if !q.tags.contains(&key) {
            q.tags.push(key);
        }
    }
    if q.tags.len() > MAX_TAGS {
        return Err(ApiError::bad(
            "tags",
            format!("at most {MAX_TAGS} tags per query"),
        ));
    }
    q.mode = match p.one("mode").map(str::to_ascii_lowercase).as_deref() {
        None | Some("any" | "or") => TagMode::Any,
        Some("all" | "and") => TagMode::All,
        Some(v) => {
            return Err(ApiError::bad(
                "mode",
                format!("mode must be any or all, not {v:?}"),
            ));
        }
    };
    for w in p.list("wiki", ',') {
        q.wikis.push(WikiFilter::parse(&w).ok_or_else(|| {
            ApiError::bad(
                "wiki",
                format!(
                    "{w:?} is not a wiki: use a domain (fr.wikisource.org), a database name (frwikisource) or a wildcard (*.wikipedia.org, en.*)"
                ),
            )
        })?);
    }
    for u in p.list("user", '|') {
        let u = u.replace('_', " ");
        if !q.users.contains(&u) {
            q.users.push(u);
        }
    }
    for n in p.list("namespace", ',') {
        q.namespaces.push(n.parse().map_err(|_| {
            ApiError::bad(
                "namespace",
                format!("namespace must be a number, not {n:?}"),
            )
        })?);
    }
    for t in p.list("type", ',') {
        let t = t.to_ascii_lowercase();
        if !CHANGE_TYPES.contains(&t.as_str()) {
            return Err(ApiError::bad(
                "type",
                format!("type must be one of {}, not {t:?}", CHANGE_TYPES.join(", ")),
            ));
        }
        q.types.push(t);
    }
    q.from_ms = date(p, "start")?;
    // The end date is inclusive: everything before the next midnight.
    q.until_ms = date(p, "end")?.map(|ms| ms + DAY_MS);
    if let (Some(f), Some(u)) = (q.from_ms, q.until_ms)
        && u <= f
    {
        return Err(ApiError::bad("end", "end must not be before start"));
    }
    if let Some(t) = p.one("text") {
        if t.chars().count() > 200 {
            return Err(ApiError::bad("text", "text has at most 200 characters"));
        }
        q.text = Some(t.to_owned());
    }
    q.media = MediaFilter {
        image: flag(p, "image")?,
        video: flag(p, "video")?,
        audio: flag(p, "audio")?,
    };
    Ok(q)
}

fn limit(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match p.one("limit") {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad("limit", format!("limit must be a number from 1 to {max}"))
            }),
    }
}

fn cursor(p: &Params) -> Result<Option<Cursor>, ApiError> {
    p.one("cursor")
        .map(|c| {
            Cursor::decode(c).ok_or_else(|| {
                ApiError::bad(
                    "cursor",
                    "cursor must be a continuation token from a previous answer",
                )
            })
        })
        .transpose()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Ndjson,
}

fn format(p: &Params) -> Result<Format, ApiError> {
    match p.one("format").map(str::to_ascii_lowercase).as_deref() {
        None | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some("ndjson" | "jsonl") => Ok(Format::Ndjson),
        Some(v) => Err(ApiError::bad(
            "format",
            format!("format must be json, csv or ndjson, not {v:?}"),
        )),
    }
}

fn queries(state: &AppState) -> Result<&dyn HashtagQueries, ApiError> {
    Ok(state.store.hashtags())
}

// ---------------------------------------------------------------- rows

/// An edit as the API, the exports and the pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct ApiEdit {
    pub time: String,
    pub wiki: String,
    pub domain: String,
    pub rc_id: Option<i64>,
    pub rev_id: Option<i64>,
    pub old_rev_id: Option<i64>,
    pub title: String,
    pub namespace: i64,
    #[serde(rename = "type")]
    pub change_type: String,
    pub user: Option<String>,
    pub summary: String,
    pub tags: Vec<String>,
    pub size_change: Option<i64>,
    pub minor: bool,
    pub page_url: String,
    pub user_url: Option<String>,
    pub diff_url: Option<String>,
    pub has_image: Option<bool>,
    pub has_video: Option<bool>,
    pub has_audio: Option<bool>,
}

/// Characters a page or user name keeps in a wiki URL path.
const WIKI_PATH_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'-')
    .remove(b'.')
    .remove(b':')
    .remove(b'/')
    .remove(b'(')
    .remove(b')')
    .remove(b',');

fn wiki_path(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    push_wiki_path(&mut out, title);
    out
}

/// Appends `title` as a wiki URL path: spaces as `_`, the rest percent-encoded.
fn push_wiki_path(out: &mut String, title: &str) {
    for (i, part) in title.split(' ').enumerate() {
        if i > 0 {
            out.push('_');
        }
        out.extend(percent_encoding::utf8_percent_encode(part, WIKI_PATH_SET));
    }
}

impl From<EditRow> for ApiEdit {
    fn from(r: EditRow) -> ApiEdit {
        let size_change = r.size_change();
        ApiEdit {
            time: crate::event::format_ms(r.time_ms),
            page_url: format!("https://{}/wiki/{}", r.domain, wiki_path(&r.title)),
            user_url: r.user.as_ref().map(|u| {
                format!(
                    "https://{}/wiki/Special:Contributions/{}",
                    r.domain,
                    wiki_path(u)
                )
            }),
            diff_url: r
                .rev_new
                .map(|rev| format!("https://{}/wiki/Special:Diff/{rev}", r.domain)),
            wiki: r.wiki,
            domain: r.domain,
            rc_id: r.rc_id,
            rev_id: r.rev_new,
            old_rev_id: r.rev_old,
            title: r.title,
            namespace: r.namespace,
            change_type: r.change_type,
            user: r.user,
            summary: r.summary,
            tags: r.tags,
            size_change,
            minor: r.minor,
            has_image: r.has_image,
            has_video: r.has_video,
            has_audio: r.has_audio,
        }
    }
}

// ---------------------------------------------------------------- CSV

/// One CSV cell. Text that a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`.
pub fn csv_cell(out: &mut String, text: &str) {
    let neutralise = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = neutralise
        || text
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !quote {
        out.push_str(text);
        return;
    }
    out.push('"');
    if neutralise {
        out.push('\'');
    }
    // Whole runs between quotes at once; each quote doubled.
    let mut parts = text.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        out.push_str("\"\"");
        out.push_str(part);
    }
    out.push('"');
}

fn csv_row(out: &mut String, cells: &[&str]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(out, c);
    }
    out.push_str("\r\n");
}

/// Numbers are written as they are (a negative number is not a formula).
#[cfg(test)]
fn num(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

fn opt_flag(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

const EDIT_COLUMNS: &[&str] = &[
    "time",
    "wiki",
    "domain",
    "rc_id",
    "rev_id",
    "old_rev_id",
    "diff_url",
    "title",
    "page_url",
    "namespace",
    "type",
    "user",
    "size_change",
    "minor",
    "tags",
    "summary",
    "has_image",
    "has_video",
    "has_audio",
];

/// The export's CSV row of an [`ApiEdit`]: the reference [`edit_row_csv`] is
/// checked against.
#[cfg(test)]
fn edit_csv(out: &mut String, e: &ApiEdit) {
    let mut line = String::new();
    let nums = [
        num(e.rc_id),
        num(e.rev_id),
        num(e.old_rev_id),
        e.namespace.to_string(),
        num(e.size_change),
    ];
    let tags = e.tags.join(" ");
    let cells: [&str; 19] = [
        &e.time,
        &e.wiki,
        &e.domain,
        "",
        "",
        "",
        e.diff_url.as_deref().unwrap_or(""),
        &e.title,
        &e.page_url,
        "",
        &e.change_type,
        e.user.as_deref().unwrap_or(""),
        "",
        if e.minor { "true" } else { "false" },
        &tags,
        &e.summary,
        opt_flag(e.has_image),
        opt_flag(e.has_video),
        opt_flag(e.has_audio),
    ];
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        match i {
            3 => line.push_str(&nums[0]),
            4 => line.push_str(&nums[1]),
            5 => line.push_str(&nums[2]),
            9 => line.push_str(&nums[3]),
            12 => line.push_str(&nums[4]),
            _ => csv_cell(&mut line, c),
        }
    }
    line.push_str("\r\n");
    out.push_str(&line);
}

/// Appends `v` in base 10 (nothing for None): numbers are written as they are.
fn push_num(out: &mut String, v: Option<i64>) {
    if let Some(n) = v {
        use std::fmt::Write as _;
        let _ = write!(out, "{n}");
    }
}

/// The export's CSV row for one edit, written straight from the store row:
/// the same bytes as [`edit_csv`] of its [`ApiEdit`], without building the
/// `ApiEdit` (its URLs and strings) first. `scratch` is reused between rows.
fn edit_row_csv(out: &mut String, scratch: &mut String, r: &EditRow) {
    use std::fmt::Write as _;
    csv_cell(out, &crate::event::format_ms(r.time_ms));
    out.push(',');
    csv_cell(out, &r.wiki);
    out.push(',');
    csv_cell(out, &r.domain);
    out.push(',');
    push_num(out, r.rc_id);
    out.push(',');
    push_num(out, r.rev_new);
    out.push(',');
    push_num(out, r.rev_old);
    out.push(',');
    if let Some(rev) = r.rev_new {
        scratch.clear();
        let _ = write!(scratch, "https://{}/wiki/Special:Diff/{rev}", r.domain);
        csv_cell(out, scratch);
    }
    out.push(',');
    csv_cell(out, &r.title);
    out.push(',');
    scratch.clear();
    let _ = write!(scratch, "https://{}/wiki/", r.domain);
    push_wiki_path(scratch, &r.title);
    csv_cell(out, scratch);
    out.push(',');
    push_num(out, Some(r.namespace));
    out.push(',');
    csv_cell(out, &r.change_type);
    out.push(',');
    csv_cell(out, r.user.as_deref().unwrap_or(""));
    out.push(',');
    push_num(out, r.size_change());
    out.push(',');
    out.push_str(if r.minor { "true" } else { "false" });
    out.push(',');
    scratch.clear();
    for (i, t) in r.tags.iter().enumerate() {
        if i > 0 {
            scratch.push(' ');
        }
        scratch.push_str(t);
    }
    csv_cell(out, scratch);
    out.push(',');
    csv_cell(out, &r.summary);
    for f in [r.has_image, r.has_video, r.has_audio] {
        out.push(',');
        out.push_str(opt_flag(f));
    }
    out.push_str("\r\n");
}

fn content_type(f: Format) -> &'static str {
    match f {
        Format::Json => "application/json",
        Format::Csv => "text/csv; charset=utf-8",
        Format::Ndjson => "application/x-ndjson",
    }
}

fn download(f: Format, name: &str, body: Body) -> Response {
    let ext = if f == Format::Csv { "csv" } else { "ndjson" };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(f)),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// A small list (top, time series, tags) as CSV or NDJSON in one piece.
fn small_export<T: Serialize>(
    f: Format,
    name: &str,
    columns: &[&str],
    rows: &[T],
    cells: impl Fn(&T) -> Vec<String>,
) -> Response {
    let mut out = String::new();
    if f == Format::Csv {
        csv_row(&mut out, columns);
        for r in rows {
            let c = cells(r);
            let refs: Vec<&str> = c.iter().map(String::as_str).collect();
            csv_row(&mut out, &refs);
        }
    } else {
        for r in rows {
            out.push_str(&serde_json::to_string(r).unwrap_or_default());
            out.push('\n');
        }
    }
    download(f, name, Body::from(out))
}

/// One export row of an edit as CSV (see [`edit_row_csv`]).
fn encode_csv(out: &mut String, scratch: &mut String, r: &EditRow) {
    edit_row_csv(out, scratch, r);
}

/// One export row of an edit as an NDJSON line: the API's JSON of the edit.
fn encode_ndjson(out: &mut String, _scratch: &mut String, r: &EditRow) {
    out.push_str(&serde_json::to_string(&ApiEdit::from(r.clone())).unwrap_or_default());
    out.push('\n');
}

/// Streams every matching edit from `after` on: one store page at a time,
/// encoded and sent as it comes, so memory stays flat at any size. A task
/// reads and encodes the next page while this one is sent (at most two
/// pages wait between them), so the store and the connection work side by
/// side.
fn stream_edits(
    store: Arc<dyn Store>,
    q: HashtagQuery,
    after: Option<Cursor>,
    f: Format,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, StoreError>>(2);
    tokio::spawn(async move {
        let hq = store.hashtags();
        let encode: RowEncoder = if f == Format::Csv {
            encode_csv
        } else {
            encode_ndjson
        };
        let mut after = after;
        let mut header = String::new();
        if f == Format::Csv {
            csv_row(&mut header, EDIT_COLUMNS);
        }
        loop {
            let (text, next) = match hq
                .hashtag_edits_encoded(&q, after, EXPORT_PAGE, encode)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "export failed");
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let chunk = if header.is_empty() {
                text
            } else {
                // The first chunk starts with the CSV header.
                std::mem::take(&mut header) + &text
            };
            after = next;
            // A closed channel: the client went away.
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() || after.is_none() {
                return;
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

// ---------------------------------------------------------------- API

pub async fn api_edits(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let q = parse_query(&p)?;
    let after = cursor(&p)?;
    let f = format(&p)?;
    let hq = queries(&state)?;
    if f != Format::Json {
        let body = Body::from_stream(stream_edits(Arc::clone(&state.store), q, after, f));
        return Ok(download(f, "hashtag-edits", body));
    }
    let limit = limit(&p, 50, 1000)?;
    let page = hq.hashtag_edits(&q, after, limit).await?;
    let next = page.next.map(|c| c.encode());
    let next_url = next.as_ref().map(|c| {
        let rest = p.without(&["cursor"]);
        format!("/api/hashtags/edits?{rest}&cursor={c}")
    });
    let rows: Vec<ApiEdit> = page.rows.into_iter().map(ApiEdit::from).collect();
    Ok(Json(json!({ "rows": rows, "next": next, "next_url": next_url })).into_response())
}

#[derive(Serialize)]
struct ApiStats {
    #[serde(flatten)]
    stats: HashtagStats,
    first: Option<String>,
    last: Option<String>,
}

pub async fn api_stats(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let q = parse_query(&p)?;
    let stats = queries(&state)?.hashtag_stats(&q).await?;
    Ok(Json(ApiStats {
        first: stats.first_ms.map(crate::event::format_ms),
        last: stats.last_ms.map(crate::event::format_ms),
        stats,
    })
    .into_response())
}

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

fn granularity(p: &Params) -> Result<Option<Granularity>, ApiError> {
    match p.one("granularity").map(str::to_ascii_lowercase).as_deref() {
        None | Some("auto") => Ok(None),
        Some("day" | "daily") => Ok(Some(Granularity::Day)),
        Some("month" | "monthly") => Ok(Some(Granularity::Month)),
        Some("year" | "yearly") => Ok(Some(Granularity::Year)),
        Some(v) => Err(ApiError::bad(
            "granularity",
            format!("granularity must be auto, day, month or year, not {v:?}"),
        )),
    }
}

pub async fn api_timeseries(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let q = parse_query(&p)?;
    let chosen = granularity(&p)?;
    let f = format(&p)?;
    let days = queries(&state)?.hashtag_days(&q).await?;
    let (g, buckets) = timeseries(&q, &days, chosen)?;
    if f != Format::Json {
        return Ok(small_export(
            f,
            "hashtag-timeseries",
            &["period", "edits"],
            &buckets,
            |b| vec![b.period.clone(), b.edits.to_string()],
        ));
    }
    Ok(Json(json!({ "granularity": g, "buckets": buckets })).into_response())
}

pub async fn api_top(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let q = parse_query(&p)?;
    let by = match p.one("by").map(str::to_ascii_lowercase).as_deref() {
        None | Some("user") => TopBy::User,
        Some("wiki") => TopBy::Wiki,
        Some("page") => TopBy::Page,
        Some(v) => {
            return Err(ApiError::bad(
                "by",
                format!("by must be user, wiki or page, not {v:?}"),
            ));
        }
    };
    let limit = limit(&p, 10, 10_000)?;
    let f = format(&p)?;
    let rows = queries(&state)?.hashtag_top(&q, by, limit).await?;
    if f != Format::Json {
        return Ok(small_export(
            f,
            "hashtag-top",
            &["key", "wiki", "edits"],
            &rows,
            |r: &TopRow| {
                vec![
                    r.key.clone(),
                    r.wiki.clone().unwrap_or_default(),
                    r.edits.to_string(),
                ]
            },
        ));
    }
    Ok(Json(json!({ "by": by, "rows": rows })).into_response())
}

fn window(p: &Params) -> Result<(&'static str, i64), ApiError> {
    match p.one("window") {
        None | Some("30d") => Ok(("30d", 30 * DAY_MS)),
        Some("7d") => Ok(("7d", 7 * DAY_MS)),
        Some("24h" | "1d") => Ok(("24h", DAY_MS)),
        Some(v) => Err(ApiError::bad(
            "window",
            format!("window must be 24h, 7d or 30d, not {v:?}"),
        )),
    }
}

type TrendingAnswer = (Option<i64>, Vec<TrendingRow>);

/// Trending answers by (window, limit), reused for [`TRENDING_TTL`]: the home
/// page asks on every view and the answer moves slowly.
static TRENDING_CACHE: std::sync::Mutex<Vec<TrendingCached>> = std::sync::Mutex::new(Vec::new());
type TrendingCached = ((i64, usize), std::time::Instant, TrendingAnswer);
const TRENDING_TTL: Duration = Duration::from_secs(15);

/// Trending tags up to the newest stored hashtag edit (= now while ingest is live).
async fn trending(
    hq: &dyn HashtagQueries,
    window_ms: i64,
    limit: usize,
) -> Result<TrendingAnswer, ApiError> {
    let key = (window_ms, limit);
    if let Ok(cache) = TRENDING_CACHE.lock()
        && let Some((_, _, answer)) = cache
            .iter()
            .find(|(k, at, _)| *k == key && at.elapsed() < TRENDING_TTL)
    {
        return Ok(answer.clone());
    }
    let answer = match hq.hashtag_newest_ms().await? {
        None => (None, Vec::new()),
        Some(newest) => (
            Some(newest),
            hq.hashtag_trending(newest, window_ms, limit).await?,
        ),
    };
    if let Ok(mut cache) = TRENDING_CACHE.lock() {
        cache.retain(|(k, at, _)| *k != key && at.elapsed() < TRENDING_TTL);
        cache.push((key, std::time::Instant::now(), answer.clone()));
    }
    Ok(answer)
}

pub async fn api_trending(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let (name, ms) = window(&p)?;
    let limit = limit(&p, 10, 1000)?;
    let f = format(&p)?;
    let (until, rows) = trending(queries(&state)?, ms, limit).await?;
    if f != Format::Json {
        return Ok(small_export(
            f,
            "hashtag-trending",
            &["tag", "edits", "previous"],
            &rows,
            |r: &TrendingRow| vec![r.tag.clone(), r.edits.to_string(), r.previous.to_string()],
        ));
    }
    Ok(Json(json!({
        "window": name,
        "until": until.map(crate::event::format_ms),
        "rows": rows,
    }))
    .into_response())
}

fn tag_order(p: &Params) -> Result<TagOrder, ApiError> {
    match p.one("order") {
        None | Some("uses") => Ok(TagOrder::Uses),
        Some("name") => Ok(TagOrder::Key),
        Some("recent") => Ok(TagOrder::Recent),
        Some(v) => Err(ApiError::bad(
            "order",
            format!("order must be uses, name or recent, not {v:?}"),
        )),
    }
}

pub async fn api_tags(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let prefix = p.one("prefix").and_then(tag_key_of).unwrap_or_default();
    let order = tag_order(&p)?;
    let limit = limit(&p, 100, 10_000)?;
    let f = format(&p)?;
    let rows = queries(&state)?.hashtag_tags(&prefix, order, limit).await?;
    if f != Format::Json {
        return Ok(small_export(
            f,
            "hashtag-tags",
            &["tag", "key", "first", "last", "uses"],
            &rows,
            |r: &TagInfo| {
                vec![
                    r.tag.clone(),
                    r.key.clone(),
                    crate::event::format_ms(r.first_ms),
                    crate::event::format_ms(r.last_ms),
                    r.uses.to_string(),
                ]
            },
        ));
    }
    Ok(Json(json!({ "rows": rows })).into_response())
}

// ---------------------------------------------------------------- feeds

#[derive(Template)]
#[template(path = "hashtags_feed.xml")]
struct AtomFeed {
    title: String,
    self_url: String,
    page_url: String,
    updated: String,
    entries: Vec<ApiEdit>,
}

fn describe(q: &HashtagQuery) -> String {
    if q.tags.is_empty() {
        "all hashtags".to_owned()
    } else {
        let sep = if q.mode == TagMode::All {
            " and "
        } else {
            " or "
        };
        q.tags
            .iter()
            .map(|t| format!("#{t}"))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

pub async fn atom(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let q = parse_query(&p)?;
    let page = queries(&state)?.hashtag_edits(&q, None, 50).await?;
    let rest = p.without(&["cursor", "format", "limit"]);
    let entries: Vec<ApiEdit> = page.rows.into_iter().map(ApiEdit::from).collect();
    let updated = entries
        .first()
        .map(|e| e.time.clone())
        .unwrap_or_else(|| crate::event::format_ms(0));
    let xml = AtomFeed {
        title: format!("wikiwatch: edits tagged {}", describe(&q)),
        self_url: format!("/hashtags/feed.atom?{rest}"),
        page_url: format!("/hashtags?{rest}"),
        updated,
        entries,
    }
    .render()?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// Live feed of new matching edits as Server-Sent Events (`event: edit`,
/// JSON data), polling the store every second.
pub async fn live(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let p = Params(pairs);
    let q = parse_query(&p)?;
    let hq = queries(&state)?;
    let newest = hq.hashtag_edits(&q, None, 1).await?;
    let mark = newest.rows.first().map(EditRow::cursor);
    let store = Arc::clone(&state.store);
    let stream = futures_util::stream::unfold(
        (store, q, mark, Vec::<SseEvent>::new()),
        |(store, q, mut mark, mut pending)| async move {
            loop {
                if let Some(ev) = pending.pop() {
                    return Some((Ok(ev), (store, q, mark, pending)));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                let hq = store.hashtags();
                let mut q2 = q.clone();
                if let Some(m) = mark {
                    q2.from_ms = Some(q.from_ms.map_or(m.time_ms, |f| f.max(m.time_ms)));
                }
                let Ok(page) = hq.hashtag_edits(&q2, None, 500).await else {
                    continue;
                };
                // Newest first; keep those after the mark, send oldest first.
                let fresh: Vec<EditRow> = page
                    .rows
                    .into_iter()
                    .filter(|r| mark.is_none_or(|m| (r.time_ms, r.id) > (m.time_ms, m.id)))
                    .collect();
                if let Some(first) = fresh.first() {
                    mark = Some(first.cursor());
                }
                pending = fresh
                    .into_iter()
                    .map(|r| {
                        SseEvent::default()
                            .event("edit")
                            .data(serde_json::to_string(&ApiEdit::from(r)).unwrap_or_default())
                    })
                    .collect();
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

// ---------------------------------------------------------------- pages

pub struct TopList {
    pub title: &'static str,
    pub rows: Vec<TopRow>,
    pub csv_url: String,
}

#[derive(Template)]
#[template(path = "hashtags.html")]
struct ResultsPage {
    ingest_note: Option<String>,
    form: FormValues,
    error: Option<String>,
    searched: bool,
    heading: String,
    stats: HashtagStats,
    first: String,
    last: String,
    granularity: String,
    buckets: Vec<Bucket>,
    tops: Vec<TopList>,
    rows: Vec<ApiEdit>,
    next_url: Option<String>,
    first_page_url: Option<String>,
    qs: String,
    trending: Vec<TrendingRow>,
    tag_info: Option<TagInfo>,
}

/// The search form as filled in.
#[derive(Default)]
struct FormValues {
    tags: String,
    all: bool,
    wiki: String,
    user: String,
    namespace: String,
    types: String,
    start: String,
    end: String,
    text: String,
    image: bool,
    video: bool,
    audio: bool,
}

impl FormValues {
    fn from(p: &Params) -> FormValues {
        let join = |n: &str, sep: char| p.list(n, sep).join(&sep.to_string());
        let mut tags = p.list("tags", ',');
        tags.extend(p.list("tag", ','));
        FormValues {
            tags: tags.join(", "),
            all: matches!(p.one("mode"), Some("all" | "and")),
            wiki: join("wiki", ','),
            user: join("user", '|'),
            namespace: join("namespace", ','),
            types: join("type", ','),
            start: p.one("start").unwrap_or_default().to_owned(),
            end: p.one("end").unwrap_or_default().to_owned(),
            text: p.one("text").unwrap_or_default().to_owned(),
            image: flag(p, "image").unwrap_or(false),
            video: flag(p, "video").unwrap_or(false),
            audio: flag(p, "audio").unwrap_or(false),
        }
    }
}

fn fmt_day(ms: Option<i64>) -> String {
    ms.map(|ms| crate::event::format_ms(ms).replace('T', " "))
        .map(|s| s.get(..19).unwrap_or(&s).to_owned() + " UTC")
        .unwrap_or_else(|| "–".into())
}

async fn results_page(
    state: &AppState,
    p: Params,
    tag_info: Option<TagInfo>,
) -> Result<Response, ApiError> {
    let ingest_note = super::pages::ingest_note(state);
    let form = FormValues::from(&p);
    let hq = queries(state)?;
    let mut page = ResultsPage {
        ingest_note,
        form,
        error: None,
        searched: false,
        heading: String::new(),
        stats: HashtagStats::default(),
        first: String::new(),
        last: String::new(),
        granularity: String::new(),
        buckets: Vec::new(),
        tops: Vec::new(),
        rows: Vec::new(),
        next_url: None,
        first_page_url: None,
        qs: String::new(),
        trending: Vec::new(),
        tag_info,
    };
    let parsed = parse_query(&p).and_then(|q| Ok((q, cursor(&p)?, limit(&p, 50, 500)?)));
    let (q, after, limit) = match parsed {
        Ok(v) => v,
        Err(e) => {
            page.error = Some(e.to_string());
            let html = page.render()?;
            return Ok((StatusCode::BAD_REQUEST, Html(html)).into_response());
        }
    };
    if q.tags.is_empty() {
        page.trending = trending(hq, 30 * DAY_MS, 20).await?.1;
        return Ok(Html(page.render()?).into_response());
    }
    page.searched = true;
    page.heading = describe(&q);
    let qs = p.without(&["cursor", "format", "limit"]);
    let (stats, days, users, wikis, pages, edits) = tokio::join!(
        hq.hashtag_stats(&q),
        hq.hashtag_days(&q),
        hq.hashtag_top(&q, TopBy::User, 10),
        hq.hashtag_top(&q, TopBy::Wiki, 10),
        hq.hashtag_top(&q, TopBy::Page, 10),
        hq.hashtag_edits(&q, after, limit),
    );
    page.stats = stats?;
    page.first = fmt_day(page.stats.first_ms);
    page.last = fmt_day(page.stats.last_ms);
    let (g, buckets) = timeseries(&q, &days?, None)?;
    page.granularity = format!("{g:?}").to_lowercase();
    page.buckets = buckets;
    for (title, by, rows) in [
        ("Top users", "user", users?),
        ("Top wikis", "wiki", wikis?),
        ("Top pages", "page", pages?),
    ] {
        page.tops.push(TopList {
            title,
            rows,
            csv_url: format!("/api/hashtags/top?{qs}&by={by}&limit=10000&format=csv"),
        });
    }
    let edits = edits?;
    page.next_url = edits
        .next
        .map(|c| format!("/hashtags?{qs}&cursor={}", c.encode()));
    if after.is_some() {
        page.first_page_url = Some(format!("/hashtags?{qs}"));
    }
    page.rows = edits.rows.into_iter().map(ApiEdit::from).collect();
    page.qs = qs;
    Ok(Html(page.render()?).into_response())
}

pub async fn search_page(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    results_page(&state, Params(pairs), None).await
}

pub async fn tag_page(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let key = tag_key_of(&tag).ok_or_else(|| ApiError::NotFound("no tag given".into()))?;
    let info = queries(&state)?
        .hashtag_tags(&key, TagOrder::Key, 1)
        .await?
        .into_iter()
        .find(|t| t.key == key);
    let mut pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| k != "tags" && k != "tag")
        .collect();
    pairs.insert(0, ("tags".into(), key));
    results_page(&state, Params(pairs), info).await
}

#[derive(Template)]
#[template(path = "hashtags_tags.html")]
struct TagsPage {
    ingest_note: Option<String>,
    prefix: String,
    order: String,
    tags: Vec<(TagInfo, String, String)>,
}

pub async fn tags_page(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params(pairs);
    let prefix = p.one("prefix").and_then(tag_key_of).unwrap_or_default();
    let order = tag_order(&p)?;
    let limit = limit(&p, 500, 10_000)?;
    let tags = queries(&state)?
        .hashtag_tags(&prefix, order, limit)
        .await?
        .into_iter()
        .map(|t| {
            let (f, l) = (fmt_day(Some(t.first_ms)), fmt_day(Some(t.last_ms)));
            (t, f, l)
        })
        .collect();
    let page = TagsPage {
        ingest_note: super::pages::ingest_note(&state),
        prefix,
        order: p.one("order").unwrap_or("uses").to_owned(),
        tags,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "docs_hashtags.html")]
struct DocsPage {
    ingest_note: Option<String>,
    excluded: Vec<String>,
}

pub async fn docs_page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let page = DocsPage {
        ingest_note: super::pages::ingest_note(&state),
        excluded: crate::extract::DEFAULT_EXCLUDED
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

/// Vendored static files, embedded in the binary.
pub async fn static_file(Path(name): Path<String>) -> Response {
    let (body, ctype): (&'static str, &'static str) = match name.as_str() {
        "uPlot.iife.min.js" => (
            include_str!("../../static/uPlot.iife.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "uPlot.min.css" => (
            include_str!("../../static/uPlot.min.css"),
            "text/css; charset=utf-8",
        ),
        "hashtags.js" => (
            include_str!("../../static/hashtags.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return ApiError::NotFound(format!("no static file {name:?}")).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Home page section: trending tags of the last 30 days.
pub async fn home_trending(state: &AppState) -> Vec<TrendingRow> {
    trending(state.store.hashtags(), 30 * DAY_MS, 10)
        .await
        .map(|t| t.1)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Params {
        Params(
            url::form_urlencoded::parse(s.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    #[test]
    fn csv_neutralises_formulas_and_quotes() {
        for (input, want) in [
            ("=1+1", "\"'=1+1\""),
            ("+SUM(A1)", "\"'+SUM(A1)\""),
            ("-2", "\"'-2\""),
            ("@cmd", "\"'@cmd\""),
            ("\tx", "\"'\tx\""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("plain", "plain"),
        ] {
            let mut out = String::new();
            csv_cell(&mut out, input);
            assert_eq!(out, want, "{input:?}");
        }
    }

    #[test]
    fn query_parsing() {
        let q = parse_query(&params(
            "tags=%23WPWP,+1Lib1Ref,wpwp&mode=all&wiki=*.wikipedia.org,frwikisource&start=2026-01-01&end=2026-01-01",
        ))
        .unwrap();
        assert_eq!(q.tags, vec!["wpwp", "1lib1ref"]);
        assert_eq!(q.mode, TagMode::All);
        assert_eq!(
            q.wikis,
            vec![
                WikiFilter::DomainLike("%.wikipedia.org".into()),
                WikiFilter::DbName("frwikisource".into())
            ]
        );
        assert_eq!(q.until_ms.unwrap() - q.from_ms.unwrap(), DAY_MS);
        for (bad, param) in [
            ("mode=both", "mode"),
            ("start=2026-13-01", "start"),
            ("start=2026-01-02&end=2026-01-01", "end"),
            ("namespace=x", "namespace"),
            ("type=foo", "type"),
            ("wiki=a%20b", "wiki"),
            ("image=maybe", "image"),
        ] {
            match parse_query(&params(bad)) {
                Err(ApiError::BadRequest { parameter, .. }) => assert_eq!(parameter, param),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

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
    #[test]
    fn direct_csv_rows_equal_the_api_edit_rows() {
        let base = EditRow {
            id: 7,
            time_ms: 1_767_225_600_123,
            wiki: "enwiki".into(),
            domain: "en.wikipedia.org".into(),
            rc_id: Some(42),
            rev_old: Some(99),
            rev_new: Some(100),
            title: "Foo, bar (baz) \"q\" é/ü 100% ok".into(),
            namespace: 0,
            change_type: "edit".into(),
            user: Some("=cmd|' /C calc'!A0".into()),
            summary: "line\nbreak, \"quoted\" #1Lib1Ref".into(),
            len_old: Some(100),
            len_new: Some(40),
            is_new: false,
            minor: true,
            tags: vec!["1Lib1Ref".into(), "WPWP".into()],
            has_image: Some(true),
            has_video: Some(false),
            has_audio: None,
        };
        let variants = [
            base.clone(),
            EditRow {
                rc_id: None,
                rev_old: None,
                rev_new: None,
                user: None,
                len_old: None,
                is_new: true,
                change_type: "new".into(),
                tags: vec![],
                title: "-2 Plain".into(),
                summary: "+SUM(A1)".into(),
                has_image: None,
                has_video: None,
                ..base.clone()
            },
            EditRow {
                len_old: None,
                len_new: None,
                namespace: -1,
                title: "@x\tY".into(),
                summary: "plain".into(),
                user: Some("Ann Bee".into()),
                ..base
            },
        ];
        for r in variants {
            let (mut direct, mut scratch, mut reference) =
                (String::new(), String::new(), String::new());
            edit_row_csv(&mut direct, &mut scratch, &r);
            edit_csv(&mut reference, &ApiEdit::from(r.clone()));
            assert_eq!(direct, reference, "{r:?}");
        }
    }
}
