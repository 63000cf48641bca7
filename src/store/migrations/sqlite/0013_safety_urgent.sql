-- The urgent tier (care today, not 911) is recorded beside emergencies and
-- crises. SQLite cannot alter a CHECK: the table is rebuilt, rows kept.
CREATE TABLE safety_events_new (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    category        TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('medical', 'crisis', 'urgent')),
    created_at      TEXT NOT NULL
);
INSERT INTO safety_events_new (id, conversation_id, category, kind, created_at)
    SELECT id, conversation_id, category, kind, created_at FROM safety_events;
DROP TABLE safety_events;
ALTER TABLE safety_events_new RENAME TO safety_events;
CREATE INDEX safety_events_by_time ON safety_events (created_at);
