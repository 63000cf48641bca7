-- The patient's satisfaction rating at the end of a chat (one per
-- conversation; rating again replaces it).
CREATE TABLE ratings (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment         TEXT,
    created_at      TEXT NOT NULL
);
