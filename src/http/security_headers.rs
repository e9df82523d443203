//! Response headers that keep a browser from misreading or misusing what the
//! server sends: `nosniff` on everything; on pages also a Content Security
//! Policy that allows only the server's own scripts (the pages have no inline
//! script), and a refusal to be framed by other sites.

use axum::http::{HeaderValue, Response, header};

/// The policy of every page: scripts, fetches and WebSockets only from this
/// server; inline styles allowed (the pages and uPlot use them; they cannot
/// run code); no plugins, no framing, no `<base>` rewrites, forms post here.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the headers to `response`.
pub fn apply<B>(response: &mut Response<B>) {
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if is_page {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
    }
}
