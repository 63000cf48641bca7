//! The audit log in PostgreSQL. The chain's rules are in `store::audit`; this
//! file reads the newest hash, inserts the next link and reads rows back.

use sqlx::{Postgres, Transaction};

use super::PostgresStore;
use crate::store::audit::Link;
use crate::store::rows::{self, AuditRow};
use crate::store::{AuditEntry, AuditKey, AuditRecord, ChainError, ChainReport, StoreResult};
use crate::transcript;

/// The advisory lock that makes appends to the chain one at a time across
/// nodes ("FDAUDIT1" in ASCII; any fixed number no other code locks).
const AUDIT_CHAIN_LOCK: i64 = 0x4644_4155_4449_5431;

pub(super) async fn append(
    tx: &mut Transaction<'_, Postgres>,
    entry: AuditEntry,
    key: &AuditKey,
) -> Result<StoreResult<()>, sqlx::Error> {
    // Every node has its own writer: without the lock two of them could
    // read the same head and fork the chain. Held until the transaction ends.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_CHAIN_LOCK)
        .execute(&mut **tx)
        .await?;
    let prev: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let link = Link::after(prev, entry, key, transcript::now());
    sqlx::query(
        "INSERT INTO audit_log (at, actor, role, action, target, outcome, prev_hash, hash, keyed)
         VALUES ($1::timestamptz, $2, $3, $4, $5, $6, $7, $8, true)",
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

/// In the order of [`AuditRow`]; `rfc3339(at)` is the very string that was hashed (`transcript::now()`
/// always has three fraction digits).
const COLUMNS: &str =
    "id, rfc3339(at), actor, role, action, target, outcome, prev_hash, hash, keyed";

impl PostgresStore {
    /// Rows with `at` in [from, to), oldest first, at most `limit`.
    ///
    /// Compared as text, byte by byte, as SQLite does: the bounds may be
    /// any prefix of a time (`2026-12-04`, or `0000` and `9999` for
    /// everything), which `timestamptz` would refuse.
    pub async fn audit(&self, from: &str, to: &str, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        let rows: Vec<AuditRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM audit_log
             WHERE rfc3339(at) COLLATE \"C\" >= $1 AND rfc3339(at) COLLATE \"C\" < $2 ORDER BY id LIMIT $3"
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
