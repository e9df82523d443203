//! Media flags for hashtag edits ("the edit added an image / video / audio
//! file", asked for by the #WPWP campaign), found by asking the wiki's API off
//! the ingest path.
//!
//! A background task takes edits whose flags are unknown from the store
//! (newest first, a bounded batch at a time), and for each asks the wiki:
//! `action=parse&prop=images` on the new revision and, when it has files, on
//! the old one; the files only the new revision has are then looked up with
//! `prop=imageinfo&iiprop=mediatype` (50 titles a request, following
//! `continue` at most 50 times). BITMAP and DRAWING are images, VIDEO and
//! AUDIO the others. Each edit is checked once; a failed check is retried in a
//! later round, at most `max_attempts` times, and the flags stay unknown until
//! a check succeeds.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::query::{MediaCheck, MediaFlags};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct MediaOptions {
    /// The API URL with `{domain}` for the wiki's domain
    /// (`https://{domain}/w/api.php`).
    pub api_template: String,
    pub user_agent: String,
    /// Edits checked at the same time.
    pub concurrency: usize,
    /// Edits taken from the store per round.
    pub batch: usize,
    /// Wait between rounds when there is nothing to do or a round failed.
    pub idle: Duration,
    pub max_attempts: i64,
    pub timeout: Duration,
}

impl MediaOptions {
    pub fn new(api_template: String, user_agent: String) -> MediaOptions {
        MediaOptions {
            api_template,
            user_agent,
            concurrency: 4,
            batch: 50,
            idle: Duration::from_secs(2),
            max_attempts: 5,
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the API answered {0}")]
    Api(String),
}

/// Runs until `shutdown`.
pub async fn run(opts: MediaOptions, store: Arc<dyn Store>, shutdown: CancellationToken) {
    let client = match reqwest::Client::builder()
        .user_agent(opts.user_agent.clone())
        .timeout(opts.timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "media flags: cannot build the HTTP client");
            return;
        }
    };
    loop {
        let pending = store
            .hashtags()
            .media_pending(opts.batch, opts.max_attempts)
            .await;
        let mut wait = pending.as_ref().map(Vec::is_empty).unwrap_or(true);
        match pending {
            Ok(items) if !items.is_empty() => {
                let results: Vec<(i64, Option<MediaFlags>)> = futures_util::stream::iter(items)
                    .map(|item| {
                        let client = &client;
                        let opts = &opts;
                        async move {
                            let r = check(client, &opts.api_template, &item).await;
                            if let Err(e) = &r {
                                tracing::debug!(id = item.id, error = %e, "media check failed");
                            }
                            (item.id, r.ok())
                        }
                    })
                    .buffer_unordered(opts.concurrency.max(1))
                    .collect()
                    .await;
                wait = results.iter().any(|(_, r)| r.is_none());
                if let Err(e) = store.hashtags().media_record(results).await {
                    tracing::warn!(error = %e, "media flags: cannot record results");
                    wait = true;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "media flags: cannot read the queue"),
        }
        if wait {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(opts.idle) => {}
            }
        } else if shutdown.is_cancelled() {
            return;
        }
    }
}

fn api_url(template: &str, domain: &str) -> String {
    template.replace("{domain}", domain)
}

async fn get_json(
    client: &reqwest::Client,
    url: &str,
    query: &[(&str, String)],
) -> Result<serde_json::Value, MediaError> {
    let url = url::Url::parse_with_params(url, query)
        .map_err(|e| MediaError::Api(format!("bad API URL {url:?}: {e}")))?;
    let resp = client.get(url).send().await?;
    if !resp.status().is_success() {
        return Err(MediaError::Api(format!("HTTP {}", resp.status())));
    }
    let v: serde_json::Value = resp.json().await?;
    if let Some(err) = v.get("error") {
        return Err(MediaError::Api(err.to_string()));
    }
    Ok(v)
}

/// The files a revision uses (`action=parse&prop=images`).
async fn files_of(
    client: &reqwest::Client,
    url: &str,
    rev: i64,
) -> Result<BTreeSet<String>, MediaError> {
    let v = get_json(
        client,
        url,
        &[
            ("action", "parse".into()),
            ("oldid", rev.to_string()),
            ("prop", "images".into()),
            ("format", "json".into()),
            ("formatversion", "2".into()),
        ],
    )
    .await?;
    Ok(v.pointer("/parse/images")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Checks one edit.
pub async fn check(
    client: &reqwest::Client,
    template: &str,
    item: &MediaCheck,
) -> Result<MediaFlags, MediaError> {
    let url = api_url(template, &item.domain);
    let new = files_of(client, &url, item.rev_new).await?;
    if new.is_empty() {
        return Ok(MediaFlags::default());
    }
    let old = match item.rev_old {
        Some(r) if r > 0 => files_of(client, &url, r).await?,
        _ => BTreeSet::new(),
    };
    let added: Vec<&String> = new.difference(&old).collect();
    let mut flags = MediaFlags::default();
    for chunk in added.chunks(50) {
        let titles = chunk
            .iter()
            .map(|t| format!("File:{t}"))
            .collect::<Vec<_>>()
            .join("|");
        let mut cont: Vec<(String, String)> = Vec::new();
        for _ in 0..50 {
            let mut query: Vec<(&str, String)> = vec![
                ("action", "query".into()),
                ("prop", "imageinfo".into()),
                ("iiprop", "mediatype".into()),
                ("titles", titles.clone()),
                ("format", "json".into()),
                ("formatversion", "2".into()),
            ];
            for (k, v) in &cont {
                query.push((k.as_str(), v.clone()));
            }
            let v = get_json(client, &url, &query).await?;
            for page in v
                .pointer("/query/pages")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
            {
                for info in page
                    .get("imageinfo")
                    .and_then(|i| i.as_array())
                    .into_iter()
                    .flatten()
                {
                    match info.get("mediatype").and_then(|m| m.as_str()) {
                        Some("BITMAP" | "DRAWING") => flags.image = true,
                        Some("VIDEO") => flags.video = true,
                        Some("AUDIO") => flags.audio = true,
                        _ => {}
                    }
                }
            }
            match v.get("continue").and_then(|c| c.as_object()) {
                Some(c) => {
                    cont = c
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_str()
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| v.to_string()),
                            )
                        })
                        .collect();
                }
                None => break,
            }
        }
    }
    Ok(flags)
}
