-- Failed sign-ins and appointment look-ups in the current window, by the
-- SHA-256 of their key (a name, an address, an appointment code: never
-- stored plain), so the limits hold across restarts and across every
-- server on the database.
CREATE TABLE throttle_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX throttle_failures_by_key ON throttle_failures (key, at);
-- Rows older than the window are deleted on every count, by this index.
CREATE INDEX throttle_failures_by_time ON throttle_failures (at);
