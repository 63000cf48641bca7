//! The audit log in SQLite. The chain's rules are in `store::audit`; this
//! file reads the newest hash, inserts the next link and reads rows back.

use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use crate::store::audit::Link;
use crate::store::rows::{self, AuditRow};
use crate::store::{AuditEntry, AuditKey, AuditRecord, ChainError, ChainReport, StoreResult};
use crate::transcript;

pub(super) async fn append(
    tx: &mut Transaction<'_, Sqlite>,
    entry: AuditEntry,
    key: &AuditKey,
) -> Result<StoreResult<()>, sqlx::Error> {
    let prev: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let link = Link::after(prev, entry, key, transcript::now());
    sqlx::query(
        "INSERT INTO audit_log (at, actor, role, action, target, outcome, prev_hash, hash, keyed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
    )
    .bind(&link.at)
    .bind(&link.entry.actor)
    .bind(&link.entry.role)
    .bind(&link.entry.action)
    .bind(&link.entry.target)
    .bind(link.outcome)
    .bind(&link.prev_hash)
    .bind(&link.hash)
    .execute(&mut **tx)
    .await?;
    Ok(Ok(()))
}

/// In the order of [`AuditRow`].
const COLUMNS: &str = "id, at, actor, role, action, target, outcome, prev_hash, hash, keyed";

impl SqliteStore {
    /// Rows with `at` in [from, to), oldest first, at most `limit`.
    pub async fn audit(&self, from: &str, to: &str, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        let rows: Vec<AuditRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE at >= ? AND at < ? ORDER BY id LIMIT ?"
        ))
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(rows::audit_record).collect())
    }

    /// Walks the whole chain under `key`, streamed a row at a time.
    pub async fn verify_audit(
        &self,
        key: &AuditKey,
        expected_head: Option<&str>,
    ) -> StoreResult<Result<ChainReport, ChainError>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY id");
        let rows = sqlx::query_as::<_, AuditRow>(&sql).fetch(self.pool());
        rows::verify_chain(rows, key, expected_head).await
    }

    /// The newest row, if any.
    pub async fn audit_head(&self) -> StoreResult<Option<AuditRecord>> {
        let row: Option<AuditRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM audit_log ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(rows::audit_record))
    }
}
