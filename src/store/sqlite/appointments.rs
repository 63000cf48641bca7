//! Appointments in SQLite. A booking inserts the appointment and one row per
//! five-minute block of the provider's time; the blocks' primary key makes a
//! double booking fail inside the database. Each booking runs in its own
//! savepoint, so a lost race fails only that booking, not the writer's batch.

use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use crate::patient::{Email, PhoneNumber};
use crate::store::batch::{booked, exactly_one};
use crate::store::rows::{self, AppointmentRow};
use crate::store::{About, Appointment, NewAppointment, NewOutbound, StoreError, StoreResult};
use crate::transcript;

/// Length of a provider-time block, in seconds.
const BLOCK_SECS: i64 = 5 * 60;

/// In the order of [`AppointmentRow`].
const COLUMNS: &str = "id, code, type_id, provider_id, location_id, starts_at, ends_at, patient_name, patient_dob, phone, email, contact, status, ics_token, lang";

pub(super) async fn book(
    tx: &mut Transaction<'_, Sqlite>,
    a: NewAppointment,
) -> Result<StoreResult<i64>, sqlx::Error> {
    sqlx::query("SAVEPOINT booking").execute(&mut **tx).await?;
    // A block already taken (a unique violation) is the lost race.
    let outcome = booked(insert(tx, &a).await, |e| e.is_unique_violation())?;
    if outcome.is_err() {
        sqlx::query("ROLLBACK TO booking")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("RELEASE booking").execute(&mut **tx).await?;
    Ok(outcome)
}

async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    a: &NewAppointment,
) -> Result<StoreResult<i64>, sqlx::Error> {
    if let Some(old) = a.replaces
        && cancel_in(tx, old).await? == 0
    {
        return Ok(Err(StoreError::NotFound));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO appointments (code, type_id, provider_id, location_id, starts_at, ends_at, patient_name,
         patient_dob, phone, email, contact, source, conversation_id, booked_by, ics_token, rescheduled_from, created_at, lang)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&a.code)
    .bind(&a.type_id)
    .bind(&a.provider)
    .bind(&a.location)
    .bind(a.starts_at)
    .bind(a.ends_at)
    .bind(a.patient.name.as_str())
    .bind(a.patient.dob.to_string())
    .bind(a.patient.phone.as_ref().map(PhoneNumber::as_str))
    .bind(a.patient.email.as_ref().map(Email::as_str))
    .bind(a.patient.contact.as_str())
    .bind(a.source)
    .bind(&a.conversation)
    .bind(a.booked_by)
    .bind(&a.ics_token)
    .bind(a.replaces)
    .bind(transcript::now())
    .bind(a.lang.as_str())
    .fetch_one(&mut **tx)
    .await?;
    let mut block = a.starts_at.div_euclid(BLOCK_SECS);
    while block * BLOCK_SECS < a.ends_at {
        sqlx::query(
            "INSERT INTO provider_blocks (provider_id, block, appointment_id) VALUES (?, ?, ?)",
        )
        .bind(&a.provider)
        .bind(block)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        block += 1;
    }
    if let Some(confirm) = &a.confirm {
        super::outbox::insert(&mut **tx, About::Appointment(id), confirm).await?;
    }
    Ok(Ok(id))
}

async fn cancel_in(tx: &mut Transaction<'_, Sqlite>, id: i64) -> Result<u64, sqlx::Error> {
    let changed = sqlx::query("UPDATE appointments SET status = 'cancelled', cancelled_at = ? WHERE id = ? AND status = 'booked'")
        .bind(transcript::now())
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM provider_blocks WHERE appointment_id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(changed)
}

/// Cancels a booked appointment; its message to the patient, if any, is
/// written with the cancellation and only if it happened.
pub(super) async fn cancel(
    tx: &mut Transaction<'_, Sqlite>,
    id: i64,
    notify: Option<&NewOutbound>,
) -> Result<StoreResult<()>, sqlx::Error> {
    let changed = cancel_in(tx, id).await?;
    if changed == 1
        && let Some(notice) = notify
    {
        super::outbox::insert(&mut **tx, About::Appointment(id), notice).await?;
    }
    Ok(exactly_one(changed))
}

impl SqliteStore {
    /// Booked time of the given providers that overlaps [from, to).
    pub async fn busy(&self, from: i64, to: i64) -> StoreResult<Vec<(String, i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT provider_id, starts_at, ends_at FROM appointments
             WHERE status = 'booked' AND starts_at < ? AND ends_at > ?",
        )
        .bind(to)
        .bind(from)
        .fetch_all(self.pool())
        .await?)
    }

    /// Booked appointments starting in (`from`, `until`] whose patient chose
    /// e-mail or text and that have no reminder yet, each with when it was
    /// booked (Unix seconds).
    pub async fn appointments_to_remind(
        &self,
        from: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<(Appointment, i64)>> {
        let found: Vec<rows::RemindRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, CAST(unixepoch(created_at) AS INTEGER) FROM appointments a
             WHERE status = 'booked' AND starts_at > ? AND starts_at <= ?
               AND contact IN ('email', 'text')
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.appointment_id = a.id AND o.kind = 'reminder')
             ORDER BY starts_at LIMIT ?"
        ))
        .bind(from)
        .bind(until)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        found.into_iter().map(rows::to_remind).collect()
    }

    pub async fn appointment_by_id(&self, id: i64) -> StoreResult<Option<Appointment>> {
        let row: Option<AppointmentRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM appointments WHERE id = ?"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.map(rows::appointment).transpose()
    }

    pub async fn appointment_by_code(&self, code: &str) -> StoreResult<Option<Appointment>> {
        let row: Option<AppointmentRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM appointments WHERE code = ?"
        ))
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        row.map(rows::appointment).transpose()
    }

    /// Chat bookings (not reschedules) made since `since`: by the
    /// conversation's visitor, and by the phone or email given.
    pub async fn chat_bookings_since(
        &self,
        since: &str,
        conversation: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<(i64, i64)> {
        let by_visitor: i64 = match conversation {
            None => 0,
            Some(c) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM appointments a JOIN conversations c ON c.id = a.conversation_id
                     WHERE a.source = 'chat' AND a.rescheduled_from IS NULL AND a.created_at >= ?1
                       AND c.visitor_id = (SELECT visitor_id FROM conversations WHERE id = ?2)",
                )
                .bind(since)
                .bind(c)
                .fetch_one(self.pool())
                .await?
            }
        };
        let by_contact: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments
             WHERE source = 'chat' AND rescheduled_from IS NULL AND created_at >= ?1
               AND ((?2 IS NOT NULL AND phone = ?2) OR (?3 IS NOT NULL AND email = ?3))",
        )
        .bind(since)
        .bind(phone)
        .bind(email)
        .fetch_one(self.pool())
        .await?;
        Ok((by_visitor, by_contact))
    }

    /// Booked appointments from `from` on, soonest first, for the console.
    pub async fn upcoming_appointments(
        &self,
        from: i64,
        limit: i64,
    ) -> StoreResult<Vec<Appointment>> {
        let rows: Vec<AppointmentRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM appointments WHERE status = 'booked' AND starts_at >= ? ORDER BY starts_at LIMIT ?"
        ))
        .bind(from)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(rows::appointment).collect()
    }
}
