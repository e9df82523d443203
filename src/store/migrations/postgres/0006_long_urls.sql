-- URLs are user input of any length, and a PostgreSQL b-tree entry holds at
-- most about 2.7 kB: one long link would fail its whole batch, and ingest
-- would retry that batch for ever. Index long text by its md5 instead; the
-- queries compare the text itself as well, so a collision changes nothing.
ALTER TABLE page_links DROP CONSTRAINT page_links_pkey;
CREATE UNIQUE INDEX page_links_key ON page_links (wiki, page_id, md5(raw));
DROP INDEX IF EXISTS link_events_target;
CREATE INDEX link_events_target_key ON link_events (md5(COALESCE(target, url)), id);
-- The "later removed" spam signal asks, for each addition in a report, whether
-- the same link was removed from the same page afterwards: one probe here
-- (removals only) instead of a walk over every event of the page.
CREATE INDEX link_events_page_removed ON link_events (wiki, page_id, md5(raw), id)
    WHERE action = 'removed';
