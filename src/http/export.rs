//! The one export path of hashtag and link views: the [`Format`] parameter,
//! the download headers and file name, small lists in one piece, and long
//! lists streamed page by page with flat memory ([`stream`]).

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures_util::Stream;
use serde::Serialize;

use super::csv;
use super::error::ApiError;
use super::params::{Choices, Params};
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Ndjson,
}

const FORMATS: Choices<Format> = Choices {
    entries: &[
        (&["json"], Format::Json),
        (&["csv"], Format::Csv),
        (&["ndjson", "jsonl"], Format::Ndjson),
    ],
    fold_case: true,
};

impl Format {
    /// `format=json|csv|ndjson`, JSON when absent.
    pub fn from_params(p: &Params) -> Result<Format, ApiError> {
        Ok(p.choice("format", &FORMATS)?.unwrap_or(Format::Json))
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            _ => "ndjson",
        }
    }
}

/// A download of `body` as `name.csv` or `name.ndjson`.
pub fn download(f: Format, name: &str, body: Body) -> Response {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{name}.{}\"",
        f.extension()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// A small list (top, time series, tags, report tables) as CSV or NDJSON in
/// one piece: `cells` gives a row's CSV cells, NDJSON is each row's JSON.
pub fn small<T: Serialize>(
    f: Format,
    name: &str,
    columns: &[&str],
    rows: &[T],
    cells: impl Fn(&T, &mut dyn FnMut(&[csv::Cell<'_>])),
) -> Response {
    let mut out = String::new();
    if f == Format::Csv {
        csv::header(&mut out, columns);
        for r in rows {
            cells(r, &mut |c| csv::row(&mut out, c));
        }
    } else {
        for r in rows {
            push_ndjson(&mut out, r);
        }
    }
    download(f, name, Body::from(out))
}

/// Appends `row` as one NDJSON line.
pub fn push_ndjson<T: Serialize + ?Sized>(out: &mut String, row: &T) {
    out.push_str(&serde_json::to_string(row).unwrap_or_default());
    out.push('\n');
}

/// Where a streamed export reads its pages from: each call returns the next
/// encoded page, `None` after the last.
pub trait Pages: Send + 'static {
    fn next_page(
        &mut self,
    ) -> impl std::future::Future<Output = Result<Option<String>, StoreError>> + Send;
}

/// Streams every page of `pages` after `first` (the CSV header, or empty):
/// one page at a time, encoded and sent as it comes, so memory stays flat
/// at any size. A task reads and encodes the next page while this one is
/// sent (at most two pages wait between them), so the store and the
/// connection work side by side.
pub fn stream(
    mut pages: impl Pages,
    first: String,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, StoreError>>(2);
    tokio::spawn(async move {
        let mut header = first;
        loop {
            let text = match pages.next_page().await {
                Ok(Some(t)) => t,
                Ok(None) => {
                    if !header.is_empty() {
                        let _ = tx.send(Ok(Bytes::from(header))).await;
                    }
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "export failed");
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            // The first chunk starts with the CSV header.
            let chunk = if header.is_empty() {
                text
            } else {
                std::mem::take(&mut header) + &text
            };
            // A closed channel: the client went away.
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}
