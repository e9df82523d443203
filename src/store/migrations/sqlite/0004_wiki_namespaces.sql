-- Namespace names each wiki reported in its siteinfo (WikiMon `ns`), cached
-- so a restart does not ask the wiki again.
CREATE TABLE IF NOT EXISTS wiki_namespaces (
    wiki TEXT NOT NULL,
    ns INTEGER NOT NULL,
    name TEXT NOT NULL,
    fetched_ms INTEGER NOT NULL,
    PRIMARY KEY (wiki, ns)
);
