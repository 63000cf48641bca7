-- Messages to send to patients, written in the same transaction as the
-- event that causes them, so none is lost and none is invented. A sender
-- claims a due row by moving `next_attempt_at` past a lease, sends, and
-- marks it sent; a sender that dies between send and mark leaves it to be
-- sent again after the lease (at least once). Times in Unix seconds. What
-- the message says is rendered at send time from the appointment; only
-- where it goes is kept here.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'text')),
    recipient       TEXT NOT NULL,
    lang            TEXT NOT NULL,
    appointment_id  INTEGER REFERENCES appointments(id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
