-- Chats by text message. A conversation opened by a text has channel
-- 'sms' and the patient's number in `reply_to` (E.164); retention deletes
-- it with the conversation. Everything the bot, an agent or the system
-- says in such a conversation is queued for the SMS provider in the same
-- transaction as the message itself (the trigger below), whoever writes
-- it: a reply that was stored is never lost on its way to the phone.
ALTER TABLE conversations ADD COLUMN channel TEXT NOT NULL DEFAULT 'web'
    CHECK (channel IN ('web', 'sms'));
ALTER TABLE conversations ADD COLUMN reply_to TEXT;

-- An outbox row for a chat message names it (the words are read from the
-- transcript when it is sent, so they live in one place); a notice that
-- is not part of the transcript ("an agent joined") carries its words.
ALTER TABLE outbox ADD COLUMN conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE;
ALTER TABLE outbox ADD COLUMN message_seq INTEGER;
ALTER TABLE outbox ADD COLUMN body TEXT;

CREATE TRIGGER messages_by_text AFTER INSERT ON messages
WHEN NEW.sender <> 'patient'
BEGIN
    INSERT INTO outbox (kind, channel, recipient, lang, conversation_id, message_seq,
                        next_attempt_at, created_at)
    SELECT 'chat_reply', 'text', c.reply_to, c.lang, c.id, NEW.seq,
           CAST(strftime('%s', 'now') AS INTEGER), CAST(strftime('%s', 'now') AS INTEGER)
    FROM conversations c
    WHERE c.id = NEW.conversation_id AND c.reply_to IS NOT NULL;
END;
