-- Per-domain rollups of the link log, kept by triggers so every insert path
-- (link changes, page deletions and restorations, replays) updates them in
-- the same transaction as the event. A domain report whose filter the
-- rollups can answer (one registrable domain; any provenances and wrapper
-- choice; no other filter) reads these instead of every event of the
-- domain; any other filter still scans the log, so no filter is lost.
-- Cells: provenance ('' when unknown) × wrapped (through a proxy or archive).

-- Per day: counts by action, the spam-signal counts of additions (action
-- 'added'), and the first and last event time.
CREATE TABLE link_domain_days (
    domain TEXT NOT NULL,
    day INTEGER NOT NULL,
    provenance TEXT NOT NULL,
    wrapped INTEGER NOT NULL,
    added INTEGER NOT NULL DEFAULT 0,
    restored INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    ip_or_temp INTEGER NOT NULL DEFAULT 0,
    new_account INTEGER NOT NULL DEFAULT 0,
    later_removed INTEGER NOT NULL DEFAULT 0,
    first_ms INTEGER,
    last_ms INTEGER,
    PRIMARY KEY (domain, day, provenance, wrapped)
) WITHOUT ROWID;

-- Per user (dim 'u'), wiki ('w') and page ('p', title with its wiki): added
-- (added + page_restored) `a`, removed (removed + page_deleted) `r` and
-- signal additions (action 'added') `s`, unwrapped (0) and wrapped (1).
-- Provenance '*' holds the sum over all provenances, so the two common
-- reports (edits only, everything) rank by walking one index.
CREATE TABLE link_domain_keys (
    domain TEXT NOT NULL,
    dim TEXT NOT NULL,
    key TEXT NOT NULL,
    wiki TEXT NOT NULL,
    provenance TEXT NOT NULL,
    a0 INTEGER NOT NULL DEFAULT 0,
    a1 INTEGER NOT NULL DEFAULT 0,
    r0 INTEGER NOT NULL DEFAULT 0,
    r1 INTEGER NOT NULL DEFAULT 0,
    s0 INTEGER NOT NULL DEFAULT 0,
    s1 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (domain, dim, key, wiki, provenance)
) WITHOUT ROWID;
-- The report's order (added, net, key, wiki) for wrapped and unwrapped
-- links together. The key's first 200 characters, then the key, order as
-- the key does; PostgreSQL needs the prefix to keep index rows small, and
-- both backends share the queries.
CREATE INDEX link_domain_keys_rank ON link_domain_keys
    (domain, dim, provenance, (a0 + a1) DESC, (a0 + a1 - r0 - r1) DESC, substr(key, 1, 200), wiki);
-- The spam signals' top adder and count of adders.
CREATE INDEX link_domain_keys_adders ON link_domain_keys
    (domain, provenance, (s0 + s1) DESC, substr(key, 1, 200)) WHERE dim = 'u';

-- Links present now on live pages, per domain and wrapped.
CREATE TABLE link_domain_present (
    domain TEXT NOT NULL,
    wrapped INTEGER NOT NULL,
    present INTEGER NOT NULL,
    PRIMARY KEY (domain, wrapped)
) WITHOUT ROWID;

-- A removal finds the additions of the same link on the same page since
-- the previous removal ("later removed") through these.
CREATE INDEX link_events_link_added ON link_events (wiki, page_id, raw, id) WHERE action = 'added';
CREATE INDEX link_events_link_removed ON link_events (wiki, page_id, raw, id) WHERE action = 'removed';

CREATE TRIGGER link_rollup_event AFTER INSERT ON link_events WHEN NEW.domain IS NOT NULL
BEGIN
    INSERT INTO link_domain_days (domain, day, provenance, wrapped, added, restored, removed,
        deleted, ip_or_temp, new_account, first_ms, last_ms)
    VALUES (NEW.domain, NEW.time_ms / 86400000, COALESCE(NEW.provenance, ''),
        NEW.wrapper_kind IS NOT NULL,
        NEW.action = 'added', NEW.action = 'page_restored', NEW.action = 'removed',
        NEW.action = 'page_deleted',
        CASE WHEN NEW.action = 'added' AND NEW.editor_kind IN ('ip', 'temp') THEN 1 ELSE 0 END,
        CASE WHEN NEW.action = 'added' AND (
                (NEW.performer_registration_ms IS NOT NULL
                 AND NEW.time_ms - NEW.performer_registration_ms < 604800000)
                OR NEW.performer_edit_count < 10) THEN 1 ELSE 0 END,
        NEW.time_ms, NEW.time_ms)
    ON CONFLICT (domain, day, provenance, wrapped) DO UPDATE SET
        added = added + excluded.added,
        restored = restored + excluded.restored,
        removed = removed + excluded.removed,
        deleted = deleted + excluded.deleted,
        ip_or_temp = ip_or_temp + excluded.ip_or_temp,
        new_account = new_account + excluded.new_account,
        first_ms = MIN(COALESCE(first_ms, excluded.first_ms), excluded.first_ms),
        last_ms = MAX(COALESCE(last_ms, excluded.last_ms), excluded.last_ms);

    INSERT INTO link_domain_keys (domain, dim, key, wiki, provenance, a0, a1, r0, r1, s0, s1)
    SELECT NEW.domain, k.dim, k.key, k.wiki, p.provenance,
        w.plain * a.a, w.wrapped * a.a, w.plain * a.r, w.wrapped * a.r,
        w.plain * a.s, w.wrapped * a.s
    FROM (SELECT 'u' AS dim, NEW.performer AS key, '' AS wiki
          UNION ALL SELECT 'w', NEW.wiki, ''
          UNION ALL SELECT 'p', NEW.page_title, NEW.wiki) AS k,
         (SELECT COALESCE(NEW.provenance, '') AS provenance UNION ALL SELECT '*') AS p,
         (SELECT NEW.wrapper_kind IS NULL AS plain, NEW.wrapper_kind IS NOT NULL AS wrapped) AS w,
         (SELECT NEW.action IN ('added', 'page_restored') AS a,
                 NEW.action IN ('removed', 'page_deleted') AS r,
                 NEW.action = 'added' AS s) AS a
    WHERE k.key IS NOT NULL
    ON CONFLICT (domain, dim, key, wiki, provenance) DO UPDATE SET
        a0 = a0 + excluded.a0, a1 = a1 + excluded.a1,
        r0 = r0 + excluded.r0, r1 = r1 + excluded.r1,
        s0 = s0 + excluded.s0, s1 = s1 + excluded.s1;
END;

CREATE TRIGGER link_rollup_removal AFTER INSERT ON link_events
WHEN NEW.domain IS NOT NULL AND NEW.action = 'removed'
BEGIN
    INSERT INTO link_domain_days (domain, day, provenance, wrapped, later_removed)
    SELECT a.domain, a.time_ms / 86400000, COALESCE(a.provenance, ''),
        a.wrapper_kind IS NOT NULL, COUNT(*)
    FROM link_events a
    WHERE a.wiki = NEW.wiki AND a.page_id = NEW.page_id AND a.raw = NEW.raw
      AND a.action = 'added' AND a.id < NEW.id AND a.domain IS NOT NULL
      AND a.id > COALESCE((SELECT MAX(r.id) FROM link_events r
                           WHERE r.wiki = NEW.wiki AND r.page_id = NEW.page_id
                             AND r.raw = NEW.raw AND r.action = 'removed'
                             AND r.id < NEW.id), 0)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (domain, day, provenance, wrapped) DO UPDATE SET
        later_removed = later_removed + excluded.later_removed;
END;

-- Present links: follow page_links, whose last event gives the link's domain.
CREATE TRIGGER link_present_insert AFTER INSERT ON page_links WHEN NEW.deleted = 0
BEGIN
    INSERT INTO link_domain_present (domain, wrapped, present)
    SELECT le.domain, le.wrapper_kind IS NOT NULL, 1 FROM link_events le
    WHERE le.id = NEW.last_event_id AND le.domain IS NOT NULL
    ON CONFLICT (domain, wrapped) DO UPDATE SET present = present + 1;
END;

CREATE TRIGGER link_present_delete AFTER DELETE ON page_links WHEN OLD.deleted = 0
BEGIN
    UPDATE link_domain_present SET present = present - 1
    WHERE (domain, wrapped) = (SELECT le.domain, le.wrapper_kind IS NOT NULL
                               FROM link_events le WHERE le.id = OLD.last_event_id);
END;

CREATE TRIGGER link_present_update AFTER UPDATE OF deleted, last_event_id ON page_links
BEGIN
    UPDATE link_domain_present SET present = present - 1
    WHERE OLD.deleted = 0
      AND (domain, wrapped) = (SELECT le.domain, le.wrapper_kind IS NOT NULL
                               FROM link_events le WHERE le.id = OLD.last_event_id);
    INSERT INTO link_domain_present (domain, wrapped, present)
    SELECT le.domain, le.wrapper_kind IS NOT NULL, 1 FROM link_events le
    WHERE NEW.deleted = 0 AND le.id = NEW.last_event_id AND le.domain IS NOT NULL
    ON CONFLICT (domain, wrapped) DO UPDATE SET present = present + 1;
END;

-- Backfill from the log already stored.
INSERT INTO link_domain_days (domain, day, provenance, wrapped, added, restored, removed,
    deleted, ip_or_temp, new_account, first_ms, last_ms)
SELECT domain, time_ms / 86400000, COALESCE(provenance, ''), wrapper_kind IS NOT NULL,
    SUM(action = 'added'), SUM(action = 'page_restored'), SUM(action = 'removed'),
    SUM(action = 'page_deleted'),
    SUM(CASE WHEN action = 'added' AND editor_kind IN ('ip', 'temp') THEN 1 ELSE 0 END),
    SUM(CASE WHEN action = 'added' AND (
            (performer_registration_ms IS NOT NULL
             AND time_ms - performer_registration_ms < 604800000)
            OR performer_edit_count < 10) THEN 1 ELSE 0 END),
    MIN(time_ms), MAX(time_ms)
FROM link_events WHERE domain IS NOT NULL
GROUP BY 1, 2, 3, 4;

INSERT INTO link_domain_days (domain, day, provenance, wrapped, later_removed)
SELECT a.domain, a.time_ms / 86400000, COALESCE(a.provenance, ''), a.wrapper_kind IS NOT NULL,
    COUNT(*)
FROM link_events a
WHERE a.action = 'added' AND a.domain IS NOT NULL
  AND EXISTS (SELECT 1 FROM link_events r
              WHERE r.wiki = a.wiki AND r.page_id = a.page_id AND r.raw = a.raw
                AND r.action = 'removed' AND r.id > a.id)
GROUP BY 1, 2, 3, 4
ON CONFLICT (domain, day, provenance, wrapped) DO UPDATE SET
    later_removed = excluded.later_removed;

INSERT INTO link_domain_keys (domain, dim, key, wiki, provenance, a0, a1, r0, r1, s0, s1)
SELECT domain, dim, key, wiki, provenance,
    SUM(CASE WHEN wrapped = 0 THEN a ELSE 0 END), SUM(CASE WHEN wrapped = 1 THEN a ELSE 0 END),
    SUM(CASE WHEN wrapped = 0 THEN r ELSE 0 END), SUM(CASE WHEN wrapped = 1 THEN r ELSE 0 END),
    SUM(CASE WHEN wrapped = 0 THEN s ELSE 0 END), SUM(CASE WHEN wrapped = 1 THEN s ELSE 0 END)
FROM (
    SELECT domain, 'u' AS dim, performer AS key, '' AS wiki, COALESCE(provenance, '') AS provenance,
        wrapper_kind IS NOT NULL AS wrapped, action IN ('added', 'page_restored') AS a,
        action IN ('removed', 'page_deleted') AS r, action = 'added' AS s
    FROM link_events WHERE domain IS NOT NULL AND performer IS NOT NULL
    UNION ALL
    SELECT domain, 'w', wiki, '', COALESCE(provenance, ''), wrapper_kind IS NOT NULL,
        action IN ('added', 'page_restored'), action IN ('removed', 'page_deleted'), action = 'added'
    FROM link_events WHERE domain IS NOT NULL
    UNION ALL
    SELECT domain, 'p', page_title, wiki, COALESCE(provenance, ''), wrapper_kind IS NOT NULL,
        action IN ('added', 'page_restored'), action IN ('removed', 'page_deleted'), action = 'added'
    FROM link_events WHERE domain IS NOT NULL
)
GROUP BY domain, dim, key, wiki, provenance;

-- The all-provenances rows from the per-provenance ones.
INSERT INTO link_domain_keys (domain, dim, key, wiki, provenance, a0, a1, r0, r1, s0, s1)
SELECT domain, dim, key, wiki, '*', SUM(a0), SUM(a1), SUM(r0), SUM(r1), SUM(s0), SUM(s1)
FROM link_domain_keys
GROUP BY domain, dim, key, wiki;

INSERT INTO link_domain_present (domain, wrapped, present)
SELECT le.domain, le.wrapper_kind IS NOT NULL, COUNT(*)
FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id
WHERE pl.deleted = 0 AND le.domain IS NOT NULL
GROUP BY 1, 2;
