//! Vendored static files (uPlot, the page scripts), embedded in the binary.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Vendored static files, embedded in the binary.
pub async fn static_file(Path(name): Path<String>) -> Response {
    let (body, ctype): (&'static str, &'static str) = match name.as_str() {
        "uPlot.iife.min.js" => (
            include_str!("../../static/uPlot.iife.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "uPlot.min.css" => (
            include_str!("../../static/uPlot.min.css"),
            "text/css; charset=utf-8",
        ),
        "hashtags.js" => (
            include_str!("../../static/hashtags.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return ApiError::NotFound(format!("no static file {name:?}")).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The live page's script (no template: it holds braces).
pub async fn live_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../static/live.js"),
    )
        .into_response()
}
