//! HTTP errors: 4xx answers name the bad input; 5xx answers hide internals
//! behind a short message and log the detail.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::links::filter::InvalidParam;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request parameter is missing or malformed.
    #[error("{message}")]
    BadRequest {
        parameter: Cow<'static, str>,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    #[error("could not render the page: {0}")]
    Render(#[from] askama::Error),
    /// The client's address holds as many long-lived connections as allowed.
    #[error(transparent)]
    TooMany(#[from] crate::live::hub::TooMany),
}

impl ApiError {
    /// A 400 naming `parameter`.
    pub fn bad(parameter: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            parameter: parameter.into(),
            message: message.into(),
        }
    }
}

impl From<InvalidParam> for ApiError {
    fn from(e: InvalidParam) -> Self {
        ApiError::bad(e.parameter, e.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::BadRequest { parameter, message } => (
                StatusCode::BAD_REQUEST,
                json!({"error": message, "parameter": parameter}),
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, json!({"error": m})),
            ApiError::TooMany(e) => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": e.to_string(), "limit": e.limit}),
            ),
            ApiError::Store(_) | ApiError::Render(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal error; the server log has the details"}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
