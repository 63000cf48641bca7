-- Every agent who has held a conversation, so they may read its transcript
-- later (minimum necessary: agents read the chats they handled).
CREATE TABLE conversation_agents (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    staff_id        INTEGER NOT NULL REFERENCES staff(id),
    first_at        TEXT NOT NULL,
    PRIMARY KEY (conversation_id, staff_id)
);
CREATE INDEX conversation_agents_by_staff ON conversation_agents (staff_id);
CREATE INDEX conversations_by_created ON conversations (created_at);
