//! An edit as the hashtag API, exports, feeds and pages show it
//! ([`ApiEdit`]), with its page, user and diff URLs.

use serde::Serialize;

use crate::hashtags::query::EditRow;

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
pub fn push_wiki_path(out: &mut String, title: &str) {
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
