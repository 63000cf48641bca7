-- Every hand-over attempt, whether an agent could take it or not.
CREATE TABLE escalations (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    reason          TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('queued', 'offline', 'alerted')),
    created_at      TEXT NOT NULL
);
CREATE INDEX escalations_by_conversation ON escalations (conversation_id);

-- Questions the bot could not answer, redacted of identifiers when stored.
CREATE TABLE unanswered (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    question        TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

-- "Was this helpful?" on a bot answer.
CREATE TABLE answer_feedback (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    article         TEXT,
    helpful         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
