-- Hashtag queries: the PostgreSQL twin of
-- migrations/sqlite/0002_hashtags.sql. Per-tag aggregates answer the queries
-- that filter on one tag only (a tag's page, a campaign's totals and
-- leaderboards) without reading the tag's edits. SQLite keeps them exact with
-- a per-row trigger; here the batch writer (postgres.rs) maintains them
-- set-wise, one upsert per table per batch, in the batch's transaction, from
-- exactly the use rows the batch inserted. A use row is unique per (edit,
-- tag), so each counts edits, never tag rows twice.
--
-- Text keys are COLLATE "C" so orderings and prefix ranges are byte order,
-- as in SQLite, whatever the database's default collation.

-- Distinct edits per tag per hour: time series and trending.
CREATE TABLE hashtag_tag_hours (
    tag_key TEXT COLLATE "C" NOT NULL,
    hour BIGINT NOT NULL,
    edits BIGINT NOT NULL,
    PRIMARY KEY (tag_key, hour)
);
CREATE INDEX hashtag_tag_hours_hour ON hashtag_tag_hours (hour);

-- Per tag: edits by user, by wiki and by page (leaderboards, distinct counts).
CREATE TABLE hashtag_tag_users (
    tag_key TEXT COLLATE "C" NOT NULL,
    user_name TEXT COLLATE "C" NOT NULL,
    edits BIGINT NOT NULL,
    PRIMARY KEY (tag_key, user_name)
);
CREATE INDEX hashtag_tag_users_rank ON hashtag_tag_users (tag_key, edits);
CREATE TABLE hashtag_tag_wikis (
    tag_key TEXT COLLATE "C" NOT NULL,
    domain TEXT COLLATE "C" NOT NULL,
    edits BIGINT NOT NULL,
    PRIMARY KEY (tag_key, domain)
);
CREATE TABLE hashtag_tag_pages (
    tag_key TEXT COLLATE "C" NOT NULL,
    domain TEXT COLLATE "C" NOT NULL,
    title TEXT COLLATE "C" NOT NULL,
    edits BIGINT NOT NULL,
    PRIMARY KEY (tag_key, domain, title)
);
CREATE INDEX hashtag_tag_pages_rank ON hashtag_tag_pages (tag_key, edits);

-- Per tag totals: what /stats answers for a tag alone.
CREATE TABLE hashtag_tag_totals (
    tag_key TEXT COLLATE "C" PRIMARY KEY,
    edits BIGINT NOT NULL,
    pages BIGINT NOT NULL,
    users BIGINT NOT NULL,
    wikis BIGINT NOT NULL,
    bytes_added BIGINT NOT NULL,
    bytes_removed BIGINT NOT NULL,
    pages_created BIGINT NOT NULL
);

-- Backfill from the uses already stored (a database created before this
-- migration existed, already at version 3).
INSERT INTO hashtag_tag_hours (tag_key, hour, edits)
    SELECT tag_key, time_ms / 3600000, COUNT(*) FROM hashtag_uses GROUP BY tag_key, time_ms / 3600000;
INSERT INTO hashtag_tag_users (tag_key, user_name, edits)
    SELECT tag_key, user_name, COUNT(*) FROM hashtag_uses WHERE user_name IS NOT NULL GROUP BY tag_key, user_name;
INSERT INTO hashtag_tag_wikis (tag_key, domain, edits)
    SELECT u.tag_key, e.domain, COUNT(*) FROM hashtag_uses u JOIN hashtag_edits e ON e.id = u.edit_id
    GROUP BY u.tag_key, e.domain;
INSERT INTO hashtag_tag_pages (tag_key, domain, title, edits)
    SELECT u.tag_key, e.domain, e.title, COUNT(*) FROM hashtag_uses u JOIN hashtag_edits e ON e.id = u.edit_id
    GROUP BY u.tag_key, e.domain, e.title;
INSERT INTO hashtag_tag_totals (tag_key, edits, pages, users, wikis, bytes_added, bytes_removed, pages_created)
    SELECT u.tag_key, COUNT(*),
        (SELECT COUNT(*) FROM hashtag_tag_pages p WHERE p.tag_key = u.tag_key),
        (SELECT COUNT(*) FROM hashtag_tag_users x WHERE x.tag_key = u.tag_key),
        (SELECT COUNT(*) FROM hashtag_tag_wikis w WHERE w.tag_key = u.tag_key),
        COALESCE(SUM(CASE WHEN e.len_new - e.len_old > 0 THEN e.len_new - e.len_old
                 WHEN e.len_old IS NULL AND e.change_type = 'new' THEN COALESCE(e.len_new, 0) ELSE 0 END), 0)::bigint,
        COALESCE(SUM(CASE WHEN e.len_new - e.len_old < 0 THEN e.len_old - e.len_new ELSE 0 END), 0)::bigint,
        COALESCE(SUM(CASE WHEN e.change_type = 'new' THEN 1 ELSE 0 END), 0)::bigint
    FROM hashtag_uses u JOIN hashtag_edits e ON e.id = u.edit_id GROUP BY u.tag_key;

-- The vocabulary in byte order (prefix ranges and ORDER BY tag_key walk the
-- primary key), and browsing it by popularity and by recency.
ALTER TABLE hashtag_tags ALTER COLUMN tag_key TYPE TEXT COLLATE "C";
CREATE INDEX hashtag_tags_uses ON hashtag_tags (uses);
CREATE INDEX hashtag_tags_last ON hashtag_tags (last_ms);

-- Media flags: checks tried so far, and the queue of edits still unknown.
ALTER TABLE hashtag_edits ADD COLUMN media_attempts BIGINT NOT NULL DEFAULT 0;
CREATE INDEX hashtag_edits_media_pending ON hashtag_edits (id) WHERE has_image IS NULL;
