//! The streamed CSV/NDJSON export of hashtag edits: the CSV row of an edit,
//! written straight from the store row, and the pages [`export::stream`]
//! sends.

use std::sync::Arc;

use axum::body::Bytes;
use futures_util::Stream;

use super::rows::{ApiEdit, push_wiki_path};
use crate::hashtags::query::{Cursor, EditRow, HashtagQuery, RowEncoder};
use crate::http::csv;
use crate::http::export::{self, Format};
use crate::store::{Store, StoreError};

/// Rows per store call while streaming an export.
const EXPORT_PAGE: usize = 5_000;

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
            _ => csv::text(&mut line, c),
        }
    }
    line.push_str("\r\n");
    out.push_str(&line);
}

/// The export's CSV row for one edit, written straight from the store row:
/// the same bytes as [`edit_csv`] of its [`ApiEdit`], without building the
/// `ApiEdit` (its URLs and strings) first. `scratch` is reused between rows.
fn edit_row_csv(out: &mut String, scratch: &mut String, r: &EditRow) {
    use std::fmt::Write as _;
    csv::text(out, &crate::event::format_ms(r.time_ms));
    out.push(',');
    csv::text(out, &r.wiki);
    out.push(',');
    csv::text(out, &r.domain);
    out.push(',');
    csv::num(out, r.rc_id);
    out.push(',');
    csv::num(out, r.rev_new);
    out.push(',');
    csv::num(out, r.rev_old);
    out.push(',');
    if let Some(rev) = r.rev_new {
        scratch.clear();
        let _ = write!(scratch, "https://{}/wiki/Special:Diff/{rev}", r.domain);
        csv::text(out, scratch);
    }
    out.push(',');
    csv::text(out, &r.title);
    out.push(',');
    scratch.clear();
    let _ = write!(scratch, "https://{}/wiki/", r.domain);
    push_wiki_path(scratch, &r.title);
    csv::text(out, scratch);
    out.push(',');
    csv::num(out, Some(r.namespace));
    out.push(',');
    csv::text(out, &r.change_type);
    out.push(',');
    csv::text(out, r.user.as_deref().unwrap_or(""));
    out.push(',');
    csv::num(out, r.size_change());
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
    csv::text(out, scratch);
    out.push(',');
    csv::text(out, &r.summary);
    for f in [r.has_image, r.has_video, r.has_audio] {
        out.push(',');
        out.push_str(opt_flag(f));
    }
    out.push_str("\r\n");
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

/// The pages of a streamed edit export: one store call per page, encoded
/// by the store straight into the export text.
struct EditPages {
    store: Arc<dyn Store>,
    q: HashtagQuery,
    after: Option<Cursor>,
    encode: RowEncoder,
    done: bool,
}

impl export::Pages for EditPages {
    async fn next_page(&mut self) -> Result<Option<String>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let hq = self.store.hashtags();
        let (text, next) = hq
            .hashtag_edits_encoded(&self.q, self.after, EXPORT_PAGE, self.encode)
            .await?;
        self.after = next;
        self.done = next.is_none();
        Ok(Some(text))
    }
}

/// Streams every matching edit from `after` on (see [`export::stream`]).
pub fn stream_edits(
    store: Arc<dyn Store>,
    q: HashtagQuery,
    after: Option<Cursor>,
    f: Format,
) -> impl Stream<Item = Result<Bytes, StoreError>> {
    let mut header = String::new();
    let encode: RowEncoder = if f == Format::Csv {
        csv::header(&mut header, EDIT_COLUMNS);
        encode_csv
    } else {
        encode_ndjson
    };
    let pages = EditPages {
        store,
        q,
        after,
        encode,
        done: false,
    };
    export::stream(pages, header)
}

#[cfg(test)]
mod tests {
    use super::*;

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
