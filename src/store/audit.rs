//! The audit log in SQLite: appended by the writer (so the hash chain has
//! one author and one order), read and verified by anyone.

use sha2::{Digest, Sha256};
use sqlx::{Sqlite, Transaction};

use super::StoreResult;
use super::sqlite::SqliteStore;
use crate::transcript;

/// One audited access, before it is chained.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: String,
    pub role: String,
    /// e.g. `transcript.view`, `appointment.cancel`.
    pub action: String,
    /// What was accessed, by id (a conversation id, an appointment code).
    pub target: String,
    pub allowed: bool,
}

/// A stored audit row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    #[serde(skip)]
    pub prev_hash: String,
    #[serde(skip)]
    pub hash: String,
}

/// The first row's predecessor.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn chain_hash(
    prev: &str,
    at: &str,
    actor: &str,
    role: &str,
    action: &str,
    target: &str,
    outcome: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [prev, at, actor, role, action, target, outcome] {
        // Length-prefixed, so fields cannot be shifted into each other.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    crate::ids::hex(&h.finalize())
}

/// Longest field stored in an audit row; the log is never purged.
const MAX_FIELD_CHARS: usize = 256;

fn capped(field: String) -> String {
    match field.char_indices().nth(MAX_FIELD_CHARS) {
        Some((end, _)) => format!("{}…", &field[..end]),
        None => field,
    }
}

pub(super) async fn append(
    tx: &mut Transaction<'_, Sqlite>,
    e: AuditEntry,
) -> Result<StoreResult<()>, sqlx::Error> {
    let e = AuditEntry {
        actor: capped(e.actor),
        role: capped(e.role),
        action: capped(e.action),
        target: capped(e.target),
        allowed: e.allowed,
    };
    let prev: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_owned());
    let at = transcript::now();
    let outcome = if e.allowed { "allowed" } else { "refused" };
    let hash = chain_hash(&prev, &at, &e.actor, &e.role, &e.action, &e.target, outcome);
    sqlx::query(
        "INSERT INTO audit_log (at, actor, role, action, target, outcome, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&at)
    .bind(&e.actor)
    .bind(&e.role)
    .bind(&e.action)
    .bind(&e.target)
    .bind(outcome)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(Ok(()))
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

impl SqliteStore {
    /// Rows with `at` in [from, to), oldest first, at most `limit`.
    pub async fn audit(&self, from: &str, to: &str, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at, actor, role, action, target, outcome, prev_hash, hash FROM audit_log
             WHERE at >= ? AND at < ? ORDER BY id LIMIT ?",
        )
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(record).collect())
    }

    /// Walks the whole chain; `Err(id)` names the first row that does not
    /// follow from the one before it.
    pub async fn verify_audit(&self) -> StoreResult<Result<u64, i64>> {
        let rows: Vec<Row> =
            sqlx::query_as("SELECT id, at, actor, role, action, target, outcome, prev_hash, hash FROM audit_log ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        let mut prev = GENESIS.to_owned();
        let mut count = 0;
        for r in rows.into_iter().map(record) {
            let expected = chain_hash(
                &prev, &r.at, &r.actor, &r.role, &r.action, &r.target, &r.outcome,
            );
            if r.prev_hash != prev || r.hash != expected {
                return Ok(Err(r.id));
            }
            prev = r.hash;
            count += 1;
        }
        Ok(Ok(count))
    }
}

fn record((id, at, actor, role, action, target, outcome, prev_hash, hash): Row) -> AuditRecord {
    AuditRecord {
        id,
        at,
        actor,
        role,
        action,
        target,
        outcome,
        prev_hash,
        hash,
    }
}
