-- A chat by text's messages go out in the order they were said: the
-- sender skips one while an earlier one of the same conversation is still
-- waiting (a retry). This index finds that earlier one.
CREATE INDEX outbox_by_conversation ON outbox (conversation_id, status, id)
    WHERE conversation_id IS NOT NULL;
