//! Console sessions in SQLite: straight to the pool, like accounts.

use super::SqliteStore;
use crate::accounts::StaffId;
use crate::store::rows::{self, SessionRow};
use crate::store::{StoreResult, StoredSession};
use crate::transcript;

impl SqliteStore {
    pub async fn create_session(&self, digest: &[u8; 32], staff: StaffId) -> StoreResult<()> {
        let now = transcript::now();
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen) VALUES (?, ?, ?, ?)",
        )
        .bind(&digest[..])
        .bind(staff.0)
        .bind(&now)
        .bind(&now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn session(&self, digest: &[u8; 32]) -> StoreResult<Option<StoredSession>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.id, s.name, s.role, s.disabled, k.created_at, k.last_seen
             FROM staff_sessions k JOIN staff s ON s.id = k.staff_id WHERE k.token_hash = ?",
        )
        .bind(&digest[..])
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(rows::stored_session))
    }

    pub async fn touch_session(&self, digest: &[u8; 32]) -> StoreResult<()> {
        sqlx::query("UPDATE staff_sessions SET last_seen = ? WHERE token_hash = ?")
            .bind(transcript::now())
            .bind(&digest[..])
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn end_sessions(
        &self,
        digest: Option<&[u8; 32]>,
        staff: Option<StaffId>,
    ) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM staff_sessions WHERE token_hash = ?1 OR staff_id = ?2")
                .bind(digest.map(|d| d.to_vec()))
                .bind(staff.map(|s| s.0))
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    pub async fn live_sessions(&self, digests: &[[u8; 32]]) -> StoreResult<Vec<[u8; 32]>> {
        let mut live = Vec::new();
        // Bound parameters per statement stay well under SQLite's limit.
        for chunk in digests.chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT token_hash FROM staff_sessions WHERE token_hash IN (",
            );
            let mut list = q.separated(", ");
            for d in chunk {
                list.push_bind(d.to_vec());
            }
            q.push(")");
            let found: Vec<Vec<u8>> = q.build_query_scalar().fetch_all(self.pool()).await?;
            live.extend(rows::digests(found));
        }
        Ok(live)
    }

    pub async fn purge_sessions(
        &self,
        seen_before: &str,
        created_before: &str,
    ) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM staff_sessions WHERE last_seen < ? OR created_at < ?")
                .bind(seen_before)
                .bind(created_before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    /// Inserts a new nonce; false when it is already there.
    pub async fn nonce_insert(&self, nonce: &[u8; 32], expires: i64) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO identity_nonces (nonce_hash, expires_at) VALUES (?, ?)
             ON CONFLICT (nonce_hash) DO NOTHING",
        )
        .bind(&nonce[..])
        .bind(expires)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// The device a stored nonce was given to (None inside: not yet).
    pub async fn nonce_device(&self, nonce: &[u8; 32]) -> StoreResult<Option<Option<Vec<u8>>>> {
        Ok(
            sqlx::query_scalar("SELECT device_hash FROM identity_nonces WHERE nonce_hash = ?")
                .bind(&nonce[..])
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn nonce_bind(&self, nonce: &[u8; 32], device: &[u8; 32]) -> StoreResult<()> {
        sqlx::query(
            "UPDATE identity_nonces SET device_hash = COALESCE(device_hash, ?)
             WHERE nonce_hash = ?",
        )
        .bind(&device[..])
        .bind(&nonce[..])
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn nonce_release(&self, nonce: &[u8; 32]) -> StoreResult<()> {
        sqlx::query("DELETE FROM identity_nonces WHERE nonce_hash = ? AND device_hash IS NULL")
            .bind(&nonce[..])
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn nonce_sweep(&self, expired_before: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM identity_nonces WHERE expires_at < ?")
                .bind(expired_before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
