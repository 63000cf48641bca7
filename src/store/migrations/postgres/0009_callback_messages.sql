-- Messages about a callback request ("we got it", "done") go through the
-- outbox like those about appointments: written in the transaction that
-- stores the request or marks it done. The request's row is what they
-- are about, and deleting it (retention) deletes them. At most one of
-- each kind per request. The language of the chat the request was made
-- in is kept with it, for those messages.
ALTER TABLE callbacks ADD COLUMN lang text NOT NULL DEFAULT 'en';
ALTER TABLE outbox ADD COLUMN callback_id bigint REFERENCES callbacks(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX outbox_once_per_callback ON outbox (callback_id, kind)
    WHERE callback_id IS NOT NULL;
