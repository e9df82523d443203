//! Namespace names for WikiMon messages: numeric namespace id → canonical
//! (English) name, as WikiMon v2 sends in `ns`.
//!
//! Three layers, most specific first:
//!
//! 1. names a wiki told us itself, from its siteinfo
//!    (`action=query&meta=siteinfo&siprop=namespaces`), learnt in the
//!    background and cached in the store so a restart does not refetch;
//! 2. built-in canonical names of MediaWiki core (-2..15) and of the few
//!    extension namespaces whose id and canonical name are fixed by the
//!    extension itself and so are the same on every wiki;
//! 3. otherwise the id as a decimal string (`"1198"`), WikiMon's rule for an
//!    unknown namespace. We never guess: a wrong name is worse than a number.
//!
//! Namespace 0 is always `"Main"`, as WikiMon sends it.
//!
//! Learning never blocks a message: [`NamespaceRegistry::name`] answers from
//! what is known now and, when enabled, queues the wiki for the learner with a
//! non-blocking `try_send`; a later message for that wiki gets the learnt name.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// Canonical names of namespaces that are the same on every Wikimedia wiki.
///
/// Core: MediaWiki's `NamespaceInfo::$canonicalNamespaces` (4 and 5 are
/// `Project`/`Project talk` canonically; the localised `Wikipedia` is not the
/// canonical name). Extensions whose namespace ids are constants defined by
/// the extension (not configured per wiki): TimedMediaHandler 710/711,
/// Scribunto 828/829, Gadgets 2300–2303, StructuredDiscussions 2600.
/// Per-wiki namespaces (Portal, Draft, Wikidata's Property, Translate's
/// Translations, …) are deliberately absent: their ids differ between wikis.
const BUILTIN: &[(i64, &str)] = &[
    (-2, "Media"),
    (-1, "Special"),
    (0, "Main"),
    (1, "Talk"),
    (2, "User"),
    (3, "User talk"),
    (4, "Project"),
    (5, "Project talk"),
    (6, "File"),
    (7, "File talk"),
    (8, "MediaWiki"),
    (9, "MediaWiki talk"),
    (10, "Template"),
    (11, "Template talk"),
    (12, "Help"),
    (13, "Help talk"),
    (14, "Category"),
    (15, "Category talk"),
    (710, "TimedText"),
    (711, "TimedText talk"),
    (828, "Module"),
    (829, "Module talk"),
    (2300, "Gadget"),
    (2301, "Gadget talk"),
    (2302, "Gadget definition"),
    (2303, "Gadget definition talk"),
    (2600, "Topic"),
];

/// The built-in canonical name of `ns`, if it is the same on every wiki.
pub fn builtin_name(ns: i64) -> Option<&'static str> {
    BUILTIN.iter().find(|(id, _)| *id == ns).map(|(_, n)| *n)
}

/// Errors while learning a wiki's namespaces.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("siteinfo API: {0}")]
    Api(String),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// Where and how to ask wikis for their namespaces.
#[derive(Debug, Clone)]
pub struct SiteinfoOptions {
    /// API URL with `{domain}` for the wiki's host name
    /// (`https://{domain}/w/api.php`), as `--media-api`.
    pub api_template: String,
    pub user_agent: String,
    pub timeout: Duration,
    /// Wikis waiting to be learnt; more are dropped (and asked again later).
    pub queue: usize,
}

impl SiteinfoOptions {
    pub fn new(api_template: String, user_agent: String) -> SiteinfoOptions {
        SiteinfoOptions {
            api_template,
            user_agent,
            timeout: Duration::from_secs(10),
            queue: 256,
        }
    }
}

/// A request to learn one wiki: its database name and host name.
#[derive(Debug, Clone)]
struct LearnRequest {
    wiki: String,
    domain: String,
}

/// Known namespace names per wiki, shared by every task (`Send + Sync`).
#[derive(Default)]
pub struct NamespaceRegistry {
    learnt: RwLock<HashMap<String, Arc<BTreeMap<i64, String>>>>,
    /// Wikis already queued, so each is asked for once per process.
    requested: Mutex<HashSet<String>>,
    learner: Option<mpsc::Sender<LearnRequest>>,
}

impl NamespaceRegistry {
    /// Built-in names only; never learns.
    pub fn builtin() -> NamespaceRegistry {
        NamespaceRegistry::default()
    }

    /// The name WikiMon sends for namespace `ns` of `wiki`. When the name is
    /// not known and a learner runs, queues the wiki (host `domain`) for it.
    pub fn name(&self, wiki: &str, domain: &str, ns: i64) -> String {
        if ns == 0 {
            return "Main".to_owned();
        }
        if let Ok(map) = self.learnt.read()
            && let Some(names) = map.get(wiki)
        {
            if let Some(n) = names.get(&ns) {
                return n.clone();
            }
            // The wiki is learnt and has no such namespace: a number.
            return builtin_name(ns).map_or_else(|| ns.to_string(), str::to_owned);
        }
        if let Some(n) = builtin_name(ns) {
            return n.to_owned();
        }
        self.request(wiki, domain);
        ns.to_string()
    }

    /// Whether `wiki`'s own names are known.
    pub fn is_learnt(&self, wiki: &str) -> bool {
        self.learnt.read().is_ok_and(|m| m.contains_key(wiki))
    }

    /// Installs `wiki`'s names (id → canonical name).
    pub fn learn(&self, wiki: &str, names: BTreeMap<i64, String>) {
        if let Ok(mut map) = self.learnt.write() {
            map.insert(wiki.to_owned(), Arc::new(names));
        }
    }

    fn request(&self, wiki: &str, domain: &str) {
        let Some(tx) = &self.learner else {
            return;
        };
        if wiki.is_empty() || domain.is_empty() {
            return;
        }
        let Ok(mut asked) = self.requested.lock() else {
            return;
        };
        if asked.contains(wiki) {
            return;
        }
        // try_send: the caller is on the message path and must not wait.
        if tx
            .try_send(LearnRequest {
                wiki: wiki.to_owned(),
                domain: domain.to_owned(),
            })
            .is_ok()
        {
            asked.insert(wiki.to_owned());
        }
    }

    /// A registry that learns unknown wikis in a background task (one wiki at
    /// a time, each looked up in the store first, then asked over HTTP and
    /// saved). The task stops at `shutdown`.
    pub fn with_learner(
        opts: SiteinfoOptions,
        store: Option<Arc<dyn Store>>,
        shutdown: CancellationToken,
    ) -> Arc<NamespaceRegistry> {
        let (tx, rx) = mpsc::channel(opts.queue.max(1));
        let registry = Arc::new(NamespaceRegistry {
            learner: Some(tx),
            ..NamespaceRegistry::default()
        });
        tokio::spawn(learn_loop(
            opts,
            store,
            Arc::downgrade(&registry),
            rx,
            shutdown,
        ));
        registry
    }

    /// Learns `wiki` now (store cache first, then the API), for callers off
    /// the hot path such as `wikiwatch parse`.
    pub async fn learn_now(
        &self,
        client: &reqwest::Client,
        opts: &SiteinfoOptions,
        store: Option<&dyn Store>,
        wiki: &str,
        domain: &str,
    ) -> Result<(), NamespaceError> {
        if self.is_learnt(wiki) {
            return Ok(());
        }
        let names = resolve(client, opts, store, wiki, domain).await?;
        self.learn(wiki, names);
        Ok(())
    }
}

/// The HTTP client the learner uses.
pub fn http_client(opts: &SiteinfoOptions) -> Result<reqwest::Client, NamespaceError> {
    Ok(reqwest::Client::builder()
        .user_agent(opts.user_agent.clone())
        .timeout(opts.timeout)
        .build()?)
}

async fn learn_loop(
    opts: SiteinfoOptions,
    store: Option<Arc<dyn Store>>,
    registry: std::sync::Weak<NamespaceRegistry>,
    mut rx: mpsc::Receiver<LearnRequest>,
    shutdown: CancellationToken,
) {
    let client = match http_client(&opts) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "namespace learning disabled: cannot build the HTTP client");
            return;
        }
    };
    loop {
        let req = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = rx.recv() => match r { Some(r) => r, None => return },
        };
        let Some(reg) = registry.upgrade() else {
            return;
        };
        match resolve(&client, &opts, store.as_deref(), &req.wiki, &req.domain).await {
            Ok(names) => reg.learn(&req.wiki, names),
            Err(e) => {
                tracing::warn!(wiki = %req.wiki, error = %e, "could not learn the wiki's namespaces");
                // Allow a later message to ask again.
                if let Ok(mut asked) = reg.requested.lock() {
                    asked.remove(&req.wiki);
                }
            }
        }
    }
}

/// A wiki's names: from the store when cached, else from its siteinfo
/// (then saved in the store).
pub async fn resolve(
    client: &reqwest::Client,
    opts: &SiteinfoOptions,
    store: Option<&dyn Store>,
    wiki: &str,
    domain: &str,
) -> Result<BTreeMap<i64, String>, NamespaceError> {
    if let Some(store) = store
        && let Some(names) = store.wiki_namespaces(wiki).await?
    {
        return Ok(names);
    }
    let names = fetch_siteinfo(client, &opts.api_template, domain).await?;
    if let Some(store) = store {
        store.save_wiki_namespaces(wiki, names.clone()).await?;
    }
    Ok(names)
}

/// Asks one wiki for its namespaces.
pub async fn fetch_siteinfo(
    client: &reqwest::Client,
    template: &str,
    domain: &str,
) -> Result<BTreeMap<i64, String>, NamespaceError> {
    let base = template.replace("{domain}", domain);
    let url = url::Url::parse_with_params(
        &base,
        &[
            ("action", "query"),
            ("meta", "siteinfo"),
            ("siprop", "namespaces"),
            ("format", "json"),
        ],
    )
    .map_err(|e| NamespaceError::Api(format!("bad API URL {base:?}: {e}")))?;
    let resp = client.get(url).send().await?;
    if !resp.status().is_success() {
        return Err(NamespaceError::Api(format!("HTTP {}", resp.status())));
    }
    let v: serde_json::Value = resp.json().await?;
    parse_siteinfo(&v)
}

/// Reads `query.namespaces` of a siteinfo answer in either format version:
/// each entry's `canonical` name, else its local name (`*` or `name`), which
/// is what the wiki calls a namespace that has no canonical name.
pub fn parse_siteinfo(v: &serde_json::Value) -> Result<BTreeMap<i64, String>, NamespaceError> {
    if let Some(err) = v.get("error") {
        return Err(NamespaceError::Api(err.to_string()));
    }
    let Some(spaces) = v.pointer("/query/namespaces").and_then(|n| n.as_object()) else {
        return Err(NamespaceError::Api(
            "no query.namespaces in the answer".into(),
        ));
    };
    let mut out = BTreeMap::new();
    for (key, entry) in spaces {
        let id = entry
            .get("id")
            .and_then(|i| i.as_i64())
            .or_else(|| key.parse().ok());
        let Some(id) = id else { continue };
        let name = ["canonical", "*", "name"]
            .iter()
            .filter_map(|k| entry.get(*k).and_then(|s| s.as_str()))
            .find(|s| !s.is_empty());
        match (id, name) {
            (0, _) => {
                out.insert(0, "Main".to_owned());
            }
            (_, Some(n)) => {
                out.insert(id, n.to_owned());
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_names() {
        let r = NamespaceRegistry::builtin();
        assert_eq!(r.name("enwiki", "en.wikipedia.org", 0), "Main");
        assert_eq!(r.name("enwiki", "en.wikipedia.org", 3), "User talk");
        assert_eq!(r.name("enwiki", "en.wikipedia.org", 4), "Project");
        assert_eq!(r.name("enwiki", "en.wikipedia.org", -1), "Special");
        assert_eq!(r.name("enwiki", "en.wikipedia.org", 828), "Module");
        // Per-wiki ids are never guessed.
        assert_eq!(r.name("enwiki", "en.wikipedia.org", 118), "118");
        assert_eq!(r.name("wikidatawiki", "www.wikidata.org", 120), "120");
        assert_eq!(r.name("metawiki", "meta.wikimedia.org", 1198), "1198");
    }

    #[test]
    fn learnt_names_win_and_stay_per_wiki() {
        let r = NamespaceRegistry::builtin();
        r.learn(
            "wikidatawiki",
            BTreeMap::from([(0, "Main".to_owned()), (120, "Property".to_owned())]),
        );
        assert_eq!(r.name("wikidatawiki", "www.wikidata.org", 120), "Property");
        assert_eq!(r.name("enwiki", "en.wikipedia.org", 120), "120");
        assert_eq!(r.name("wikidatawiki", "www.wikidata.org", 999), "999");
    }

    /// The background learner: the first message gets the number without
    /// waiting, a later one the learnt name; one request per wiki.
    #[tokio::test]
    async fn learner_fills_in_names_off_the_message_path() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let app = axum::Router::new().route(
            "/{domain}/w/api.php",
            axum::routing::get(move || {
                let counter = Arc::clone(&counter);
                async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    axum::Json(serde_json::json!({"query":{"namespaces":{
                        "1198":{"id":1198,"canonical":"Translations","*":"Translations"}}}}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let stop = CancellationToken::new();
        let reg = NamespaceRegistry::with_learner(
            SiteinfoOptions::new(format!("http://{addr}/{{domain}}/w/api.php"), "test".into()),
            None,
            stop.clone(),
        );
        assert_eq!(reg.name("metawiki", "meta.wikimedia.org", 1198), "1198");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while reg.name("metawiki", "meta.wikimedia.org", 1198) != "Translations" {
            assert!(tokio::time::Instant::now() < deadline, "never learnt");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(hits.load(Ordering::Relaxed), 1);
        stop.cancel();
    }

    #[test]
    fn siteinfo_both_format_versions() {
        let v1 = serde_json::json!({"batchcomplete":"","query":{"namespaces":{
            "0":{"id":0,"case":"first-letter","content":"","*":""},
            "4":{"id":4,"case":"first-letter","subpages":"","canonical":"Project","*":"Wikipedia"},
            "1198":{"id":1198,"case":"first-letter","canonical":"Translations","*":"Translations"},
            "90":{"id":90,"case":"first-letter","*":"Thread"}}}});
        let names = parse_siteinfo(&v1).expect("v1 parses");
        assert_eq!(names[&0], "Main");
        assert_eq!(names[&4], "Project");
        assert_eq!(names[&1198], "Translations");
        assert_eq!(names[&90], "Thread");
        let v2 = serde_json::json!({"query":{"namespaces":{
            "120":{"id":120,"case":"first-letter","name":"Property","canonical":"Property"}}}});
        assert_eq!(parse_siteinfo(&v2).expect("v2 parses")[&120], "Property");
        assert!(parse_siteinfo(&serde_json::json!({"error":{"code":"x"}})).is_err());
        assert!(parse_siteinfo(&serde_json::json!({})).is_err());
    }
}
