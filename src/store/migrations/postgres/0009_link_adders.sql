-- The PostgreSQL twin of migrations/sqlite/0009_link_adders.sql: how many
-- users and wikis made signal additions of a domain, kept by statement-level
-- triggers on link_domain_keys (migration 8).
CREATE TABLE link_domain_adders (
    domain TEXT COLLATE "C" NOT NULL,
    dim TEXT NOT NULL,
    provenance TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    adders BIGINT NOT NULL,
    PRIMARY KEY (domain, dim, provenance, wrapped)
);

CREATE FUNCTION link_adders_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_domain_adders AS t (domain, dim, provenance, wrapped, adders)
    SELECT n.domain, n.dim, n.provenance, m.wrapped, COUNT(*)
    FROM new_rows n
    CROSS JOIN LATERAL (VALUES ('any', n.s0 + n.s1), ('plain', n.s0), ('wrapped', n.s1))
        AS m (wrapped, s)
    WHERE n.dim IN ('u', 'w') AND m.s > 0
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (domain, dim, provenance, wrapped) DO UPDATE SET
        adders = t.adders + excluded.adders;
    RETURN NULL;
END;
$$;

CREATE FUNCTION link_adders_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_domain_adders AS t (domain, dim, provenance, wrapped, adders)
    SELECT n.domain, n.dim, n.provenance, m.wrapped, COUNT(*)
    FROM new_rows n
    JOIN old_rows o ON o.domain = n.domain AND o.dim = n.dim AND o.key = n.key
        AND o.wiki = n.wiki AND o.provenance = n.provenance
    CROSS JOIN LATERAL (VALUES ('any', o.s0 + o.s1, n.s0 + n.s1), ('plain', o.s0, n.s0),
                               ('wrapped', o.s1, n.s1)) AS m (wrapped, was, now)
    WHERE n.dim IN ('u', 'w') AND m.was = 0 AND m.now > 0
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (domain, dim, provenance, wrapped) DO UPDATE SET
        adders = t.adders + excluded.adders;
    RETURN NULL;
END;
$$;

CREATE TRIGGER link_adders_inserted AFTER INSERT ON link_domain_keys
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION link_adders_inserted();
CREATE TRIGGER link_adders_updated AFTER UPDATE ON link_domain_keys
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION link_adders_updated();

INSERT INTO link_domain_adders (domain, dim, provenance, wrapped, adders)
SELECT k.domain, k.dim, k.provenance, m.wrapped, COUNT(*)
FROM link_domain_keys k
CROSS JOIN LATERAL (VALUES ('any', k.s0 + k.s1), ('plain', k.s0), ('wrapped', k.s1))
    AS m (wrapped, s)
WHERE k.dim IN ('u', 'w') AND m.s > 0
GROUP BY 1, 2, 3, 4;
