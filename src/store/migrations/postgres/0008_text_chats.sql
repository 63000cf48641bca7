-- Chats by text message. A conversation opened by a text has channel
-- 'sms' and the patient's number in `reply_to` (E.164); retention deletes
-- it with the conversation. Everything the bot, an agent or the system
-- says in such a conversation is queued for the SMS provider in the same
-- transaction as the message itself (the trigger below), whoever writes
-- it and on whichever node: a reply that was stored is never lost on its
-- way to the phone.
ALTER TABLE conversations ADD COLUMN channel text NOT NULL DEFAULT 'web'
    CHECK (channel IN ('web', 'sms'));
ALTER TABLE conversations ADD COLUMN reply_to text;

-- An outbox row for a chat message names it (the words are read from the
-- transcript when it is sent, so they live in one place); a notice that
-- is not part of the transcript ("an agent joined") carries its words.
ALTER TABLE outbox ADD COLUMN conversation_id text REFERENCES conversations(id) ON DELETE CASCADE;
ALTER TABLE outbox ADD COLUMN message_seq bigint;
ALTER TABLE outbox ADD COLUMN body text;

CREATE FUNCTION queue_text_reply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (kind, channel, recipient, lang, conversation_id, message_seq,
                        next_attempt_at, created_at)
    SELECT 'chat_reply', 'text', c.reply_to, c.lang, c.id, NEW.seq,
           extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint
    FROM conversations c
    WHERE c.id = NEW.conversation_id AND c.reply_to IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_by_text AFTER INSERT ON messages
FOR EACH ROW WHEN (NEW.sender <> 'patient')
EXECUTE FUNCTION queue_text_reply();
