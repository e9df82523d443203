//! Link exports: every event a filter selects, streamed as CSV or NDJSON
//! page by page, and a report's tables as CSV.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;

use super::report::ReportView;
use crate::http::csv::{self, Cell};
use crate::http::error::ApiError;
use crate::http::export::{self, Format};
use crate::links::filter::LinkFilter;
use crate::links::report::{Cursor, LinkEventRow};
use crate::store::{Store, StoreError};

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

fn opt_bool(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
}

/// Appends the CSV row of one link event.
fn event_csv(out: &mut String, e: &LinkEventRow) {
    fn text(v: &Option<String>) -> Cell<'_> {
        Cell::Text(v.as_deref().unwrap_or_default())
    }
    csv::row(
        out,
        &[
            Cell::Num(e.id),
            Cell::Text(&e.time),
            Cell::Text(&e.action),
            text(&e.provenance),
            Cell::Text(&e.wiki),
            Cell::Num(e.page_namespace),
            Cell::Text(&e.page_title),
            Cell::Num(e.page_id),
            Cell::OptNum(e.rev_id),
            Cell::OptNum(e.rc_id),
            text(&e.performer),
            Cell::Text(opt_bool(e.performer_bot)),
            text(&e.editor_kind),
            Cell::Text(&e.url),
            Cell::Text(&e.target),
            text(&e.host),
            text(&e.domain),
            text(&e.wrapper_kind),
        ],
    );
}

/// The pages of a streamed event export: newest first, one keyset page per
/// store call, at most `left` rows in all.
struct EventPages {
    store: Arc<dyn Store>,
    filter: LinkFilter,
    fmt: Format,
    cursor: Option<Cursor>,
    done: bool,
    left: usize,
}

impl export::Pages for EventPages {
    async fn next_page(&mut self) -> Result<Option<String>, StoreError> {
        const PAGE: usize = 1000;
        if self.done || self.left == 0 {
            return Ok(None);
        }
        let n = PAGE.min(self.left);
        let rows = self.store.link_events(&self.filter, self.cursor, n).await?;
        self.done = rows.len() < n;
        self.left -= rows.len();
        let Some(last) = rows.last() else {
            return Ok(None);
        };
        self.cursor = Some(Cursor {
            time_ms: last.time_ms,
            id: last.id,
        });
        let mut out = String::new();
        for r in &rows {
            match self.fmt {
                Format::Csv => event_csv(&mut out, r),
                _ => export::push_ndjson(&mut out, r),
            }
        }
        Ok(Some(out))
    }
}

/// Streams every event the filter selects (see [`export::stream`]).
pub fn export_events(
    store: Arc<dyn Store>,
    filter: LinkFilter,
    fmt: Format,
    max_rows: Option<usize>,
    name: &str,
) -> Response {
    let mut header = String::new();
    if fmt == Format::Csv {
        csv::header(&mut header, EVENT_CSV_HEADER);
    }
    let pages = EventPages {
        store,
        filter,
        fmt,
        cursor: None,
        done: false,
        left: max_rows.unwrap_or(usize::MAX),
    };
    export::download(fmt, name, Body::from_stream(export::stream(pages, header)))
}

/// The CSV of one table of a report (`table=series|users|wikis|pages`).
pub fn report_csv(view: &ReportView, table: &str, name: &str) -> Result<Response, ApiError> {
    let mut out = String::new();
    match table {
        "series" => {
            csv::header(&mut out, &["period", "added", "removed", "net"]);
            for s in &view.series {
                csv::row(
                    &mut out,
                    &[
                        Cell::Text(&s.period),
                        Cell::Num(s.added),
                        Cell::Num(s.removed),
                        Cell::Num(s.net),
                    ],
                );
            }
        }
        "users" | "wikis" | "pages" => {
            let rows = match table {
                "users" => &view.top_users,
                "wikis" => &view.top_wikis,
                _ => &view.top_pages,
            };
            csv::header(
                &mut out,
                &[
                    table.trim_end_matches('s'),
                    "wiki",
                    "added",
                    "removed",
                    "net",
                ],
            );
            for r in rows {
                csv::row(
                    &mut out,
                    &[
                        Cell::Text(&r.key),
                        Cell::Text(r.wiki.as_deref().unwrap_or_default()),
                        Cell::Num(r.added),
                        Cell::Num(r.removed),
                        Cell::Num(r.net),
                    ],
                );
            }
        }
        other => {
            return Err(ApiError::bad(
                "table",
                format!("table must be series, users, wikis, pages or events, not {other:?}"),
            ));
        }
    }
    Ok(export::download(
        Format::Csv,
        &format!("{name}-{table}"),
        Body::from(out),
    ))
}
