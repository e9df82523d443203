//! The OpenAPI document served at `/api/openapi.json`: a base document plus
//! one JSON fragment per feature (`src/http/openapi/{hashtags,live,links}.json`,
//! embedded), each holding `paths`, `components.schemas` and
//! `components.parameters` that are merged in (parameters shared by many
//! paths are `$ref`s). A new feature adds its fragment to [`FRAGMENTS`].

use axum::Json;
use serde_json::{Map, Value, json};

const FRAGMENTS: &[&str] = &[
    include_str!("openapi/hashtags.json"),
    include_str!("openapi/live.json"),
    include_str!("openapi/links.json"),
];

/// The merged document.
pub fn document() -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut parameters = Map::new();
    for f in FRAGMENTS {
        let Ok(v) = serde_json::from_str::<Value>(f) else {
            tracing::error!("an OpenAPI fragment is not valid JSON");
            continue;
        };
        if let Some(p) = v.get("paths").and_then(Value::as_object) {
            paths.extend(p.clone());
        }
        if let Some(s) = v.pointer("/components/schemas").and_then(Value::as_object) {
            schemas.extend(s.clone());
        }
        if let Some(s) = v
            .pointer("/components/parameters")
            .and_then(Value::as_object)
        {
            parameters.extend(s.clone());
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "wikiwatch",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Hashtag tracking, live edit feeds and the external-link log of every Wikimedia wiki, from one ingest of EventStreams."
        },
        "paths": paths,
        "components": { "schemas": schemas, "parameters": parameters }
    })
}

pub async fn serve() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_fragment_parses_and_paths_merge() {
        for f in super::FRAGMENTS {
            serde_json::from_str::<serde_json::Value>(f).expect("fragment is JSON");
        }
        let d = super::document();
        assert!(d["paths"]["/api/hashtags/edits"].is_object());
        assert!(d["paths"]["/api/links/events"].is_object());
        assert!(d["paths"]["/api/live/stats"].is_object());
    }

    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::Object(o) => {
                    if let Some(r) = o.get("$ref").and_then(|r| r.as_str()) {
                        out.push(r);
                    }
                    o.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let d = super::document();
        let mut all = Vec::new();
        refs(&d, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let pointer = r.trim_start_matches('#');
            assert!(d.pointer(pointer).is_some(), "{r} does not resolve");
        }
    }
}
