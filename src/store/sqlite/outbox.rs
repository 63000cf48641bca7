//! The outbox in Sqlite: messages to patients, written in the savepoint of
//! the event that causes them, claimed by a conditional update (one sender
//! wins), and marked sent or retried.

use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use crate::store::rows::{self, OutboundRow};
use crate::store::{NewOutbound, Outbound, StoreResult};

/// Writes `o` about appointment `appointment`, due at once.
pub(super) async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    appointment: i64,
    o: &NewOutbound,
) -> Result<(), sqlx::Error> {
    let now = jiff::Timestamp::now().as_second();
    sqlx::query(
        "INSERT INTO outbox (kind, channel, recipient, lang, appointment_id, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(o.kind.as_str())
    .bind(o.channel.as_str())
    .bind(&o.recipient)
    .bind(o.lang.as_str())
    .bind(appointment)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl SqliteStore {
    /// Pending messages due at `now` (Unix seconds), oldest first.
    pub async fn outbox_due(&self, now: i64, limit: i64) -> StoreResult<Vec<Outbound>> {
        let found: Vec<OutboundRow> = sqlx::query_as(
            "SELECT id, kind, channel, recipient, lang, attempts, next_attempt_at, appointment_id
             FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
             ORDER BY next_attempt_at, id LIMIT ?",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        found.into_iter().map(rows::outbound).collect()
    }

    /// Takes a due message for one send: only if nobody took it since it
    /// was read (its due time unchanged). It is due again at `lease_until`
    /// unless marked first.
    pub async fn outbox_claim(&self, o: &Outbound, lease_until: i64) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1
             WHERE id = ? AND status = 'pending' AND next_attempt_at = ?",
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
            "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
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
                sqlx::query("UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?")
                    .bind(at)
                    .bind(error)
                    .bind(id)
                    .execute(self.pool())
                    .await?;
            }
            None => {
                sqlx::query("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?")
                    .bind(error)
                    .bind(id)
                    .execute(self.pool())
                    .await?;
            }
        }
        Ok(())
    }
}
