-- Per-domain rollups of the link log, kept by triggers in the same
-- transaction as each event: the PostgreSQL twin of
-- migrations/sqlite/0008_link_rollups.sql (see there and src/links/rollup.rs).
-- Keys sort in "C" order, like the report scan's ranking.

CREATE TABLE link_domain_days (
    domain TEXT COLLATE "C" NOT NULL,
    day BIGINT NOT NULL,
    provenance TEXT NOT NULL,
    wrapped SMALLINT NOT NULL,
    added BIGINT NOT NULL DEFAULT 0,
    restored BIGINT NOT NULL DEFAULT 0,
    removed BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    ip_or_temp BIGINT NOT NULL DEFAULT 0,
    new_account BIGINT NOT NULL DEFAULT 0,
    later_removed BIGINT NOT NULL DEFAULT 0,
    first_ms BIGINT,
    last_ms BIGINT,
    PRIMARY KEY (domain, day, provenance, wrapped)
);

CREATE TABLE link_domain_keys (
    domain TEXT COLLATE "C" NOT NULL,
    dim TEXT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    wiki TEXT COLLATE "C" NOT NULL,
    provenance TEXT NOT NULL,
    a0 BIGINT NOT NULL DEFAULT 0,
    a1 BIGINT NOT NULL DEFAULT 0,
    r0 BIGINT NOT NULL DEFAULT 0,
    r1 BIGINT NOT NULL DEFAULT 0,
    s0 BIGINT NOT NULL DEFAULT 0,
    s1 BIGINT NOT NULL DEFAULT 0
);
-- Titles and user names can be long; the key's digest keeps the unique
-- index under PostgreSQL's B-tree row limit (as page_links does, migration 6).
CREATE UNIQUE INDEX link_domain_keys_pk ON link_domain_keys
    (domain, dim, md5(key), wiki, provenance);
CREATE INDEX link_domain_keys_rank ON link_domain_keys
    (domain, dim, provenance, (a0 + a1) DESC, (a0 + a1 - r0 - r1) DESC, substr(key, 1, 200), wiki);
CREATE INDEX link_domain_keys_adders ON link_domain_keys
    (domain, provenance, (s0 + s1) DESC, substr(key, 1, 200)) WHERE dim = 'u';

CREATE TABLE link_domain_present (
    domain TEXT COLLATE "C" NOT NULL,
    wrapped SMALLINT NOT NULL,
    present BIGINT NOT NULL,
    PRIMARY KEY (domain, wrapped)
);

CREATE INDEX link_events_link_added ON link_events (wiki, page_id, md5(raw), id) WHERE action = 'added';
CREATE INDEX link_events_link_removed ON link_events (wiki, page_id, md5(raw), id) WHERE action = 'removed';

-- Statement-level triggers over the transition tables: the batch writer
-- inserts a batch's events in one statement, so the rollups take one
-- grouped upsert per batch instead of several statements per row.
CREATE FUNCTION link_rollup_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_domain_days AS d (domain, day, provenance, wrapped, added, restored, removed,
        deleted, ip_or_temp, new_account, first_ms, last_ms)
    SELECT domain, time_ms / 86400000, COALESCE(provenance, ''), (wrapper_kind IS NOT NULL)::int,
        COUNT(*) FILTER (WHERE action = 'added'), COUNT(*) FILTER (WHERE action = 'page_restored'),
        COUNT(*) FILTER (WHERE action = 'removed'), COUNT(*) FILTER (WHERE action = 'page_deleted'),
        COUNT(*) FILTER (WHERE action = 'added' AND editor_kind IN ('ip', 'temp')),
        COUNT(*) FILTER (WHERE action = 'added' AND (
            (performer_registration_ms IS NOT NULL
             AND time_ms - performer_registration_ms < 604800000)
            OR performer_edit_count < 10)),
        MIN(time_ms), MAX(time_ms)
    FROM inserted WHERE domain IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (domain, day, provenance, wrapped) DO UPDATE SET
        added = d.added + excluded.added,
        restored = d.restored + excluded.restored,
        removed = d.removed + excluded.removed,
        deleted = d.deleted + excluded.deleted,
        ip_or_temp = d.ip_or_temp + excluded.ip_or_temp,
        new_account = d.new_account + excluded.new_account,
        first_ms = LEAST(d.first_ms, excluded.first_ms),
        last_ms = GREATEST(d.last_ms, excluded.last_ms);

    INSERT INTO link_domain_keys AS k (domain, dim, key, wiki, provenance, a0, a1, r0, r1, s0, s1)
    SELECT e.domain, x.dim, x.key, x.wiki, p.provenance,
        COUNT(*) FILTER (WHERE e.wrapper_kind IS NULL AND e.action IN ('added', 'page_restored')),
        COUNT(*) FILTER (WHERE e.wrapper_kind IS NOT NULL AND e.action IN ('added', 'page_restored')),
        COUNT(*) FILTER (WHERE e.wrapper_kind IS NULL AND e.action IN ('removed', 'page_deleted')),
        COUNT(*) FILTER (WHERE e.wrapper_kind IS NOT NULL AND e.action IN ('removed', 'page_deleted')),
        COUNT(*) FILTER (WHERE e.wrapper_kind IS NULL AND e.action = 'added'),
        COUNT(*) FILTER (WHERE e.wrapper_kind IS NOT NULL AND e.action = 'added')
    FROM inserted e
    CROSS JOIN LATERAL (VALUES ('u', e.performer, ''), ('w', e.wiki, ''),
                               ('p', e.page_title, e.wiki)) AS x (dim, key, wiki)
    CROSS JOIN LATERAL (VALUES (COALESCE(e.provenance, '')), ('*')) AS p (provenance)
    WHERE e.domain IS NOT NULL AND x.key IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (domain, dim, md5(key), wiki, provenance) DO UPDATE SET
        a0 = k.a0 + excluded.a0, a1 = k.a1 + excluded.a1,
        r0 = k.r0 + excluded.r0, r1 = k.r1 + excluded.r1,
        s0 = k.s0 + excluded.s0, s1 = k.s1 + excluded.s1;

    -- Each removal takes the additions of its link on its page since the
    -- removal before it (which may be in the same batch), so each addition
    -- is counted by exactly one removal.
    INSERT INTO link_domain_days AS d (domain, day, provenance, wrapped, later_removed)
    SELECT a.domain, a.time_ms / 86400000, COALESCE(a.provenance, ''),
        (a.wrapper_kind IS NOT NULL)::int, COUNT(*)
    FROM inserted rm
    JOIN link_events a
      ON a.wiki = rm.wiki AND a.page_id = rm.page_id AND md5(a.raw) = md5(rm.raw)
     AND a.raw = rm.raw AND a.action = 'added' AND a.id < rm.id AND a.domain IS NOT NULL
     AND a.id > COALESCE((SELECT MAX(p.id) FROM link_events p
                          WHERE p.wiki = rm.wiki AND p.page_id = rm.page_id
                            AND md5(p.raw) = md5(rm.raw) AND p.raw = rm.raw
                            AND p.action = 'removed' AND p.id < rm.id), 0)
    WHERE rm.action = 'removed' AND rm.domain IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (domain, day, provenance, wrapped) DO UPDATE SET
        later_removed = d.later_removed + excluded.later_removed;
    RETURN NULL;
END;
$$;

CREATE TRIGGER link_rollup_events AFTER INSERT ON link_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION link_rollup_events();

-- Present links: +1 / -1 for the (domain, wrapped) of each page_links row's
-- last event, per statement.
CREATE FUNCTION link_present_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_domain_present AS p (domain, wrapped, present)
    SELECT le.domain, (le.wrapper_kind IS NOT NULL)::int, COUNT(*)
    FROM new_rows n JOIN link_events le ON le.id = n.last_event_id
    WHERE n.deleted = 0 AND le.domain IS NOT NULL
    GROUP BY 1, 2
    ON CONFLICT (domain, wrapped) DO UPDATE SET present = p.present + excluded.present;
    RETURN NULL;
END;
$$;

CREATE FUNCTION link_present_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_domain_present AS p (domain, wrapped, present)
    SELECT le.domain, (le.wrapper_kind IS NOT NULL)::int, -COUNT(*)
    FROM old_rows o JOIN link_events le ON le.id = o.last_event_id
    WHERE o.deleted = 0 AND le.domain IS NOT NULL
    GROUP BY 1, 2
    ON CONFLICT (domain, wrapped) DO UPDATE SET present = p.present + excluded.present;
    RETURN NULL;
END;
$$;

CREATE FUNCTION link_present_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_domain_present AS p (domain, wrapped, present)
    SELECT le.domain, (le.wrapper_kind IS NOT NULL)::int, SUM(x.delta)
    FROM (SELECT last_event_id, 1 AS delta FROM new_rows WHERE deleted = 0
          UNION ALL
          SELECT last_event_id, -1 FROM old_rows WHERE deleted = 0) AS x
    JOIN link_events le ON le.id = x.last_event_id
    WHERE le.domain IS NOT NULL
    GROUP BY 1, 2
    ON CONFLICT (domain, wrapped) DO UPDATE SET present = p.present + excluded.present;
    RETURN NULL;
END;
$$;

CREATE TRIGGER link_present_inserted AFTER INSERT ON page_links
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION link_present_inserted();
CREATE TRIGGER link_present_deleted AFTER DELETE ON page_links
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION link_present_deleted();
CREATE TRIGGER link_present_updated AFTER UPDATE ON page_links
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION link_present_updated();

-- Backfill from the log already stored.
INSERT INTO link_domain_days (domain, day, provenance, wrapped, added, restored, removed,
    deleted, ip_or_temp, new_account, first_ms, last_ms)
SELECT domain, time_ms / 86400000, COALESCE(provenance, ''), (wrapper_kind IS NOT NULL)::int,
    COUNT(*) FILTER (WHERE action = 'added'), COUNT(*) FILTER (WHERE action = 'page_restored'),
    COUNT(*) FILTER (WHERE action = 'removed'), COUNT(*) FILTER (WHERE action = 'page_deleted'),
    COUNT(*) FILTER (WHERE action = 'added' AND editor_kind IN ('ip', 'temp')),
    COUNT(*) FILTER (WHERE action = 'added' AND (
        (performer_registration_ms IS NOT NULL
         AND time_ms - performer_registration_ms < 604800000)
        OR performer_edit_count < 10)),
    MIN(time_ms), MAX(time_ms)
FROM link_events WHERE domain IS NOT NULL
GROUP BY 1, 2, 3, 4;

INSERT INTO link_domain_days AS d (domain, day, provenance, wrapped, later_removed)
SELECT a.domain, a.time_ms / 86400000, COALESCE(a.provenance, ''),
    (a.wrapper_kind IS NOT NULL)::int, COUNT(*)
FROM link_events a
WHERE a.action = 'added' AND a.domain IS NOT NULL
  AND EXISTS (SELECT 1 FROM link_events rm
              WHERE rm.wiki = a.wiki AND rm.page_id = a.page_id AND md5(rm.raw) = md5(a.raw)
                AND rm.raw = a.raw AND rm.action = 'removed' AND rm.id > a.id)
GROUP BY 1, 2, 3, 4
ON CONFLICT (domain, day, provenance, wrapped) DO UPDATE SET
    later_removed = excluded.later_removed;

INSERT INTO link_domain_keys (domain, dim, key, wiki, provenance, a0, a1, r0, r1, s0, s1)
SELECT e.domain, x.dim, x.key, x.wiki, p.provenance,
    COUNT(*) FILTER (WHERE e.wrapper_kind IS NULL AND e.action IN ('added', 'page_restored')),
    COUNT(*) FILTER (WHERE e.wrapper_kind IS NOT NULL AND e.action IN ('added', 'page_restored')),
    COUNT(*) FILTER (WHERE e.wrapper_kind IS NULL AND e.action IN ('removed', 'page_deleted')),
    COUNT(*) FILTER (WHERE e.wrapper_kind IS NOT NULL AND e.action IN ('removed', 'page_deleted')),
    COUNT(*) FILTER (WHERE e.wrapper_kind IS NULL AND e.action = 'added'),
    COUNT(*) FILTER (WHERE e.wrapper_kind IS NOT NULL AND e.action = 'added')
FROM link_events e
CROSS JOIN LATERAL (VALUES ('u', e.performer, ''), ('w', e.wiki, ''),
                           ('p', e.page_title, e.wiki)) AS x (dim, key, wiki)
CROSS JOIN LATERAL (VALUES (COALESCE(e.provenance, '')), ('*')) AS p (provenance)
WHERE e.domain IS NOT NULL AND x.key IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO link_domain_present (domain, wrapped, present)
SELECT le.domain, (le.wrapper_kind IS NOT NULL)::int, COUNT(*)
FROM page_links pl JOIN link_events le ON le.id = pl.last_event_id
WHERE pl.deleted = 0 AND le.domain IS NOT NULL
GROUP BY 1, 2;
