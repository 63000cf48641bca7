-- Console sign-in sessions, so a restart does not sign staff out and every
-- node on the database knows a cookie. Only the token's SHA-256 digest is
-- kept: a copy of the database hands out no live session.
CREATE TABLE staff_sessions (
    token_hash bytea PRIMARY KEY,
    staff_id   bigint NOT NULL REFERENCES staff(id),
    created_at timestamptz NOT NULL,
    -- Written at most every minute (or a quarter of the idle limit).
    last_seen  timestamptz NOT NULL
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);
