-- A tag narrowed to a wiki (by database name) reads only that wiki's use
-- rows, newest first, instead of every use of the tag; counts by day answer
-- from the index alone.
CREATE INDEX IF NOT EXISTS hashtag_uses_tag_wiki_time ON hashtag_uses (tag_key, wiki, time_ms, edit_id);
ANALYZE hashtag_uses;
