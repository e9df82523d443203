-- Hashtag queries: per-tag aggregates kept exact by triggers on
-- every new use row. A use row is unique per (edit, tag), so each counts
-- edits, never tag rows twice. They answer the queries that filter on one
-- tag only (a tag's page, a campaign's totals and leaderboards) without
-- reading the tag's edits; any other filter reads the edits themselves.

-- Distinct edits per tag per hour: time series and trending.
CREATE TABLE hashtag_tag_hours (
    tag_key TEXT NOT NULL,
    hour INTEGER NOT NULL,
    edits INTEGER NOT NULL,
    PRIMARY KEY (tag_key, hour)
) WITHOUT ROWID;
CREATE INDEX hashtag_tag_hours_hour ON hashtag_tag_hours (hour);

-- Per tag: edits by user, by wiki and by page (leaderboards, distinct counts).
CREATE TABLE hashtag_tag_users (
    tag_key TEXT NOT NULL,
    user_name TEXT NOT NULL,
    edits INTEGER NOT NULL,
    PRIMARY KEY (tag_key, user_name)
) WITHOUT ROWID;
CREATE INDEX hashtag_tag_users_rank ON hashtag_tag_users (tag_key, edits);
CREATE TABLE hashtag_tag_wikis (
    tag_key TEXT NOT NULL,
    domain TEXT NOT NULL,
    edits INTEGER NOT NULL,
    PRIMARY KEY (tag_key, domain)
) WITHOUT ROWID;
CREATE TABLE hashtag_tag_pages (
    tag_key TEXT NOT NULL,
    domain TEXT NOT NULL,
    title TEXT NOT NULL,
    edits INTEGER NOT NULL,
    PRIMARY KEY (tag_key, domain, title)
) WITHOUT ROWID;
CREATE INDEX hashtag_tag_pages_rank ON hashtag_tag_pages (tag_key, edits);

-- Per tag totals: what /stats answers for a tag alone.
CREATE TABLE hashtag_tag_totals (
    tag_key TEXT PRIMARY KEY,
    edits INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    users INTEGER NOT NULL,
    wikis INTEGER NOT NULL,
    bytes_added INTEGER NOT NULL,
    bytes_removed INTEGER NOT NULL,
    pages_created INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER hashtag_uses_aggregates AFTER INSERT ON hashtag_uses BEGIN
    INSERT INTO hashtag_tag_hours (tag_key, hour, edits) VALUES (NEW.tag_key, NEW.time_ms / 3600000, 1)
    ON CONFLICT (tag_key, hour) DO UPDATE SET edits = edits + 1;

    INSERT INTO hashtag_tag_totals (tag_key, edits, pages, users, wikis, bytes_added, bytes_removed, pages_created)
    SELECT NEW.tag_key, 1, 0, 0, 0,
        CASE WHEN e.len_new - e.len_old > 0 THEN e.len_new - e.len_old
             WHEN e.len_old IS NULL AND e.change_type = 'new' THEN COALESCE(e.len_new, 0) ELSE 0 END,
        CASE WHEN e.len_new - e.len_old < 0 THEN e.len_old - e.len_new ELSE 0 END,
        CASE WHEN e.change_type = 'new' THEN 1 ELSE 0 END
    FROM hashtag_edits e WHERE e.id = NEW.edit_id
    ON CONFLICT (tag_key) DO UPDATE SET edits = edits + 1,
        bytes_added = bytes_added + excluded.bytes_added,
        bytes_removed = bytes_removed + excluded.bytes_removed,
        pages_created = pages_created + excluded.pages_created;

    INSERT INTO hashtag_tag_users (tag_key, user_name, edits)
    SELECT NEW.tag_key, NEW.user_name, 1 WHERE NEW.user_name IS NOT NULL
    ON CONFLICT (tag_key, user_name) DO UPDATE SET edits = edits + 1;
    UPDATE hashtag_tag_totals SET users = users + 1
    WHERE tag_key = NEW.tag_key AND NEW.user_name IS NOT NULL
      AND (SELECT edits FROM hashtag_tag_users WHERE tag_key = NEW.tag_key AND user_name = NEW.user_name) = 1;

    INSERT INTO hashtag_tag_wikis (tag_key, domain, edits)
    SELECT NEW.tag_key, e.domain, 1 FROM hashtag_edits e WHERE e.id = NEW.edit_id
    ON CONFLICT (tag_key, domain) DO UPDATE SET edits = edits + 1;
    UPDATE hashtag_tag_totals SET wikis = wikis + 1
    WHERE tag_key = NEW.tag_key
      AND (SELECT w.edits FROM hashtag_tag_wikis w JOIN hashtag_edits e ON e.domain = w.domain
           WHERE w.tag_key = NEW.tag_key AND e.id = NEW.edit_id) = 1;

    INSERT INTO hashtag_tag_pages (tag_key, domain, title, edits)
    SELECT NEW.tag_key, e.domain, e.title, 1 FROM hashtag_edits e WHERE e.id = NEW.edit_id
    ON CONFLICT (tag_key, domain, title) DO UPDATE SET edits = edits + 1;
    UPDATE hashtag_tag_totals SET pages = pages + 1
    WHERE tag_key = NEW.tag_key
      AND (SELECT p.edits FROM hashtag_tag_pages p JOIN hashtag_edits e ON e.domain = p.domain AND e.title = p.title
           WHERE p.tag_key = NEW.tag_key AND e.id = NEW.edit_id) = 1;
END;

-- Backfill from the uses already stored.
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
                 WHEN e.len_old IS NULL AND e.change_type = 'new' THEN COALESCE(e.len_new, 0) ELSE 0 END), 0),
        COALESCE(SUM(CASE WHEN e.len_new - e.len_old < 0 THEN e.len_old - e.len_new ELSE 0 END), 0),
        COALESCE(SUM(CASE WHEN e.change_type = 'new' THEN 1 ELSE 0 END), 0)
    FROM hashtag_uses u JOIN hashtag_edits e ON e.id = u.edit_id GROUP BY u.tag_key;

-- Browsing the vocabulary by popularity and by recency.
CREATE INDEX hashtag_tags_uses ON hashtag_tags (uses);
CREATE INDEX hashtag_tags_last ON hashtag_tags (last_ms);

-- Media flags: checks tried so far, and the queue of edits still unknown.
ALTER TABLE hashtag_edits ADD COLUMN media_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX hashtag_edits_media_pending ON hashtag_edits (id) WHERE has_image IS NULL;
