//! Handoff records in PostgreSQL: queue and assignment state, staff notes and
//! callback requests.

use sqlx::{Postgres, Transaction};

use super::PostgresStore;
use crate::accounts::StaffId;
use crate::ids::ConversationId;
use crate::store::batch::callback_done;
use crate::store::rows::{self, CallbackRow, HandoffRow, InfoRow, NoteRow};
use crate::store::{
    About, Callback, ChannelsOn, ConversationInfo, HandoffChange, NewCallback, Note, OpenHandoff,
    StoreError, StoreResult,
};
use crate::transcript;

pub(super) async fn set_handoff(
    tx: &mut Transaction<'_, Postgres>,
    conversation: &ConversationId,
    change: HandoffChange,
) -> Result<StoreResult<()>, sqlx::Error> {
    let now = transcript::now();
    // The conversation is bound last, after each change's own values.
    let query = match &change {
        HandoffChange::Queued { reason } => sqlx::query(
            "UPDATE conversations SET handoff = 'queued', handoff_reason = $1, queued_at = $2::timestamptz,
             assigned_to = NULL, claimed_at = NULL, resolved_at = NULL WHERE id = $3",
        )
        .bind(reason.as_str())
        .bind(now),
        HandoffChange::Claimed { agent } => sqlx::query(
            "UPDATE conversations SET handoff = 'assigned', assigned_to = $1,
             claimed_at = COALESCE(claimed_at, $2::timestamptz) WHERE id = $3 AND handoff = 'queued'",
        )
        .bind(agent.0)
        .bind(now),
        HandoffChange::Assigned { agent } => sqlx::query(
            "UPDATE conversations SET handoff = 'assigned', assigned_to = $1,
             claimed_at = COALESCE(claimed_at, $2::timestamptz) WHERE id = $3",
        )
        .bind(agent.0)
        .bind(now),
        HandoffChange::Resolved { disposition } => sqlx::query(
            "UPDATE conversations SET handoff = 'resolved', resolved_at = $1::timestamptz, disposition = $2
             WHERE id = $3",
        )
        .bind(now)
        .bind(disposition.clone()),
        HandoffChange::ToBot => sqlx::query(
            "UPDATE conversations SET handoff = 'bot', assigned_to = NULL WHERE id = $1",
        ),
    };
    let changed = query
        .bind(conversation.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if changed != 1 {
        return Ok(Err(match change {
            HandoffChange::Claimed { .. } => StoreError::Conflict("someone else holds the chat"),
            _ => StoreError::NotFound,
        }));
    }
    if let HandoffChange::Claimed { agent } | HandoffChange::Assigned { agent } = change {
        sqlx::query(
            "INSERT INTO conversation_agents (conversation_id, staff_id, first_at)
             VALUES ($1, $2, $3::timestamptz) ON CONFLICT DO NOTHING",
        )
        .bind(conversation.as_str())
        .bind(agent.0)
        .bind(transcript::now())
        .execute(&mut **tx)
        .await?;
    }
    Ok(Ok(()))
}

pub(super) async fn add_note(
    tx: &mut Transaction<'_, Postgres>,
    conversation: &ConversationId,
    staff: StaffId,
    body: &str,
) -> Result<StoreResult<()>, sqlx::Error> {
    sqlx::query(
        "INSERT INTO notes (conversation_id, staff_id, body, created_at) VALUES ($1, $2, $3, $4::timestamptz)",
    )
    .bind(conversation.as_str())
    .bind(staff.0)
    .bind(body)
    .bind(transcript::now())
    .execute(&mut **tx)
    .await?;
    Ok(Ok(()))
}

/// Stores a callback request and, with it, the message telling the
/// patient it arrived (when its channel is e-mail or text and on).
pub(super) async fn add_callback(
    tx: &mut Transaction<'_, Postgres>,
    c: NewCallback,
    on: ChannelsOn,
) -> Result<StoreResult<i64>, sqlx::Error> {
    let id = sqlx::query_scalar(
        "INSERT INTO callbacks (conversation_id, name, channel, contact, time_window, created_at, lang)
         VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7) RETURNING id",
    )
    .bind(c.conversation.as_str())
    .bind(c.name.as_str())
    .bind(c.channel.as_str())
    .bind(c.contact.as_str())
    .bind(&c.window)
    .bind(transcript::now())
    .bind(c.lang.as_str())
    .fetch_one(&mut **tx)
    .await?;
    if let Some(received) = c.received(on) {
        super::outbox::insert(&mut **tx, About::Callback(id), &received).await?;
    }
    Ok(Ok(id))
}

/// Marks an open callback request done and writes the message telling the
/// patient, in the same transaction; `NotFound` (and no message) when it
/// is not open.
pub(super) async fn complete_callback(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    staff: StaffId,
    on: ChannelsOn,
) -> Result<StoreResult<()>, sqlx::Error> {
    let done: Option<(String, String, String)> = sqlx::query_as(
        "UPDATE callbacks SET status = 'done', done_at = $1::timestamptz, done_by = $2
         WHERE id = $3 AND status = 'open' RETURNING channel, contact, lang",
    )
    .bind(transcript::now())
    .bind(staff.0)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(done) = done else {
        return Ok(Err(StoreError::NotFound));
    };
    if let Some(message) = callback_done(done, on) {
        super::outbox::insert(&mut **tx, About::Callback(id), &message).await?;
    }
    Ok(Ok(()))
}

/// In the order of [`InfoRow`].
const INFO_COLUMNS: &str = "c.id, rfc3339(c.created_at), c.lang, c.status, c.handoff, c.handoff_reason, s.name, c.disposition, c.assigned_to, c.channel";

impl PostgresStore {
    pub async fn open_handoffs(&self) -> StoreResult<Vec<OpenHandoff>> {
        // NULLS FIRST: where SQLite sorts them.
        let rows: Vec<HandoffRow> = sqlx::query_as(
            "SELECT c.id, c.lang, c.handoff_reason, rfc3339(c.queued_at), c.assigned_to, s.name
                 FROM conversations c LEFT JOIN staff s ON s.id = c.assigned_to
                 WHERE c.handoff IN ('queued', 'assigned') AND c.status = 'open'
                 ORDER BY c.queued_at NULLS FIRST",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows::open_handoffs(rows))
    }

    pub async fn latest_alert(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Option<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT category, kind FROM safety_events WHERE conversation_id = $1
             ORDER BY id DESC LIMIT 1",
        )
        .bind(conversation.as_str())
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn callbacks(&self, include_done: bool) -> StoreResult<Vec<Callback>> {
        let rows: Vec<CallbackRow> = sqlx::query_as(
            "SELECT id, conversation_id, name, channel, contact, time_window, status, rfc3339(created_at), lang
             FROM callbacks WHERE status = 'open' OR $1 ORDER BY created_at",
        )
        .bind(include_done)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(rows::callback).collect())
    }

    pub async fn conversation_info(
        &self,
        id: &ConversationId,
    ) -> StoreResult<Option<ConversationInfo>> {
        let row: Option<InfoRow> = sqlx::query_as(&format!(
            "SELECT {INFO_COLUMNS} FROM conversations c LEFT JOIN staff s ON s.id = c.assigned_to WHERE c.id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.and_then(rows::info))
    }

    /// Whether `staff` has ever held the conversation.
    pub async fn handled_by(&self, id: &ConversationId, staff: StaffId) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM conversation_agents WHERE conversation_id = $1 AND staff_id = $2)",
        )
        .bind(id.as_str())
        .bind(staff.0)
        .fetch_one(self.pool())
        .await?)
    }

    /// Conversations that reached a person, newest first: all of them, or
    /// only those `staff` handled.
    pub async fn list_conversations(
        &self,
        only: Option<StaffId>,
        limit: i64,
    ) -> StoreResult<Vec<ConversationInfo>> {
        let (filter, limit_at) = match only {
            Some(_) => (
                "c.id IN (SELECT conversation_id FROM conversation_agents WHERE staff_id = $1)",
                "$2",
            ),
            None => (
                "(c.handoff != 'bot' OR c.id IN (SELECT conversation_id FROM conversation_agents))",
                "$1",
            ),
        };
        let sql = format!(
            "SELECT {INFO_COLUMNS} FROM conversations c LEFT JOIN staff s ON s.id = c.assigned_to
             WHERE {filter} ORDER BY c.created_at DESC LIMIT {limit_at}"
        );
        let mut query = sqlx::query_as::<_, InfoRow>(&sql);
        if let Some(staff) = only {
            query = query.bind(staff.0);
        }
        let rows = query.bind(limit).fetch_all(self.pool()).await?;
        Ok(rows.into_iter().filter_map(rows::info).collect())
    }

    pub async fn notes(&self, conversation: &ConversationId) -> StoreResult<Vec<Note>> {
        let rows: Vec<NoteRow> = sqlx::query_as(
            "SELECT s.name, n.body, rfc3339(n.created_at) FROM notes n JOIN staff s ON s.id = n.staff_id
             WHERE n.conversation_id = $1 ORDER BY n.id",
        )
        .bind(conversation.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(rows::note).collect())
    }
}
