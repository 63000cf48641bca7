//! The PostgreSQL backend, for clinics whose IT team already runs, backs up
//! and replicates PostgreSQL (and, once delivery across nodes exists, for
//! several nodes on one database).
//!
//! Same records, same rules (`store::plan`, `store::batch`), same
//! invariants as SQLite: a write is acknowledged only after its batch
//! commits, each node's one writer commits in groups, and double booking is
//! refused by the database (an exclusion constraint). Times are `timestamptz`, written from the RFC 3339
//! strings the rest of the server uses (`$n::timestamptz`) and read back
//! through the schema's `rfc3339()` function, which gives the same string.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

use super::batch::Progress;
use super::fault::BatchError;
use super::rows::{self, MessageRow, VisitorRow};
use super::{Conversation, StoreResult, VisitorId, WriteOp};
use crate::ids::{ConversationId, TokenDigest};

mod appointments;
mod audit;
mod contacts;
pub(super) mod faults;
mod handoff;
mod insights;
mod messages;
mod notices;
mod ops;
mod outbox;
mod retention;
mod sessions;
mod staff;
mod throttle;

pub use notices::{Heard, Notices};

#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// The writer task's own connection: one writer per node commits in
    /// groups, as on SQLite.
    writer: PgPool,
}

/// Connections for reads (history, the console, insights) per node.
const READ_CONNECTIONS: u32 = 16;
/// How long a statement may wait for a connection before the caller hears
/// `unavailable`, rather than sqlx's default 30 s.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl PostgresStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options: PgConnectOptions = url.parse().context("invalid postgres URL")?;
        // Every session works in UTC, whatever the server's default; and a
        // statement waits at most as long for a lock as SQLite's busy
        // timeout, after which the batch fails as `locked` and patients
        // hear `unavailable` rather than waiting on a silent socket.
        let options = options.options([("timezone", "UTC"), ("lock_timeout", "5s")]);
        let pool = PgPoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .context("cannot connect to PostgreSQL")?;
        sqlx::migrate!("src/store/migrations/postgres")
            .run(&pool)
            .await
            .context("cannot migrate the PostgreSQL database")?;
        let writer = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A connection broken by a server restart is replaced, not reused.
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .context("cannot connect to PostgreSQL")?;
        Ok(Self { pool, writer })
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn visitor_by_token(
        &self,
        token: &TokenDigest,
    ) -> StoreResult<Option<crate::store::TokenVisitor>> {
        let row: Option<VisitorRow> = sqlx::query_as(
            "SELECT v.id, v.identity_hash IS NOT NULL,
                    (SELECT rfc3339(MAX(m.created_at)) FROM messages m
                     JOIN conversations c ON c.id = m.conversation_id WHERE c.visitor_id = v.id)
             FROM visitors v WHERE v.token_hash = $1",
        )
        .bind(&token.0[..])
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(rows::token_visitor))
    }

    pub async fn visitor_by_identity(
        &self,
        identity: &TokenDigest,
    ) -> StoreResult<Option<VisitorId>> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM visitors WHERE identity_hash = $1")
                .bind(&identity.0[..])
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.map(VisitorId))
    }

    pub async fn open_conversation(&self, visitor: VisitorId) -> StoreResult<Option<Conversation>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT id, lang FROM conversations WHERE visitor_id = $1 AND status = 'open'
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(visitor.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, lang)| Conversation::from_stored(id, visitor, &lang, true))
            .transpose()
    }

    pub async fn history(
        &self,
        conversation: &ConversationId,
        page: crate::transcript::Page,
    ) -> StoreResult<crate::transcript::HistoryPage> {
        // The newest `page.limit` before `before`, and one more to know if
        // there is more.
        let (before, read) = rows::history_bounds(page);
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT seq, sender, body, meta::text, rfc3339(created_at) FROM messages
             WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(conversation.as_str())
        .bind(before)
        .bind(read)
        .fetch_all(&self.pool)
        .await?;
        rows::history_page(rows, page)
    }

    pub async fn patient_messages(&self, conversation: &ConversationId) -> StoreResult<usize> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND sender = 'patient'",
        )
        .bind(conversation.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    pub async fn client_messages(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT client_id, seq FROM messages
             WHERE conversation_id = $1 AND client_id IS NOT NULL",
        )
        .bind(conversation.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Runs the batch in one transaction (`store::batch`); every op is
    /// answered only after the commit, or with the fault when anything
    /// failed. A failed batch closes the writer's connection, so the next
    /// batch starts on a fresh one (after a server restart the old one is
    /// dead).
    pub async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), BatchError> {
        let mut batch = Progress::new(ops);
        let mut conn = None;
        let outcome = async {
            let conn = conn.insert(self.writer.acquire().await.map_err(BatchError::from)?);
            let mut tx = conn.begin().await.map_err(BatchError::from)?;
            batch.apply(&mut tx).await?;
            tx.commit().await.map_err(BatchError::from)
        }
        .await;
        if outcome.is_err()
            && let Some(conn) = conn
        {
            let _ = conn.close().await;
        }
        batch.answer(outcome)
    }
}
