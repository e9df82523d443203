-- How many users (dim 'u') and wikis ('w') made signal additions of a
-- domain, per provenance (and '*') and wrapped choice ('any', 'plain',
-- 'wrapped'), so the report's "added by N users" does not count a large
-- domain's users row by row (167k rows for jstor.org at 20M events). A key's
-- signal additions only grow, so a key is counted once, when its count
-- leaves zero. Kept by triggers on link_domain_keys (migration 8).
CREATE TABLE link_domain_adders (
    domain TEXT NOT NULL,
    dim TEXT NOT NULL,
    provenance TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    adders INTEGER NOT NULL,
    PRIMARY KEY (domain, dim, provenance, wrapped)
) WITHOUT ROWID;

CREATE TRIGGER link_adders_insert AFTER INSERT ON link_domain_keys
WHEN NEW.dim IN ('u', 'w') AND NEW.s0 + NEW.s1 > 0
BEGIN
    INSERT INTO link_domain_adders (domain, dim, provenance, wrapped, adders)
    SELECT NEW.domain, NEW.dim, NEW.provenance, m.wrapped, 1
    FROM (SELECT 'any' AS wrapped, NEW.s0 + NEW.s1 AS s
          UNION ALL SELECT 'plain', NEW.s0
          UNION ALL SELECT 'wrapped', NEW.s1) AS m
    WHERE m.s > 0
    ON CONFLICT (domain, dim, provenance, wrapped) DO UPDATE SET adders = adders + 1;
END;

CREATE TRIGGER link_adders_update AFTER UPDATE OF s0, s1 ON link_domain_keys
WHEN NEW.dim IN ('u', 'w') AND ((OLD.s0 = 0 AND NEW.s0 > 0) OR (OLD.s1 = 0 AND NEW.s1 > 0))
BEGIN
    INSERT INTO link_domain_adders (domain, dim, provenance, wrapped, adders)
    SELECT NEW.domain, NEW.dim, NEW.provenance, m.wrapped, 1
    FROM (SELECT 'any' AS wrapped, OLD.s0 + OLD.s1 AS was, NEW.s0 + NEW.s1 AS now
          UNION ALL SELECT 'plain', OLD.s0, NEW.s0
          UNION ALL SELECT 'wrapped', OLD.s1, NEW.s1) AS m
    WHERE m.was = 0 AND m.now > 0
    ON CONFLICT (domain, dim, provenance, wrapped) DO UPDATE SET adders = adders + 1;
END;

-- Backfill from the rollup rows already kept.
INSERT INTO link_domain_adders (domain, dim, provenance, wrapped, adders)
SELECT domain, dim, provenance, m.wrapped, COUNT(*)
FROM link_domain_keys
JOIN (SELECT 'any' AS wrapped UNION ALL SELECT 'plain' UNION ALL SELECT 'wrapped') AS m
WHERE dim IN ('u', 'w')
  AND CASE m.wrapped WHEN 'any' THEN s0 + s1 WHEN 'plain' THEN s0 ELSE s1 END > 0
GROUP BY domain, dim, provenance, m.wrapped;
