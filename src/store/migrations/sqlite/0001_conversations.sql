-- A visitor is a patient's device, known only by the digest of its resume token.
CREATE TABLE visitors (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

-- A conversation is one episode of a visitor's chat; at most one is open.
CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    visitor_id  INTEGER NOT NULL REFERENCES visitors(id),
    lang        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'ended')),
    created_at  TEXT NOT NULL,
    ended_at    TEXT,
    -- The seq the next message will get; only the message writer advances it.
    next_seq    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX conversations_by_visitor ON conversations (visitor_id, status);

-- Every message of a conversation, patient's and bot's alike, in one sequence.
CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    sender          TEXT NOT NULL CHECK (sender IN ('patient', 'bot', 'agent', 'system')),
    body            TEXT NOT NULL,
    -- The client's id for a patient message: the key of idempotent delivery.
    client_id       TEXT,
    -- Optional reply details (choices, html, article, confidence) as JSON.
    meta            TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, client_id)
    WHERE client_id IS NOT NULL;
