//! The borrowed, flat shape every stream's JSON is read into: every field
//! optional, unknown fields ignored, numbers accepted as strings.

use std::borrow::Cow;

use serde::Deserialize;

use super::ChangeKind;
use super::lenient::{change_kind, lenient_bool, lenient_i64};

/// `meta` as found on every stream, borrowed from the input.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawMeta<'a> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub dt: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub domain: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub stream: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub topic: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub partition: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub offset: Option<i64>,
    #[serde(borrow)]
    pub uri: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub schema_uri: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OldNew {
    #[serde(deserialize_with = "lenient_i64")]
    pub old: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub new: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPerformer<'a> {
    #[serde(borrow)]
    pub user_text: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub user_id: Option<i64>,
    pub user_is_bot: Option<bool>,
    #[serde(borrow)]
    pub user_groups: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    pub user_registration_dt: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub user_edit_count: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct RawLink<'a> {
    #[serde(borrow)]
    pub link: Cow<'a, str>,
    #[serde(default)]
    pub external: bool,
}

/// One event of any stream we consume, borrowed from the input bytes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawEvent<'a> {
    #[serde(rename = "$schema", borrow)]
    pub schema: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub meta: RawMeta<'a>,

    // recentchange
    #[serde(deserialize_with = "lenient_i64")]
    pub id: Option<i64>,
    #[serde(rename = "type", deserialize_with = "change_kind")]
    pub kind: Option<ChangeKind>,
    #[serde(deserialize_with = "lenient_i64")]
    pub namespace: Option<i64>,
    #[serde(borrow)]
    pub title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub comment: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub timestamp: Option<i64>,
    #[serde(borrow)]
    pub user: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_bool")]
    pub bot: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub minor: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub patrolled: Option<bool>,
    pub length: Option<OldNew>,
    pub revision: Option<OldNew>,
    #[serde(borrow)]
    pub server_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub server_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub server_script_path: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub wiki: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub log_id: Option<i64>,
    #[serde(borrow)]
    pub log_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub log_action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub notify_url: Option<Cow<'a, str>>,

    // page-links-change, page-delete, page-undelete
    #[serde(borrow)]
    pub database: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub page_id: Option<i64>,
    #[serde(borrow)]
    pub page_title: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient_i64")]
    pub page_namespace: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub rev_id: Option<i64>,
    #[serde(borrow)]
    pub performer: Option<RawPerformer<'a>>,
    #[serde(borrow)]
    pub added_links: Option<Vec<RawLink<'a>>>,
    #[serde(borrow)]
    pub removed_links: Option<Vec<RawLink<'a>>>,
}
