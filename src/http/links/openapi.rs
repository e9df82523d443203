//! The link paths and schemas of the OpenAPI document.

use serde_json::json;

fn filter_params() -> serde_json::Value {
    let p = |name: &str, desc: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": desc});
    json!([
        p(
            "domain",
            "Domain with its subdomains, on label boundaries (apa.org never matches iaapa.org). Repeatable or comma separated."
        ),
        p("host", "Exact host."),
        p(
            "prefix",
            "URL prefix with scheme and host (https://www.jstor.org/stable/)."
        ),
        p(
            "pattern",
            "Special:LinkSearch pattern (*.example.org/path)."
        ),
        p(
            "wrappers",
            "Proxied and archived links, counted for their target: include (default), exclude, only."
        ),
        p(
            "action",
            "added, removed, page_deleted, page_restored (comma separated)."
        ),
        p("provenance", "edit (default), propagated, system, or all."),
        p(
            "wiki",
            "Database names, * as wildcard (enwiki, *wiktionary)."
        ),
        p("namespace", "Namespace numbers."),
        p("user", "User names."),
        p("bots", "include (default), exclude, only."),
        p("editor", "ip, temp, named."),
        p("min_account_age_days", "Account age at the time, at least."),
        p("max_account_age_days", "Account age at the time, under."),
        p("min_edits", "Edit count at the time, at least."),
        p("max_edits", "Edit count at the time, at most."),
        p("from", "Start, YYYY-MM-DD (UTC) or ISO-8601."),
        p("to", "End, inclusive: a date covers the whole UTC day."),
    ])
}

/// The link paths of the OpenAPI document, to merge into the shared one.
pub fn links_paths() -> serde_json::Value {
    let filters = filter_params();
    let with = |extra: serde_json::Value| {
        let mut v = filters.as_array().cloned().unwrap_or_default();
        v.extend(extra.as_array().cloned().unwrap_or_default());
        serde_json::Value::Array(v)
    };
    let q = |name: &str, desc: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": desc});
    let path_param = |name: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}});
    let err = json!({"description": "Bad parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let page = json!([
        q("limit", "Rows per page (1–1000, default 50)."),
        q("cursor", "next_cursor of the previous page."),
        q(
            "format",
            "json (default), csv or ndjson (streamed; ignores cursor)."
        )
    ]);
    let report = json!([
        q("bucket", "day or month (default by range)."),
        q("top", "Length of the top lists (1–100, default 10)."),
        q(
            "format",
            "json, or csv/ndjson with table=events|series|users|wikis|pages."
        ),
        q("table", "Table to export.")
    ]);
    json!({
        "/api/links/events": {"get": {"summary": "Link events, newest first (keyset pagination)", "parameters": with(page.clone()),
            "responses": {"200": {"description": "A page of events", "content": {"application/json": {}, "text/csv": {}, "application/x-ndjson": {}}}, "400": err}}},
        "/api/links/domains/{domain}": {"get": {"summary": "Domain report: added, removed, net over time (zero-filled), present count, first/last seen, top users/wikis/pages, spam signals, latest events",
            "parameters": with(json!([path_param("domain")]).as_array().cloned().unwrap_or_default().into_iter().chain(report.as_array().cloned().unwrap_or_default()).collect()),
            "responses": {"200": {"description": "Report"}, "400": err}}},
        "/api/links/users/{user}": {"get": {"summary": "Every domain a user added or removed, per wiki", "parameters": with(json!([path_param("user")])), "responses": {"200": {"description": "Domains"}, "400": err}}},
        "/api/links/pages/{wiki}/{title}": {"get": {"summary": "A page's link history", "parameters": with(json!([path_param("wiki"), path_param("title"), q("limit", ""), q("cursor", ""), q("format", "")])), "responses": {"200": {"description": "Events"}, "400": err}}},
        "/api/links/top": {"get": {"summary": "Ranked lists", "parameters": with(json!([q("by", "domain, user, wiki or page"), q("window", "24h, 7d (default), 30d, all"), q("limit", "1–1000")])), "responses": {"200": {"description": "Rows"}, "400": err}}},
        "/api/links/collections": {"get": {"summary": "Collections (from the configuration and the admin API)", "responses": {"200": {"description": "Collections"}}}},
        "/api/links/collections/{name}": {"get": {"summary": "A collection's dashboard", "parameters": with(json!([path_param("name"), q("only_listed_users", "true: only the collection's users"), q("bucket", ""), q("format", ""), q("table", "")])), "responses": {"200": {"description": "Report"}, "404": {"description": "No such collection"}}}},
        "/api/links/collection-groups/{group}": {"get": {"summary": "Dashboard of all collections in a group", "parameters": with(json!([path_param("group"), q("only_listed_users", ""), q("bucket", ""), q("format", ""), q("table", "")])), "responses": {"200": {"description": "Report"}}}},
        "/api/admin/links/collections/{name}": {
            "put": {"summary": "Create or replace a collection (Authorization: Bearer TOKEN)", "parameters": [path_param("name")],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}},
                "responses": {"200": {"description": "Stored"}, "401": {"description": "No token"}, "403": {"description": "Wrong token"}, "404": {"description": "Admin API disabled"}}},
            "delete": {"summary": "Delete a collection", "parameters": [path_param("name")], "responses": {"200": {"description": "Deleted"}, "403": {"description": "Wrong token"}}}
        },
        "/v2/stream/links": {"get": {"summary": "EventStreams-compatible SSE feed of link events; resume with Last-Event-ID from the store", "parameters": with(json!([q("granularity", "link (default) or edit"), q("since", "ISO-8601 time to start from")])), "responses": {"200": {"description": "text/event-stream"}}}},
        "/v2/stream/new-urls": {"get": {"summary": "Each target URL the first time it is added anywhere (wrappers unwrapped)", "parameters": with(json!([q("granularity", "link (default) or edit"), q("since", "")])), "responses": {"200": {"description": "text/event-stream"}}}}
    })
}

/// Schemas the link paths refer to.
pub fn links_schemas() -> serde_json::Value {
    json!({
        "Error": {"type": "object", "properties": {"error": {"type": "string"}, "parameter": {"type": "string"}}, "required": ["error"]},
        "Collection": {"type": "object", "properties": {
            "patterns": {"type": "array", "items": {"type": "string"}},
            "users": {"type": "array", "items": {"type": "string"}},
            "group": {"type": "string"}, "description": {"type": "string"}}, "required": ["patterns"]}
    })
}
