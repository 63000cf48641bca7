-- Console sign-in sessions, so a restart does not sign staff out and any
-- server on the same database knows a cookie. Only the token's SHA-256
-- digest is kept: a copy of the database hands out no live session.
CREATE TABLE staff_sessions (
    token_hash BLOB PRIMARY KEY,
    staff_id   INTEGER NOT NULL REFERENCES staff(id),
    created_at TEXT NOT NULL,
    -- Written at most every minute (or a quarter of the idle limit).
    last_seen  TEXT NOT NULL
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);
