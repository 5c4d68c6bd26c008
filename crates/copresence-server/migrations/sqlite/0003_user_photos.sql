-- Where a user's profile photo is (an https address, or http to the machine itself), if known.
ALTER TABLE users ADD COLUMN photo TEXT;
