//! Parsing a link request: the known parameters, and the filters every link
//! view takes into the domain's [`LinkFilter`].

use crate::extract::EditorKind;
use crate::http::error::ApiError;
use crate::http::params::{Choices, Params};
use crate::links::filter::{LinkFilter, LinkMatch, Provenance, Tristate, parse_action};

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

/// Decodes the query string of a link route; a parameter no link route
/// knows is refused (a typo would otherwise widen the answer silently).
pub fn link_params(q: Option<&str>) -> Result<Params, ApiError> {
    let p = Params::decode(q);
    if let Some(k) = p.unknown(&[FILTER_KEYS, VIEW_KEYS]) {
        return Err(ApiError::bad(
            "query",
            format!(
                "unknown parameter {k:?}; filters are {}",
                FILTER_KEYS.join(", ")
            ),
        ));
    }
    Ok(p)
}

fn tristate(p: &Params, key: &'static str) -> Result<Tristate, ApiError> {
    Ok(p.choice(key, &TRISTATES)?.unwrap_or(Tristate::Include))
}

const TRISTATES: Choices<Tristate> = Choices {
    entries: &[
        (&["include"], Tristate::Include),
        (&["exclude"], Tristate::Exclude),
        (&["only"], Tristate::Only),
    ],
    fold_case: false,
};

const EDITOR_KINDS: Choices<EditorKind> = Choices {
    entries: &[
        (&["ip"], EditorKind::Ip),
        (&["temp"], EditorKind::Temp),
        (&["named"], EditorKind::Named),
    ],
    fold_case: false,
};

/// Builds the filter from the parameters. Provenance defaults to `edit`;
/// `provenance=all` counts every event.
pub fn parse_filter(p: &Params) -> Result<LinkFilter, ApiError> {
    let mut f = LinkFilter::default();
    for v in p.list("domain", ',') {
        f.matchers.push(LinkMatch::domain(&v)?);
    }
    for v in p.list("host", ',') {
        f.matchers.push(LinkMatch::host(&v)?);
    }
    for (k, v) in p.pairs() {
        // URL prefixes and patterns may contain commas: one per parameter.
        if k == "prefix" && !v.trim().is_empty() {
            f.matchers.push(LinkMatch::prefix(v)?);
        }
        if k == "pattern" && !v.trim().is_empty() {
            f.matchers.push(LinkMatch::pattern(v)?);
        }
    }
    f.wrappers = tristate(p, "wrappers")?;
    for v in p.list("action", ',') {
        f.actions.push(parse_action(&v).ok_or_else(|| {
            ApiError::bad(
                "action",
                format!("{v:?}: use added, removed, page_deleted or page_restored"),
            )
        })?);
    }
    let provenances = p.list("provenance", ',');
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
    for w in p.list("wiki", ',') {
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
    for v in p.list("namespace", ',') {
        f.namespaces.push(
            v.parse()
                .map_err(|_| ApiError::bad("namespace", format!("{v:?} is not a number")))?,
        );
    }
    for u in p.list("user", ',') {
        f.users.push(u.replace('_', " "));
    }
    f.bots = tristate(p, "bots")?;
    for v in p.list("editor", ',') {
        f.editor_kinds.push(
            EDITOR_KINDS
                .find(&v)
                .ok_or_else(|| ApiError::bad("editor", EDITOR_KINDS.refusal("editor", &v)))?,
        );
    }
    f.min_account_age_days = p.int("min_account_age_days")?;
    f.max_account_age_days = p.int("max_account_age_days")?;
    f.min_edit_count = p.int("min_edits")?;
    f.max_edit_count = p.int("max_edits")?;
    f.from_ms = p.date_or_time("from")?.map(|(start, _)| start);
    f.until_ms = p.date_or_time("to")?.map(|(_, end)| end);
    if let (Some(a), Some(b)) = (f.from_ms, f.until_ms)
        && a >= b
    {
        return Err(ApiError::bad("to", "the end is before the start"));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_params_are_named() {
        let p = link_params(Some("action=bogus")).unwrap();
        match parse_filter(&p) {
            Err(ApiError::BadRequest { parameter, .. }) => assert_eq!(parameter, "action"),
            other => panic!("{other:?}"),
        }
        assert!(link_params(Some("nope=1")).is_err());
    }
}
