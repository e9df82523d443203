//! Link pages: search, domain report, user, page history, collections and
//! the docs page. Askama templates, auto-escaped; every page reads the same
//! query engine as the API and links to its exports.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::collections::{all_collections, collections_filter, find_collections};
use super::filter::{link_params, parse_filter};
use super::report::{Bucket, ReportView, UserView, build_report, build_user, events_page};
use crate::http::banner::ingest_note;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::links::filter::{CollectionDef, LinkMatch};
use crate::links::report::LinkEventRow;

fn render<T: Template>(status: StatusCode, t: T) -> Result<Response, ApiError> {
    Ok((status, Html(t.render()?)).into_response())
}

/// A 4xx from the API becomes a message on the page.
fn page_error(e: ApiError) -> Result<String, ApiError> {
    match e {
        ApiError::BadRequest { parameter, message } => Ok(format!("{parameter}: {message}")),
        ApiError::NotFound(m) => Ok(m),
        other => Err(other),
    }
}

#[derive(Default)]
struct Form {
    domain: String,
    pattern: String,
    wiki: String,
    user: String,
    from: String,
    to: String,
    provenance: String,
}

#[derive(Template)]
#[template(path = "links_search.html")]
struct Search {
    ingest_note: Option<String>,
    heading: String,
    action: String,
    api: String,
    qs: String,
    form: Form,
    provenance_options: Vec<(&'static str, bool)>,
    error: Option<String>,
    events: Vec<LinkEventRow>,
    next_cursor: Option<String>,
}

/// The query without `cursor` and `format`, for building links.
fn base_query(q: Option<&str>) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
                .filter(|(k, v)| k != "cursor" && k != "format" && k != "table" && !v.is_empty()),
        )
        .finish()
}

async fn events_view(
    state: &AppState,
    q: Option<&str>,
    heading: String,
    action: String,
    api: String,
    page: Option<(String, String)>,
) -> Result<Response, ApiError> {
    let p = link_params(q).unwrap_or_default();
    let mut form = Form {
        provenance: p.one("provenance").unwrap_or("edit").to_owned(),
        ..Default::default()
    };
    form.domain = p.one("domain").unwrap_or("").to_owned();
    form.pattern = p.one("pattern").unwrap_or("").to_owned();
    form.wiki = p.one("wiki").unwrap_or("").to_owned();
    form.user = p.one("user").unwrap_or("").to_owned();
    form.from = p.one("from").unwrap_or("").to_owned();
    form.to = p.one("to").unwrap_or("").to_owned();
    let provenance_options = ["edit", "all", "propagated", "system"]
        .into_iter()
        .map(|o| (o, o == form.provenance))
        .collect();
    let result = async {
        let p = link_params(q)?;
        let mut filter = parse_filter(&p)?;
        filter.page = page;
        events_page(state, &filter, &p).await
    }
    .await;
    let (status, error, events, next_cursor) = match result {
        Ok(pg) => (StatusCode::OK, None, pg.events, pg.next_cursor),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Some(page_error(e)?),
            Vec::new(),
            None,
        ),
    };
    render(
        status,
        Search {
            ingest_note: ingest_note(state),
            heading,
            action,
            api,
            qs: base_query(q),
            form,
            provenance_options,
            error,
            events,
            next_cursor,
        },
    )
}

/// `GET /links`
pub async fn search(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    events_view(
        &state,
        q.as_deref(),
        "Search the link log".into(),
        "/links".into(),
        "/api/links/events".into(),
        None,
    )
    .await
}

/// `GET /links/page/{wiki}/{title}`
pub async fn page(
    State(state): State<AppState>,
    Path((wiki, title)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let title = title.replace('_', " ");
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    events_view(
        &state,
        q.as_deref(),
        format!("Link history of {title} on {wiki}"),
        format!("/links/page/{}/{}", enc(&wiki), enc(&title)),
        format!("/api/links/pages/{}/{}", enc(&wiki), enc(&title)),
        Some((wiki, title)),
    )
    .await
}

pub struct Bar {
    x: f64,
    y_add: f64,
    h_add: f64,
    h_rem: f64,
    label: String,
    added: i64,
    removed: i64,
}

pub struct Chart {
    width: f64,
    height: f64,
    zero: f64,
    bar_w: f64,
    bars: Vec<Bar>,
    first: String,
    last: String,
}

fn chart(r: &ReportView) -> Chart {
    let width = 900.0;
    let height = 220.0;
    let max_add = r.series.iter().map(|s| s.added).max().unwrap_or(0).max(1) as f64;
    let max_rem = r.series.iter().map(|s| s.removed).max().unwrap_or(0) as f64;
    let total = max_add + max_rem.max(max_add * 0.25);
    let zero = height * max_add / total;
    let n = r.series.len().max(1) as f64;
    let step = width / n;
    let bar_w = (step * 0.8).max(1.0);
    let bars = r
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let h_add = height * s.added as f64 / total;
            Bar {
                x: i as f64 * step,
                y_add: zero - h_add,
                h_add,
                h_rem: height * s.removed as f64 / total,
                label: s.period.clone(),
                added: s.added,
                removed: s.removed,
            }
        })
        .collect();
    Chart {
        width,
        height,
        zero,
        bar_w,
        bars,
        first: r
            .series
            .first()
            .map(|s| s.period.clone())
            .unwrap_or_default(),
        last: r
            .series
            .last()
            .map(|s| s.period.clone())
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "links_report.html")]
struct Report {
    ingest_note: Option<String>,
    title: String,
    api: String,
    qs: String,
    error: Option<String>,
    report: Option<ReportView>,
    chart: Chart,
    bucket_label: &'static str,
    toggles: Vec<(String, String)>,
}

async fn report_page(
    state: &AppState,
    title: String,
    api: String,
    page_path: String,
    q: Option<&str>,
    filter_for: impl AsyncFnOnce(&Params) -> Result<crate::links::filter::LinkFilter, ApiError>,
    has_users: bool,
) -> Result<Response, ApiError> {
    let qs = base_query(q);
    let result = async {
        let p = link_params(q)?;
        let filter = filter_for(&p).await?;
        build_report(state, title.clone(), &filter, &p).await
    }
    .await;
    let mut toggles = Vec::new();
    let prov_all = qs.contains("provenance=all");
    let strip = |key: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(url::form_urlencoded::parse(qs.as_bytes()).filter(|(k, _)| k != key))
            .finish()
    };
    let join = |base: String, extra: &str| {
        if base.is_empty() {
            format!("{page_path}?{extra}")
        } else if extra.is_empty() {
            format!("{page_path}?{base}")
        } else {
            format!("{page_path}?{base}&{extra}")
        }
    };
    toggles.push(if prov_all {
        (
            "direct edits only".to_owned(),
            join(strip("provenance"), ""),
        )
    } else {
        (
            "include propagated and system events".to_owned(),
            join(strip("provenance"), "provenance=all"),
        )
    });
    for (label, v) in [("per day", "day"), ("per month", "month")] {
        toggles.push((
            label.to_owned(),
            join(strip("bucket"), &format!("bucket={v}")),
        ));
    }
    if has_users {
        toggles.push(if qs.contains("only_listed_users=true") {
            ("all users".to_owned(), join(strip("only_listed_users"), ""))
        } else {
            (
                "only users on the list".to_owned(),
                join(strip("only_listed_users"), "only_listed_users=true"),
            )
        });
    }
    let (status, error, report) = match result {
        Ok(r) => (StatusCode::OK, None, Some(r)),
        Err(e) => {
            let status = if matches!(e, ApiError::NotFound(_)) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            };
            (status, Some(page_error(e)?), None)
        }
    };
    let chart = report.as_ref().map(chart).unwrap_or(Chart {
        width: 0.0,
        height: 0.0,
        zero: 0.0,
        bar_w: 0.0,
        bars: Vec::new(),
        first: String::new(),
        last: String::new(),
    });
    let bucket_label = match report.as_ref().map(|r| r.bucket) {
        Some(Bucket::Month) => "month",
        _ => "day",
    };
    render(
        status,
        Report {
            ingest_note: ingest_note(state),
            title,
            api,
            qs,
            error,
            report,
            chart,
            bucket_label,
            toggles,
        },
    )
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `GET /links/domain/{domain}`
pub async fn domain(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let d = domain.clone();
    report_page(
        &state,
        format!("Links to {domain}"),
        format!("/api/links/domains/{}", enc(&domain)),
        format!("/links/domain/{}", enc(&domain)),
        q.as_deref(),
        async move |p: &Params| {
            let mut f = parse_filter(p)?;
            f.matchers = vec![LinkMatch::domain(&d)?];
            Ok(f)
        },
        false,
    )
    .await
}

/// `GET /links/collections/{name}`
pub async fn collection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    collection_like(state, name, q, false).await
}

/// `GET /links/groups/{group}`
pub async fn group(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    collection_like(state, name, q, true).await
}

async fn collection_like(
    state: AppState,
    name: String,
    q: Option<String>,
    group: bool,
) -> Result<Response, ApiError> {
    let cols = find_collections(&state, &name, group).await;
    let has_users = cols
        .as_ref()
        .is_ok_and(|c| c.iter().any(|c| !c.users.is_empty()));
    let (api, path, title) = if group {
        (
            format!("/api/links/collection-groups/{}", enc(&name)),
            format!("/links/groups/{}", enc(&name)),
            format!("Collection group {name}"),
        )
    } else {
        (
            format!("/api/links/collections/{}", enc(&name)),
            format!("/links/collections/{}", enc(&name)),
            format!("Collection {name}"),
        )
    };
    report_page(
        &state,
        title,
        api,
        path,
        q.as_deref(),
        async move |p: &Params| {
            let cols = cols?;
            Ok(collections_filter(&cols, p)?.0)
        },
        has_users,
    )
    .await
}

#[derive(Template)]
#[template(path = "links_user.html")]
struct User {
    ingest_note: Option<String>,
    view: UserView,
    qs: String,
}

impl User {
    fn fmt(&self, ms: &i64) -> String {
        crate::event::format_ms(*ms)
    }
}

/// `GET /links/user/{user}`
pub async fn user(
    State(state): State<AppState>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = link_params(q.as_deref())?;
    let view = build_user(&state, &user, &p).await?;
    render(
        StatusCode::OK,
        User {
            ingest_note: ingest_note(&state),
            view,
            qs: base_query(q.as_deref()),
        },
    )
}

#[derive(Template)]
#[template(path = "links_collections.html")]
struct Collections {
    ingest_note: Option<String>,
    collections: Vec<CollectionDef>,
}

/// `GET /links/collections`
pub async fn collections(State(state): State<AppState>) -> Result<Response, ApiError> {
    render(
        StatusCode::OK,
        Collections {
            ingest_note: ingest_note(&state),
            collections: all_collections(&state).await?,
        },
    )
}

#[derive(Template)]
#[template(path = "links_docs.html")]
struct Docs {
    ingest_note: Option<String>,
}

/// `GET /links/docs`
pub async fn docs(State(state): State<AppState>) -> Result<Response, ApiError> {
    render(
        StatusCode::OK,
        Docs {
            ingest_note: ingest_note(&state),
        },
    )
}
