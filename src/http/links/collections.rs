//! Link collections: those of the configuration and of the admin API, found
//! by name or group, and the filter a set of them selects.

use super::filter::parse_filter;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::links::filter::{CollectionDef, LinkFilter};

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
    let only = p.flag("only_listed_users")?;
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
