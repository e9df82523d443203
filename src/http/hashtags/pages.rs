//! The hashtag pages: search results (stats, chart, top lists, edits), a
//! tag's page, the tag list and the docs page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::query::{TagList, cursor, describe, parse_query, tag_key_of};
use super::rows::ApiEdit;
use super::timeseries::{Bucket, timeseries};
use super::trending::trending;
use crate::hashtags::query::{HashtagStats, TagInfo, TagOrder, TopBy, TopRow, TrendingRow};
use crate::http::banner::ingest_note;
use crate::http::error::ApiError;
use crate::http::params::{DAY_MS, Params};
use crate::http::state::AppState;

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
            image: p.flag("image").unwrap_or(false),
            video: p.flag("video").unwrap_or(false),
            audio: p.flag("audio").unwrap_or(false),
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
    let ingest_note = ingest_note(state);
    let form = FormValues::from(&p);
    let hq = state.store.hashtags();
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
    let parsed = parse_query(&p).and_then(|q| Ok((q, cursor(&p)?, p.limit(50, 500)?)));
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

pub async fn search_page(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    results_page(&state, p, None).await
}

pub async fn tag_page(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let key = tag_key_of(&tag).ok_or_else(|| ApiError::NotFound("no tag given".into()))?;
    let info = state
        .store
        .hashtags()
        .hashtag_tags(&key, TagOrder::Key, 1)
        .await?
        .into_iter()
        .find(|t| t.key == key);
    let mut pairs: Vec<(String, String)> =
        p.0.into_iter()
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

pub async fn tags_page(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let TagList {
        prefix,
        order,
        limit,
    } = TagList::from_params(&p, 500)?;
    let tags = state
        .store
        .hashtags()
        .hashtag_tags(&prefix, order, limit)
        .await?
        .into_iter()
        .map(|t| {
            let (f, l) = (fmt_day(Some(t.first_ms)), fmt_day(Some(t.last_ms)));
            (t, f, l)
        })
        .collect();
    let page = TagsPage {
        ingest_note: ingest_note(&state),
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
        ingest_note: ingest_note(&state),
        excluded: crate::extract::DEFAULT_EXCLUDED
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}
