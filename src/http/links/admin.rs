//! The collections admin API (`PUT`/`DELETE /api/admin/links/collections/…`),
//! behind a bearer token.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::links::filter::CollectionDef;

fn admin_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// Compares in time independent of where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

/// `None` when the request may use the admin API, else the refusal.
fn check_admin(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = state.links.admin_token.as_deref() else {
        return Some(admin_error(
            StatusCode::NOT_FOUND,
            "the admin API is disabled: start wikiwatch with --admin-token",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            // The scheme is case-insensitive (RFC 9110 §11.1).
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        });
    match given {
        None => Some(admin_error(
            StatusCode::UNAUTHORIZED,
            "send the admin token as Authorization: Bearer TOKEN",
        )),
        Some(g) if constant_time_eq(g.trim().as_bytes(), token.as_bytes()) => None,
        Some(_) => Some(admin_error(StatusCode::FORBIDDEN, "wrong admin token")),
    }
}

/// `PUT /api/admin/links/collections/{name}` with a JSON body
/// `{"patterns": […], "users": […], "group": …, "description": …}`.
pub async fn put_collection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if let Some(refusal) = check_admin(&state, &headers) {
        return Ok(refusal);
    }
    let mut value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad("body", format!("not JSON: {e}")))?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("name".into(), json!(name));
    }
    let mut col: CollectionDef = serde_json::from_value(value)
        .map_err(|e| ApiError::bad("body", format!("not a collection: {e}")))?;
    col.source = "api".into();
    col.validate()?;
    if state.links.collections.iter().any(|c| c.name == col.name) {
        return Ok(admin_error(
            StatusCode::CONFLICT,
            "this collection is defined in the configuration file; change it there",
        ));
    }
    state.store.put_link_collection(&col).await?;
    Ok((StatusCode::OK, Json(json!({"collection": col}))).into_response())
}

/// `DELETE /api/admin/links/collections/{name}`
pub async fn delete_collection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(refusal) = check_admin(&state, &headers) {
        return Ok(refusal);
    }
    if state.store.delete_link_collection(&name).await? {
        Ok(Json(json!({"deleted": name})).into_response())
    } else {
        Err(ApiError::NotFound(format!("no collection named {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
