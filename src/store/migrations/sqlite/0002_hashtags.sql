-- Hashtag queries (issue 3).

-- Distinct edits per tag per hour, kept exact by a trigger on every new use.
-- A use row is unique per (edit, tag), so this counts edits, never tag rows
-- twice; per-tag time series and trending read it instead of the uses.
CREATE TABLE hashtag_tag_hours (
    tag_key TEXT NOT NULL,
    hour INTEGER NOT NULL,
    edits INTEGER NOT NULL,
    PRIMARY KEY (tag_key, hour)
) WITHOUT ROWID;
CREATE INDEX hashtag_tag_hours_hour ON hashtag_tag_hours (hour);

INSERT INTO hashtag_tag_hours (tag_key, hour, edits)
    SELECT tag_key, time_ms / 3600000, COUNT(*) FROM hashtag_uses GROUP BY tag_key, time_ms / 3600000;

CREATE TRIGGER hashtag_uses_hourly AFTER INSERT ON hashtag_uses BEGIN
    INSERT INTO hashtag_tag_hours (tag_key, hour, edits) VALUES (NEW.tag_key, NEW.time_ms / 3600000, 1)
    ON CONFLICT (tag_key, hour) DO UPDATE SET edits = edits + 1;
END;

-- Browsing the vocabulary by popularity and by recency.
CREATE INDEX hashtag_tags_uses ON hashtag_tags (uses);
CREATE INDEX hashtag_tags_last ON hashtag_tags (last_ms);
