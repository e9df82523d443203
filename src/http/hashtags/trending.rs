//! Trending tags over a window, with a short-lived cache of the answers
//! (the home page asks on every view).

use std::time::Duration;

use crate::hashtags::query::TrendingRow;
use crate::http::error::ApiError;
use crate::http::params::{Choices, DAY_MS, Params};
use crate::http::state::AppState;
use crate::store::HashtagQueries;

const WINDOWS: Choices<(&str, i64)> = Choices {
    entries: &[
        (&["24h", "1d"], ("24h", DAY_MS)),
        (&["7d"], ("7d", 7 * DAY_MS)),
        (&["30d"], ("30d", 30 * DAY_MS)),
    ],
    fold_case: false,
};

pub fn window(p: &Params) -> Result<(&'static str, i64), ApiError> {
    Ok(p.choice("window", &WINDOWS)?
        .unwrap_or(("30d", 30 * DAY_MS)))
}

type TrendingAnswer = (Option<i64>, Vec<TrendingRow>);

/// Trending answers by (window, limit), reused for [`TRENDING_TTL`]: the home
/// page asks on every view and the answer moves slowly.
static TRENDING_CACHE: std::sync::Mutex<Vec<TrendingCached>> = std::sync::Mutex::new(Vec::new());

type TrendingCached = ((i64, usize), std::time::Instant, TrendingAnswer);

const TRENDING_TTL: Duration = Duration::from_secs(15);

/// Trending tags up to the newest stored hashtag edit (= now while ingest is live).
pub async fn trending(
    hq: &dyn HashtagQueries,
    window_ms: i64,
    limit: usize,
) -> Result<TrendingAnswer, ApiError> {
    let key = (window_ms, limit);
    if let Ok(cache) = TRENDING_CACHE.lock()
        && let Some((_, _, answer)) = cache
            .iter()
            .find(|(k, at, _)| *k == key && at.elapsed() < TRENDING_TTL)
    {
        return Ok(answer.clone());
    }
    let answer = match hq.hashtag_newest_ms().await? {
        None => (None, Vec::new()),
        Some(newest) => (
            Some(newest),
            hq.hashtag_trending(newest, window_ms, limit).await?,
        ),
    };
    if let Ok(mut cache) = TRENDING_CACHE.lock() {
        cache.retain(|(k, at, _)| *k != key && at.elapsed() < TRENDING_TTL);
        cache.push((key, std::time::Instant::now(), answer.clone()));
    }
    Ok(answer)
}

/// Home page section: trending tags of the last 30 days.
pub async fn home_trending(state: &AppState) -> Vec<TrendingRow> {
    trending(state.store.hashtags(), 30 * DAY_MS, 10)
        .await
        .map(|t| t.1)
        .unwrap_or_default()
}
