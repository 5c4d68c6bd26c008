-- The schema as it was before versioned migrations; IF NOT EXISTS, so that a database made
-- then takes this migration as already applied.
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    teams TEXT
);

CREATE TABLE IF NOT EXISTS sites (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS pages (
    site_id TEXT NOT NULL REFERENCES sites(id),
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    PRIMARY KEY (site_id, path)
);

CREATE TABLE IF NOT EXISTS memberships (
    site_id TEXT NOT NULL REFERENCES sites(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (site_id, user_id)
);

CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships (user_id);

CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS tickets (
    hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    expires_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS saves (
    site_id TEXT NOT NULL REFERENCES sites(id),
    version BIGINT NOT NULL,
    page TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    at BIGINT NOT NULL,
    forced BIGINT NOT NULL,
    PRIMARY KEY (site_id, version)
);
