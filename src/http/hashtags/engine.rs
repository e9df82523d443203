//! The store's hashtag query engine for a request.

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::store::hashtag_queries::HashtagQueries;

pub fn queries(state: &AppState) -> Result<&dyn HashtagQueries, ApiError> {
    state.store.hashtags().ok_or_else(|| {
        ApiError::NotFound(format!(
            "the {} backend does not answer hashtag queries yet",
            state.store.backend()
        ))
    })
}
