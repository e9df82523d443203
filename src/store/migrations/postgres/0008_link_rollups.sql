-- Per-domain rollups of the link log, kept by triggers in the same
-- transaction as each event: the PostgreSQL twin of
-- migrations/sqlite/0007_link_rollups.sql (see there and src/store/link_rollup.rs).
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

CREATE FUNCTION link_rollup_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prov TEXT := COALESCE(NEW.provenance, '');
    w SMALLINT := (NEW.wrapper_kind IS NOT NULL)::int;
    a BIGINT := (NEW.action IN ('added', 'page_restored'))::int;
    r BIGINT := (NEW.action IN ('removed', 'page_deleted'))::int;
    s BIGINT := (NEW.action = 'added')::int;
BEGIN
    IF NEW.domain IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO link_domain_days AS d (domain, day, provenance, wrapped, added, restored, removed,
        deleted, ip_or_temp, new_account, first_ms, last_ms)
    VALUES (NEW.domain, NEW.time_ms / 86400000, prov, w,
        (NEW.action = 'added')::int, (NEW.action = 'page_restored')::int,
        (NEW.action = 'removed')::int, (NEW.action = 'page_deleted')::int,
        CASE WHEN NEW.action = 'added' AND NEW.editor_kind IN ('ip', 'temp') THEN 1 ELSE 0 END,
        CASE WHEN NEW.action = 'added' AND (
                (NEW.performer_registration_ms IS NOT NULL
                 AND NEW.time_ms - NEW.performer_registration_ms < 604800000)
                OR NEW.performer_edit_count < 10) THEN 1 ELSE 0 END,
        NEW.time_ms, NEW.time_ms)
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
    SELECT NEW.domain, x.dim, x.key, x.wiki, p.provenance,
        (1 - w) * a, w * a, (1 - w) * r, w * r, (1 - w) * s, w * s
    FROM (VALUES ('u', NEW.performer, ''), ('w', NEW.wiki, ''), ('p', NEW.page_title, NEW.wiki))
            AS x (dim, key, wiki),
         (VALUES (prov), ('*')) AS p (provenance)
    WHERE x.key IS NOT NULL
    ON CONFLICT (domain, dim, md5(key), wiki, provenance) DO UPDATE SET
        a0 = k.a0 + excluded.a0, a1 = k.a1 + excluded.a1,
        r0 = k.r0 + excluded.r0, r1 = k.r1 + excluded.r1,
        s0 = k.s0 + excluded.s0, s1 = k.s1 + excluded.s1;

    IF NEW.action = 'removed' THEN
        INSERT INTO link_domain_days AS d (domain, day, provenance, wrapped, later_removed)
        SELECT a.domain, a.time_ms / 86400000, COALESCE(a.provenance, ''),
            (a.wrapper_kind IS NOT NULL)::int, COUNT(*)
        FROM link_events a
        WHERE a.wiki = NEW.wiki AND a.page_id = NEW.page_id AND md5(a.raw) = md5(NEW.raw)
          AND a.raw = NEW.raw AND a.action = 'added' AND a.id < NEW.id AND a.domain IS NOT NULL
          AND a.id > COALESCE((SELECT MAX(rm.id) FROM link_events rm
                               WHERE rm.wiki = NEW.wiki AND rm.page_id = NEW.page_id
                                 AND md5(rm.raw) = md5(NEW.raw) AND rm.raw = NEW.raw
                                 AND rm.action = 'removed' AND rm.id < NEW.id), 0)
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (domain, day, provenance, wrapped) DO UPDATE SET
            later_removed = d.later_removed + excluded.later_removed;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER link_rollup_event AFTER INSERT ON link_events
    FOR EACH ROW EXECUTE FUNCTION link_rollup_event();

-- Present links: +1 / -1 for the (domain, wrapped) of a page_links row's last event.
CREATE FUNCTION link_present_bump(event_id BIGINT, delta BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO link_domain_present AS p (domain, wrapped, present)
    SELECT le.domain, (le.wrapper_kind IS NOT NULL)::int, delta FROM link_events le
    WHERE le.id = event_id AND le.domain IS NOT NULL
    ON CONFLICT (domain, wrapped) DO UPDATE SET present = p.present + excluded.present;
$$;

CREATE FUNCTION link_present() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.deleted = 0 THEN
        PERFORM link_present_bump(OLD.last_event_id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted = 0 THEN
        PERFORM link_present_bump(NEW.last_event_id, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER link_present AFTER INSERT OR DELETE OR UPDATE OF deleted, last_event_id
    ON page_links FOR EACH ROW EXECUTE FUNCTION link_present();

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
