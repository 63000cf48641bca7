//! Appointments in PostgreSQL. Double booking is refused by the exclusion
//! constraint `appointments_no_double_booking` (no two booked appointments
//! of one provider overlap), so it fails inside the database whatever the
//! application checked before. Each booking runs in its own savepoint, so a
//! lost race fails only that booking, not the writer's batch.

use sqlx::{Postgres, Transaction};

use super::PostgresStore;
use crate::patient::{Email, PhoneNumber};
use crate::store::batch::{booked, exactly_one};
use crate::store::rows::{self, AppointmentRow};
use crate::store::{About, Appointment, NewAppointment, NewOutbound, StoreError, StoreResult};
use crate::transcript;

/// SQLSTATE of an exclusion constraint violation (a double booking).
const EXCLUSION_VIOLATION: &str = "23P01";

/// In the order of [`AppointmentRow`]: times as the unix seconds and the
/// birth date as the `YYYY-MM-DD` text the rest of the server uses.
const COLUMNS: &str = "id, code, type_id, provider_id, location_id,
    extract(epoch from starts_at)::bigint, extract(epoch from ends_at)::bigint, patient_name,
    to_char(patient_dob, 'YYYY-MM-DD'), phone, email, contact, status, ics_token, lang";

pub(super) async fn book(
    tx: &mut Transaction<'_, Postgres>,
    a: NewAppointment,
) -> Result<StoreResult<i64>, sqlx::Error> {
    sqlx::query("SAVEPOINT booking").execute(&mut **tx).await?;
    let outcome = booked(insert(tx, &a).await, |e| {
        e.is_unique_violation() || e.code().as_deref() == Some(EXCLUSION_VIOLATION)
    })?;
    if outcome.is_err() {
        // A failed statement aborts the transaction until this rollback.
        sqlx::query("ROLLBACK TO SAVEPOINT booking")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("RELEASE SAVEPOINT booking")
        .execute(&mut **tx)
        .await?;
    Ok(outcome)
}

async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    a: &NewAppointment,
) -> Result<StoreResult<i64>, sqlx::Error> {
    // Cancelled first, so the new time may overlap the old one.
    if let Some(old) = a.replaces
        && cancel_in(tx, old).await? == 0
    {
        return Ok(Err(StoreError::NotFound));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO appointments (code, type_id, provider_id, location_id, starts_at, ends_at, patient_name,
         patient_dob, phone, email, contact, source, conversation_id, booked_by, ics_token, rescheduled_from, created_at, lang)
         VALUES ($1, $2, $3, $4, to_timestamp($5), to_timestamp($6), $7, $8::date, $9, $10, $11, $12, $13, $14, $15, $16,
         $17::timestamptz, $18) RETURNING id",
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
    if let Some(confirm) = &a.confirm {
        super::outbox::insert(&mut **tx, About::Appointment(id), confirm).await?;
    }
    Ok(Ok(id))
}

async fn cancel_in(tx: &mut Transaction<'_, Postgres>, id: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE appointments SET status = 'cancelled', cancelled_at = $1::timestamptz
         WHERE id = $2 AND status = 'booked'",
    )
    .bind(transcript::now())
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Cancels a booked appointment; its message to the patient, if any, is
/// written with the cancellation and only if it happened.
pub(super) async fn cancel(
    tx: &mut Transaction<'_, Postgres>,
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

impl PostgresStore {
    /// Booked time of the given providers that overlaps [from, to).
    pub async fn busy(&self, from: i64, to: i64) -> StoreResult<Vec<(String, i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT provider_id, extract(epoch from starts_at)::bigint, extract(epoch from ends_at)::bigint
             FROM appointments
             WHERE status = 'booked' AND starts_at < to_timestamp($1) AND ends_at > to_timestamp($2)",
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
        "SELECT {COLUMNS}, extract(epoch from created_at)::bigint FROM appointments a
             WHERE status = 'booked' AND starts_at > to_timestamp($1) AND starts_at <= to_timestamp($2)
               AND contact IN ('email', 'text')
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.appointment_id = a.id AND o.kind = 'reminder')
             ORDER BY starts_at LIMIT $3"
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
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM appointments WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.map(rows::appointment).transpose()
    }

    pub async fn appointment_by_code(&self, code: &str) -> StoreResult<Option<Appointment>> {
        let row: Option<AppointmentRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM appointments WHERE code = $1"
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
                     WHERE a.source = 'chat' AND a.rescheduled_from IS NULL AND a.created_at >= $1::timestamptz
                       AND c.visitor_id = (SELECT visitor_id FROM conversations WHERE id = $2)",
                )
                .bind(since)
                .bind(c)
                .fetch_one(self.pool())
                .await?
            }
        };
        let by_contact: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments
             WHERE source = 'chat' AND rescheduled_from IS NULL AND created_at >= $1::timestamptz
               AND (($2::text IS NOT NULL AND phone = $2) OR ($3::text IS NOT NULL AND email = $3))",
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
            "SELECT {COLUMNS} FROM appointments WHERE status = 'booked' AND starts_at >= to_timestamp($1)
             ORDER BY starts_at LIMIT $2"
        ))
        .bind(from)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(rows::appointment).collect()
    }
}
