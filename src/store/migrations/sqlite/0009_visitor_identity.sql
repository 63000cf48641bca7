-- A patient signed in on the clinic's site (verified by HMAC) is one
-- visitor on every device: known by a digest of the clinic's user id.
ALTER TABLE visitors ADD COLUMN identity_hash BLOB;
CREATE UNIQUE INDEX visitors_by_identity ON visitors (identity_hash) WHERE identity_hash IS NOT NULL;
