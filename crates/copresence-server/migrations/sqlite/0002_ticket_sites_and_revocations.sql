-- A ticket is good for the sites it was asked for: a JSON array of site ids.
ALTER TABLE tickets ADD COLUMN sites TEXT NOT NULL DEFAULT '[]';

-- Every change that takes access away (a token revoked, a member or user removed), in order:
-- each node reads what is new every second and ends the open event streams it concerns.
CREATE TABLE revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX tickets_by_user ON tickets (user_id);
CREATE INDEX tokens_by_user ON tokens (user_id);
