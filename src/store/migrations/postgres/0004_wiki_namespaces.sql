-- Namespace names each wiki reported in its siteinfo (WikiMon `ns`), cached
-- so a restart does not ask the wiki again.
CREATE TABLE IF NOT EXISTS wiki_namespaces (
    wiki TEXT NOT NULL,
    ns BIGINT NOT NULL,
    name TEXT NOT NULL,
    fetched_ms BIGINT NOT NULL,
    PRIMARY KEY (wiki, ns)
);
