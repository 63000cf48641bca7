//! Console sessions in PostgreSQL: straight to the pool, like accounts.

use super::PostgresStore;
use crate::accounts::StaffId;
use crate::store::rows::{self, SessionRow};
use crate::store::{StoreResult, StoredSession};
use crate::transcript;

impl PostgresStore {
    pub async fn create_session(&self, digest: &[u8; 32], staff: StaffId) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen)
             VALUES ($1, $2, $3::timestamptz, $3::timestamptz)",
        )
        .bind(&digest[..])
        .bind(staff.0)
        .bind(transcript::now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn session(&self, digest: &[u8; 32]) -> StoreResult<Option<StoredSession>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.id, s.name, s.role, s.disabled, rfc3339(k.created_at), rfc3339(k.last_seen)
             FROM staff_sessions k JOIN staff s ON s.id = k.staff_id WHERE k.token_hash = $1",
        )
        .bind(&digest[..])
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(rows::stored_session))
    }

    pub async fn touch_session(&self, digest: &[u8; 32]) -> StoreResult<()> {
        sqlx::query("UPDATE staff_sessions SET last_seen = $1::timestamptz WHERE token_hash = $2")
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
            sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1 OR staff_id = $2")
                .bind(digest.map(|d| d.to_vec()))
                .bind(staff.map(|s| s.0))
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    pub async fn live_sessions(&self, digests: &[[u8; 32]]) -> StoreResult<Vec<[u8; 32]>> {
        let list: Vec<Vec<u8>> = digests.iter().map(|d| d.to_vec()).collect();
        let found: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT token_hash FROM staff_sessions WHERE token_hash = ANY($1)")
                .bind(&list)
                .fetch_all(self.pool())
                .await?;
        Ok(rows::digests(found))
    }

    pub async fn purge_sessions(
        &self,
        seen_before: &str,
        created_before: &str,
    ) -> StoreResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM staff_sessions WHERE last_seen < $1::timestamptz OR created_at < $2::timestamptz",
        )
        .bind(seen_before)
        .bind(created_before)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Inserts a new nonce; false when it is already there.
    pub async fn nonce_insert(&self, nonce: &[u8; 32], expires: i64) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO identity_nonces (nonce_hash, expires_at) VALUES ($1, $2)
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
            sqlx::query_scalar("SELECT device_hash FROM identity_nonces WHERE nonce_hash = $1")
                .bind(&nonce[..])
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn nonce_bind(&self, nonce: &[u8; 32], device: &[u8; 32]) -> StoreResult<()> {
        sqlx::query(
            "UPDATE identity_nonces SET device_hash = COALESCE(device_hash, $1)
             WHERE nonce_hash = $2",
        )
        .bind(&device[..])
        .bind(&nonce[..])
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn nonce_release(&self, nonce: &[u8; 32]) -> StoreResult<()> {
        sqlx::query("DELETE FROM identity_nonces WHERE nonce_hash = $1 AND device_hash IS NULL")
            .bind(&nonce[..])
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn nonce_sweep(&self, expired_before: i64) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM identity_nonces WHERE expires_at < $1")
                .bind(expired_before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
