-- Whether a site's editors may add pages to its tree by opening them (1), or only the
-- organisation file lists its pages (0): the file's `open_pages`, true unless it says otherwise.
ALTER TABLE sites ADD COLUMN open_pages BIGINT NOT NULL DEFAULT 1;

-- Who added a page by opening it in an editor; NULL for a page the organisation file lists.
-- It counts a user's pages against their cap, and `import --prune` leaves such pages to the
-- site while it takes pages from its editors. No reference to users: a removed user's pages
-- stay in the tree.
ALTER TABLE pages ADD COLUMN added_by BIGINT;

CREATE INDEX pages_by_adder ON pages (site_id, added_by);
