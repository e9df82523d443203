-- The stream position, written in the same transaction as the rows derived
-- from the events up to it.
CREATE TABLE ingest_position (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- Row counts kept in step with every batch, so status never scans a table.
CREATE TABLE row_counts (
    table_name TEXT PRIMARY KEY,
    rows INTEGER NOT NULL
);
INSERT INTO row_counts (table_name, rows) VALUES
    ('hashtag_edits', 0), ('hashtag_uses', 0), ('hashtag_tags', 0),
    ('link_events', 0), ('page_links', 0), ('page_events', 0);

-- One row per recentchange event that carries at least one hashtag.
CREATE TABLE hashtag_edits (
    id INTEGER PRIMARY KEY,
    meta_id TEXT NOT NULL UNIQUE,
    wiki TEXT NOT NULL,
    domain TEXT NOT NULL,
    rc_id INTEGER,
    rev_old INTEGER,
    rev_new INTEGER,
    title TEXT NOT NULL,
    namespace INTEGER NOT NULL,
    change_type TEXT NOT NULL,
    user_name TEXT,
    editor_kind TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    summary TEXT NOT NULL,
    len_old INTEGER,
    len_new INTEGER,
    minor INTEGER NOT NULL,
    is_new INTEGER NOT NULL,
    bot INTEGER NOT NULL,
    -- Media flags: NULL until checked.
    has_image INTEGER,
    has_video INTEGER,
    has_audio INTEGER
);
-- rc ids are unique only per wiki; NULL rc ids never collide.
CREATE UNIQUE INDEX hashtag_edits_wiki_rc ON hashtag_edits (wiki, rc_id);
CREATE INDEX hashtag_edits_time ON hashtag_edits (time_ms);

-- One row per (edit, tag), with the columns most queries filter on copied
-- from the edit so they are answered from this table's indexes.
CREATE TABLE hashtag_uses (
    edit_id INTEGER NOT NULL,
    tag_key TEXT NOT NULL,
    tag TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    wiki TEXT NOT NULL,
    user_name TEXT,
    PRIMARY KEY (edit_id, tag_key)
) WITHOUT ROWID;
CREATE INDEX hashtag_uses_tag_time ON hashtag_uses (tag_key, time_ms, edit_id);

-- The tag vocabulary.
CREATE TABLE hashtag_tags (
    tag_key TEXT PRIMARY KEY,
    tag TEXT NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    uses INTEGER NOT NULL
) WITHOUT ROWID;

-- Every external link added or removed on every wiki, including by page
-- deletion and restoration.
CREATE TABLE link_events (
    id INTEGER PRIMARY KEY,
    meta_id TEXT NOT NULL,
    action TEXT NOT NULL,
    raw TEXT NOT NULL,
    wiki TEXT NOT NULL,
    wiki_domain TEXT NOT NULL,
    page_id INTEGER NOT NULL,
    page_title TEXT NOT NULL,
    page_namespace INTEGER NOT NULL,
    rev_id INTEGER,
    rc_id INTEGER,
    provenance TEXT,
    performer TEXT,
    performer_id INTEGER,
    performer_bot INTEGER,
    performer_groups TEXT,
    performer_registration_ms INTEGER,
    performer_edit_count INTEGER,
    time_ms INTEGER NOT NULL,
    url TEXT NOT NULL,
    scheme TEXT,
    host TEXT,
    domain TEXT,
    rhost TEXT,
    wrapper_kind TEXT,
    wrapper_host TEXT,
    error TEXT
);
-- One row per page-links-change event stored: the gate that makes replaying
-- an event's links a no-op, cheaper than a unique index over every link.
CREATE TABLE link_change_events (
    meta_id TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE INDEX link_events_time ON link_events (time_ms);
CREATE INDEX link_events_domain_time ON link_events (domain, time_ms);
CREATE INDEX link_events_rhost ON link_events (rhost, time_ms);
CREATE INDEX link_events_page ON link_events (wiki, page_id, time_ms);
CREATE INDEX link_events_performer ON link_events (performer, time_ms);

-- The links known present on each page, from the events seen; deleted pages
-- keep theirs (deleted = 1) so a restoration can bring them back.
CREATE TABLE page_links (
    wiki TEXT NOT NULL,
    page_id INTEGER NOT NULL,
    raw TEXT NOT NULL,
    page_title TEXT NOT NULL,
    page_namespace INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    last_event_id INTEGER NOT NULL,
    PRIMARY KEY (wiki, page_id, raw)
) WITHOUT ROWID;
CREATE INDEX page_links_title ON page_links (wiki, page_title, deleted);

-- Page deletions and restorations seen.
CREATE TABLE page_events (
    meta_id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    wiki TEXT NOT NULL,
    page_id INTEGER NOT NULL,
    page_title TEXT NOT NULL,
    page_namespace INTEGER NOT NULL,
    performer TEXT,
    time_ms INTEGER NOT NULL,
    links INTEGER NOT NULL
) WITHOUT ROWID;
