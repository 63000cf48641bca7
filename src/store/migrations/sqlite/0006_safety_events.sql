-- Every time a safety rule fired: which conversation, which category.
CREATE TABLE safety_events (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    category        TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('medical', 'crisis')),
    created_at      TEXT NOT NULL
);
CREATE INDEX safety_events_by_time ON safety_events (created_at);
