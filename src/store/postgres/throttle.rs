//! Throttle counts in PostgreSQL. Each key is counted under a transaction
//! advisory lock on its hash (taken in key order), so two nodes cannot both
//! pass a full key.

use super::PostgresStore;
use crate::store::StoreResult;
use crate::transcript;

impl PostgresStore {
    pub async fn throttle_take(
        &self,
        keys: &[(String, i64)],
        window_start: &str,
    ) -> StoreResult<Result<Vec<i64>, String>> {
        let mut tx = self.pool().begin().await?;
        let mut ordered: Vec<&(String, i64)> = keys.iter().collect();
        ordered.sort();
        for (key, _) in &ordered {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        // Every key's old rows, not only these keys': the table holds one
        // window of failures, however many names and addresses tried.
        sqlx::query("DELETE FROM throttle_failures WHERE at < $1::timestamptz")
            .bind(window_start)
            .execute(&mut *tx)
            .await?;
        for (key, limit) in keys {
            let full: Option<String> = sqlx::query_scalar(
                "SELECT rfc3339(at) FROM throttle_failures WHERE key = $1
                 ORDER BY at DESC LIMIT 1 OFFSET $2",
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
        let mut ids = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            ids.push(
                sqlx::query_scalar(
                    "INSERT INTO throttle_failures (key, at) VALUES ($1, $2::timestamptz) RETURNING id",
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
        sqlx::query("DELETE FROM throttle_failures WHERE key = $1 OR id = ANY($2)")
            .bind(key)
            .bind(ids)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
