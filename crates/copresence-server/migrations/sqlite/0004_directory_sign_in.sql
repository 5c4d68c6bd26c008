-- Members a site takes in by rule rather than by name: a domain (`*@contoso.com`), a directory
-- group (`group:Makers`), or the e-mail of someone who has not signed in yet.
CREATE TABLE site_rules (
    site_id TEXT NOT NULL REFERENCES sites(id),
    rule TEXT NOT NULL,
    PRIMARY KEY (site_id, rule)
);

-- Operator tokens may expire (ms since the epoch); NULL: never.
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;

-- Users who came from the organisation's directory on their first sign-in (1), rather than
-- from the organisation file (0): `import --prune` leaves them to the directory.
ALTER TABLE users ADD COLUMN from_directory BIGINT NOT NULL DEFAULT 0;

-- A ticket carries the directory groups its holder signed in with, as a JSON array: a stream
-- opened with it is checked against group rules as its holder would be.
ALTER TABLE tickets ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
