-- The web editors a site describes (the organisation file's `[[sites.editors]]`), as a JSON
-- array of {name, pattern, site?, pages?}: read and written whole with the site, so every node
-- serves the same ones and an import replaces them as the file says.
ALTER TABLE sites ADD COLUMN editors TEXT NOT NULL DEFAULT '[]';
