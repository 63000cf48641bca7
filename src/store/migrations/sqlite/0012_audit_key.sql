-- Rows from now on are linked with an HMAC under a key kept outside the
-- database (`keyed = 1`); earlier rows keep their plain SHA-256 links and
-- may only come first. Adding a column is not an UPDATE: the append-only
-- triggers stay as they are.
ALTER TABLE audit_log ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;
