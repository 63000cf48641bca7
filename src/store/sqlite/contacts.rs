//! Remembered contact preferences in SQLite: one row per visitor, found
//! and written through a conversation of theirs.

use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use crate::ids::ConversationId;
use crate::patient::Preference;
use crate::store::StoreResult;
use crate::store::batch::exactly_one;
use crate::store::rows::ContactRow;

/// Remembers `preference` for the visitor of `conversation`, replacing any
/// earlier one; `NotFound` when there is no such conversation.
pub(super) async fn remember(
    tx: &mut Transaction<'_, Sqlite>,
    conversation: &ConversationId,
    preference: &Preference,
) -> Result<StoreResult<()>, sqlx::Error> {
    let changed = sqlx::query(
        "INSERT INTO contact_preferences (visitor_id, channel, value, updated_at)
         SELECT visitor_id, ?, ?, ? FROM conversations WHERE id = ?
         ON CONFLICT (visitor_id) DO UPDATE SET channel = excluded.channel,
             value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(preference.channel().as_str())
    .bind(preference.contact().as_str())
    .bind(crate::transcript::now())
    .bind(conversation.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(exactly_one(changed))
}

impl SqliteStore {
    pub async fn remembered_contact(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Option<ContactRow>> {
        Ok(sqlx::query_as(
            "SELECT p.visitor_id, p.channel, p.value, v.identity_hash IS NOT NULL
             FROM conversations c
             JOIN contact_preferences p ON p.visitor_id = c.visitor_id
             JOIN visitors v ON v.id = c.visitor_id
             WHERE c.id = ?",
        )
        .bind(conversation.as_str())
        .fetch_optional(self.pool())
        .await?)
    }
}
