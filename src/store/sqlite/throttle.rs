//! Throttle counts in SQLite. `BEGIN IMMEDIATE` takes the write lock before
//! counting, so two servers (or two requests) cannot both pass a full key.

use sqlx::Connection;

use super::SqliteStore;
use crate::store::StoreResult;
use crate::transcript;

impl SqliteStore {
    pub async fn throttle_take(
        &self,
        keys: &[(String, i64)],
        window_start: &str,
    ) -> StoreResult<Result<Vec<i64>, String>> {
        let mut conn = self.pool().acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let mut ids = Vec::with_capacity(keys.len());
        // Every key's old rows, not only these keys': the table holds one
        // window of failures, however many names and addresses tried.
        sqlx::query("DELETE FROM throttle_failures WHERE at < ?")
            .bind(window_start)
            .execute(&mut *tx)
            .await?;
        for (key, limit) in keys {
            // The limit-th newest failure, if there are that many.
            let full: Option<String> = sqlx::query_scalar(
                "SELECT at FROM throttle_failures WHERE key = ? ORDER BY at DESC LIMIT 1 OFFSET ?",
            )
            .bind(key)
            .bind(limit - 1)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(at) = full {
                tx.rollback().await?;
                return Ok(Err(at));
            }
        }
        let now = transcript::now();
        for (key, _) in keys {
            ids.push(
                sqlx::query_scalar(
                    "INSERT INTO throttle_failures (key, at) VALUES (?, ?) RETURNING id",
                )
                .bind(key)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?,
            );
        }
        tx.commit().await?;
        Ok(Ok(ids))
    }

    pub async fn throttle_forgive(&self, key: &str, ids: &[i64]) -> StoreResult<()> {
        sqlx::query("DELETE FROM throttle_failures WHERE key = ?")
            .bind(key)
            .execute(self.pool())
            .await?;
        for id in ids {
            sqlx::query("DELETE FROM throttle_failures WHERE id = ?")
                .bind(id)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }
}
