//! Staff accounts in SQLite. Account changes are rare and small, so they go
//! straight to the pool rather than through the message writer.

use super::SqliteStore;
use crate::accounts::{Account, Role, StaffId};
use crate::store::rows::{self, StaffRow};
use crate::store::{StoreError, StoreResult};
use crate::transcript;

/// In the order of [`StaffRow`].
const COLUMNS: &str = "id, name, role, password_hash, disabled, created_at";

impl SqliteStore {
    pub async fn create_staff(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> StoreResult<StaffId> {
        let result = sqlx::query_scalar(
            "INSERT INTO staff (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(transcript::now())
        .fetch_one(self.pool())
        .await;
        rows::created_staff(result)
    }

    pub async fn staff_by_name(&self, name: &str) -> StoreResult<Option<Account>> {
        let row: Option<StaffRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff WHERE name = ?"))
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        row.map(rows::account).transpose()
    }

    pub async fn staff_by_id(&self, id: StaffId) -> StoreResult<Option<Account>> {
        let row: Option<StaffRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff WHERE id = ?"))
                .bind(id.0)
                .fetch_optional(self.pool())
                .await?;
        row.map(rows::account).transpose()
    }

    pub async fn list_staff(&self) -> StoreResult<Vec<Account>> {
        let rows: Vec<StaffRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff ORDER BY name"))
                .fetch_all(self.pool())
                .await?;
        rows.into_iter().map(rows::account).collect()
    }

    pub async fn set_staff_disabled(&self, name: &str, disabled: bool) -> StoreResult<StaffId> {
        let id: Option<i64> =
            sqlx::query_scalar("UPDATE staff SET disabled = ? WHERE name = ? RETURNING id")
                .bind(disabled)
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        id.map(StaffId).ok_or(StoreError::NotFound)
    }

    pub async fn count_staff(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM staff")
            .fetch_one(self.pool())
            .await?)
    }
}
