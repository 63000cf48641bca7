//! The SQLite backend: the embedded default. One file, WAL journal, fsync on
//! every commit (`synchronous = FULL`), so an acknowledged message survives a
//! crash of the process or of the machine.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqlitePool};

use self::faults::FileIdentity;
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
mod ops;
mod outbox;
mod retention;
mod sessions;
mod staff;
mod throttle;

#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The writer task's own connection, so its page cache stays warm: every
    /// batch touches the same hot index pages, and a cold cache made each
    /// statement read them back through system calls.
    writer: SqlitePool,
    /// The file opened at start, checked around every write batch.
    file: FileIdentity,
}

/// Page cache per connection (SQLite's unit: negative means KiB).
const CACHE_KIB: &str = "-16384";
/// Pages are read through a memory map of up to this many bytes, shared by
/// every connection through the OS page cache, instead of one read() each.
const MMAP_BYTES: &str = "268435456";

impl SqliteStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| "invalid sqlite URL")?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            // Deleted rows (retention) are overwritten, not left in free pages.
            .pragma("secure_delete", "ON")
            .pragma("cache_size", CACHE_KIB)
            .pragma("mmap_size", MMAP_BYTES)
            // A multi-row statement keeps a copy of each page it changes in
            // case it must be undone alone (the statement journal). In memory,
            // not in a temporary file: at 3,000 messages/s that file took a
            // quarter of the writer's page writes (15.0 → 11.4 per message).
            .pragma("temp_store", "MEMORY");
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let dir = options.get_filename().parent().map(|d| d.to_path_buf());
        if let Some(dir) = dir.filter(|d| !in_memory && !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(&dir).with_context(|| {
                format!("cannot create the database directory {}", dir.display())
            })?;
        }
        // An in-memory database lives and dies with its one connection.
        let pool_options = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        };
        // The file is created once, here. Connections opened later (the
        // pool replaces a failed one) must never create an empty database
        // where the real one was removed.
        if !in_memory {
            sqlx::SqliteConnection::connect_with(&options.clone().create_if_missing(true))
                .await
                .context("cannot create the SQLite database")?
                .close()
                .await
                .context("cannot create the SQLite database")?;
        }
        let pool = pool_options
            .connect_with(options.clone().create_if_missing(in_memory))
            .await
            .context("cannot open the SQLite database")?;
        sqlx::migrate!("src/store/migrations/sqlite")
            .run(&pool)
            .await
            .context("cannot migrate the SQLite database")?;
        let writer = if in_memory {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                // A batch fails (and patients hear `unavailable`) rather
                // than waiting the default 30 s for a connection.
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options.clone())
                .await
                .context("cannot open the SQLite database")?
        };
        let file = FileIdentity::of((!in_memory).then(|| options.get_filename()))
            .context("cannot read the SQLite database file")?;
        Ok(Self { pool, writer, file })
    }

    pub(super) fn pool(&self) -> &SqlitePool {
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
                    (SELECT MAX(m.created_at) FROM messages m JOIN conversations c ON c.id = m.conversation_id
                     WHERE c.visitor_id = v.id)
             FROM visitors v WHERE v.token_hash = ?",
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
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM visitors WHERE identity_hash = ?")
            .bind(&identity.0[..])
            .fetch_optional(&self.pool)
            .await?;
        Ok(id.map(VisitorId))
    }

    pub async fn open_conversation(&self, visitor: VisitorId) -> StoreResult<Option<Conversation>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT id, lang FROM conversations WHERE visitor_id = ? AND status = 'open'
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
            "SELECT seq, sender, body, meta, created_at FROM messages
             WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(conversation.as_str())
        .bind(before)
        .bind(read)
        .fetch_all(&self.pool)
        .await?;
        rows::history_page(rows, page)
    }

    /// How many messages the patient has sent in the conversation.
    pub async fn patient_messages(&self, conversation: &ConversationId) -> StoreResult<usize> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND sender = 'patient'",
        )
        .bind(conversation.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// The client ids and seqs of a conversation's messages that have one.
    pub async fn client_messages(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT client_id, seq FROM messages
             WHERE conversation_id = ? AND client_id IS NOT NULL",
        )
        .bind(conversation.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Runs the batch in one transaction; every op is answered only after
    /// the commit, or with the fault when anything failed. A failed batch
    /// closes the writer's connection, so the next batch starts on a fresh
    /// one: after some errors (`SQLITE_FULL`, `SQLITE_IOERR`) SQLite rolls
    /// the transaction back by itself, and sqlx, which counts transactions
    /// on its own, would then turn the next `BEGIN` into a savepoint inside
    /// a transaction nobody commits, acknowledging writes that are lost.
    pub async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), BatchError> {
        let mut batch = Progress::new(ops);
        let mut conn = None;
        let outcome = async {
            self.file.check()?;
            let conn = conn.insert(self.writer.acquire().await.map_err(BatchError::from)?);
            // IMMEDIATE takes the write lock up front; and a custom BEGIN is
            // refused by sqlx inside a transaction instead of nesting.
            let mut tx = conn
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(BatchError::from)?;
            batch.apply(&mut tx).await?;
            tx.commit().await?;
            // A commit into a file that is no longer the database is lost.
            self.file.check()
        }
        .await;
        if outcome.is_err()
            && let Some(conn) = conn
        {
            // Rolls back whatever SQLite still holds open.
            let _ = conn.close().await;
        }
        batch.answer(outcome)
    }
}
