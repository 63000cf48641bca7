-- Where each conversation stands with respect to people, so the queue and
-- assignments survive a restart and the numbers can be computed.
ALTER TABLE conversations ADD COLUMN handoff TEXT NOT NULL DEFAULT 'bot'
    CHECK (handoff IN ('bot', 'queued', 'assigned', 'resolved'));
ALTER TABLE conversations ADD COLUMN handoff_reason TEXT;
ALTER TABLE conversations ADD COLUMN queued_at TEXT;
ALTER TABLE conversations ADD COLUMN assigned_to INTEGER REFERENCES staff(id);
ALTER TABLE conversations ADD COLUMN claimed_at TEXT;
ALTER TABLE conversations ADD COLUMN resolved_at TEXT;
ALTER TABLE conversations ADD COLUMN disposition TEXT;
CREATE INDEX conversations_by_handoff ON conversations (handoff);

-- Staff-only notes on a conversation; the patient never sees them.
CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    staff_id        INTEGER NOT NULL REFERENCES staff(id),
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX notes_by_conversation ON notes (conversation_id);

-- Callback requests left when no agent could take the chat.
CREATE TABLE callbacks (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    name            TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('phone', 'text', 'email')),
    contact         TEXT NOT NULL,
    time_window     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at      TEXT NOT NULL,
    done_at         TEXT,
    done_by         INTEGER REFERENCES staff(id)
);
CREATE INDEX callbacks_by_status ON callbacks (status, created_at);
