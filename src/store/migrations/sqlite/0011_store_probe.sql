-- One row the writer rewrites while storage is failing and no patient writes
-- arrive, to notice when the disk has room (and the lock is free) again.
CREATE TABLE store_probe (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  TEXT NOT NULL,
    pad BLOB NOT NULL
);
