-- The external-link log: what the queries and feeds need beyond
-- 0001 (the PostgreSQL twin of migrations/sqlite/0003_links.sql).

-- ip / temp / named, from the performer's name at ingest (NULL without a performer).
ALTER TABLE link_events ADD COLUMN editor_kind TEXT;
-- The archived or proxied URL of a wrapped link, else the decoded URL; what
-- the new-URL feed de-duplicates on.
ALTER TABLE link_events ADD COLUMN target TEXT COLLATE "C";
CREATE INDEX link_events_target ON link_events (target, id);
CREATE INDEX link_events_page_title ON link_events (wiki, page_title, time_ms);

-- Collections defined through the admin API. Patterns and users are JSON
-- arrays of strings.
CREATE TABLE link_collections (
    name TEXT PRIMARY KEY,
    grp TEXT,
    description TEXT NOT NULL,
    patterns TEXT NOT NULL,
    users TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
