-- Report speed: the "present now" count of a report starts from the
-- link events its filter matches (through their own indexes) and finds the
-- page_links rows whose latest event each one is, instead of reading every
-- page_links row.
CREATE INDEX IF NOT EXISTS page_links_last_event ON page_links (last_event_id);
