//! The outbox in Postgres: messages to patients, written in the savepoint of
//! the event that causes them, claimed by a conditional update (one sender
//! wins), and marked sent or retried.

use super::PostgresStore;
use crate::patient::Channel;
use crate::store::outbound_records;
use crate::store::outbox::EntryRow;
use crate::store::{About, NewOutbound, Outbound, StoreResult};

/// An outbox row as staff see it, with its appointment's code.
const ENTRY: &str = "SELECT o.id, o.kind, o.channel, o.recipient, o.lang, o.status, o.attempts,
        o.last_error, o.created_at, a.code
     FROM outbox o LEFT JOIN appointments a ON a.id = o.appointment_id";

/// Writes `o` about `about`, due at once, in a transaction or on its own;
/// `false` when one of a kind kept once per appointment (a reminder) or
/// per callback request is there already.
pub(super) async fn insert<'c, E>(db: E, about: About, o: &NewOutbound) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Postgres>,
{
    let now = jiff::Timestamp::now().as_second();
    let (appointment, callback) = match about {
        About::Appointment(id) => (Some(id), None),
        About::Callback(id) => (None, Some(id)),
    };
    let added = sqlx::query(
        "INSERT INTO outbox (kind, channel, recipient, lang, appointment_id, callback_id, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(o.kind.as_str())
    .bind(o.channel.as_str())
    .bind(&o.recipient)
    .bind(o.lang.as_str())
    .bind(appointment)
    .bind(callback)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?
    .rows_affected();
    Ok(added == 1)
}

impl PostgresStore {
    /// Writes a message about appointment `appointment` unless its kind
    /// allows one per appointment and it is there (a reminder queued by
    /// another node); `false` then.
    pub async fn outbox_add(&self, appointment: i64, o: &NewOutbound) -> StoreResult<bool> {
        Ok(insert(self.pool(), About::Appointment(appointment), o).await?)
    }

    /// Queues a notice in a chat by text (words that are not in the
    /// transcript, such as "an agent joined") to the conversation's number;
    /// `false` when the conversation has none (a web chat) or is gone.
    pub async fn outbox_notice(
        &self,
        conversation: &str,
        body: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let added = sqlx::query(
            "INSERT INTO outbox (kind, channel, recipient, lang, conversation_id, body,
                                 next_attempt_at, created_at)
             SELECT 'chat_notice', 'text', reply_to, lang, id, $2, $3, $4
             FROM conversations WHERE id = $1 AND reply_to IS NOT NULL",
        )
        .bind(conversation)
        .bind(body)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(added == 1)
    }

    /// Pending messages due at `now` (Unix seconds), oldest first.
    pub async fn outbox_due(&self, now: i64, limit: i64) -> StoreResult<Vec<Outbound>> {
        let found: Vec<outbound_records::OutboundRow> = sqlx::query_as(
            "SELECT id, kind, channel, recipient, lang, attempts, next_attempt_at, appointment_id,
                    conversation_id, message_seq, body, callback_id
             FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
               -- A chat by text's messages in order: none while an earlier
               -- one of its conversation still waits.
               AND (conversation_id IS NULL OR NOT EXISTS (
                   SELECT 1 FROM outbox e WHERE e.conversation_id = outbox.conversation_id
                   AND e.status = 'pending' AND e.id < outbox.id))
             ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        found.into_iter().map(outbound_records::outbound).collect()
    }

    /// Takes a due message for one send: only if nobody took it since it
    /// was read (its due time unchanged). It is due again at `lease_until`
    /// unless marked first.
    pub async fn outbox_claim(&self, o: &Outbound, lease_until: i64) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1
             WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
        )
        .bind(lease_until)
        .bind(o.id)
        .bind(o.due_at)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    pub async fn outbox_sent(&self, id: i64, at: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2",
        )
        .bind(at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Leaves the message pending, due again at `next_at`, or ends it as
    /// failed; `error` is a short code (never the message or the address).
    pub async fn outbox_unsent(
        &self,
        id: i64,
        next_at: Option<i64>,
        error: &str,
    ) -> StoreResult<()> {
        match next_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3",
                )
                .bind(at)
                .bind(error)
                .bind(id)
                .execute(self.pool())
                .await?;
            }
            None => {
                sqlx::query("UPDATE outbox SET status = 'failed', last_error = $1 WHERE id = $2")
                    .bind(error)
                    .bind(id)
                    .execute(self.pool())
                    .await?;
            }
        }
        Ok(())
    }

    /// Records that `address` wants no more messages on `channel`.
    pub async fn opt_out(&self, channel: Channel, address: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO opt_outs (channel, address, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(channel.as_str())
        .bind(address)
        .bind(jiff::Timestamp::now().as_second())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Lets `address` have messages on `channel` again.
    pub async fn opt_in(&self, channel: Channel, address: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM opt_outs WHERE channel = $1 AND address = $2")
            .bind(channel.as_str())
            .bind(address)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn opted_out(&self, channel: Channel, address: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT created_at FROM opt_outs WHERE channel = $1 AND address = $2",
        )
        .bind(channel.as_str())
        .bind(address)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Failed messages with ids below `before`, newest first.
    pub async fn outbox_failed(&self, before: i64, limit: i64) -> StoreResult<Vec<EntryRow>> {
        Ok(sqlx::query_as(&format!(
            "{ENTRY} WHERE o.status = 'failed' AND o.id < $1 ORDER BY o.id DESC LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn outbox_entry(&self, id: i64) -> StoreResult<Option<EntryRow>> {
        Ok(sqlx::query_as(&format!("{ENTRY} WHERE o.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// A failed message pending again, due at `now`, its tries from zero.
    pub async fn outbox_retry(&self, id: i64, now: i64) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1
             WHERE id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// The `(channel, address)` opt-outs of these addresses.
    pub async fn opted_out_among(
        &self,
        addresses: &[String],
    ) -> StoreResult<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT channel, address FROM opt_outs WHERE address = ANY($1)")
                .bind(addresses)
                .fetch_all(self.pool())
                .await?,
        )
    }
}
