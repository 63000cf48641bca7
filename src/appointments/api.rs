//! The appointments JSON API (docs/appointments.md): appointment types and
//! open slots for anyone, booking and cancelling for signed-in staff, and
//! the patient's calendar file behind a secret link.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{BookError, Slot, SlotId, Source};
use crate::clinic::Clinic;
use crate::http::{Gate, HttpError};
use crate::lang::Lang;
use crate::patient::{BirthDate, Channel, DateProblem, Email, Patient, PatientName, PhoneNumber};
use crate::staff::sessions::StaffSession;
use crate::store::Appointment;

const MAX_DAYS: u32 = 60;
const MAX_SLOTS: usize = 200;

/// The handles the appointments API uses.
#[derive(Clone)]
pub struct AppointmentsState {
    pub scheduler: std::sync::Arc<super::Scheduler>,
    pub writer: crate::store::Writer,
    /// Whether patients opted out of the channel they chose.
    pub store: crate::store::Store,
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Gate: FromRef<S>,
    AppointmentsState: FromRef<S>,
{
    Router::new()
        .route("/api/appointment-types", get(types))
        .route("/api/slots", get(slots))
        .route("/api/appointments", get(upcoming).post(book))
        .route("/api/appointments/{code}", get(one).delete(cancel))
        .route("/calendar/{file}", get(calendar))
}

#[derive(Serialize)]
struct TypeView {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_es: Option<String>,
    duration_min: u32,
    new_patients_only: bool,
    providers: Vec<serde_json::Value>,
}

async fn types(State(state): State<AppointmentsState>) -> Json<Vec<TypeView>> {
    let clinic = state.scheduler.clinic();
    Json(
        clinic
            .schedule
            .types
            .iter()
            .map(|t| TypeView {
                id: t.id.clone(),
                name: t.name.clone(),
                name_es: t.name_es.clone(),
                duration_min: t.duration_min,
                new_patients_only: t.new_patients_only,
                providers: t
                    .providers
                    .iter()
                    .filter_map(|p| clinic.schedule.provider(p))
                    .map(|p| json!({"id": p.id, "name": p.name}))
                    .collect(),
            })
            .collect(),
    )
}

#[derive(Deserialize)]
struct SlotQuery {
    #[serde(rename = "type")]
    kind: String,
    from: Option<String>,
    days: Option<u32>,
    provider: Option<String>,
    location: Option<String>,
}

#[derive(Serialize)]
pub struct SlotView {
    id: String,
    provider: String,
    location: String,
    /// RFC 3339 with the clinic's offset.
    start: String,
    end: String,
}

fn rfc3339(clinic: &Clinic, t: Timestamp) -> String {
    t.to_zoned(clinic.timezone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn slot_view(clinic: &Clinic, s: &Slot) -> SlotView {
    SlotView {
        id: s.id.to_string(),
        provider: s.id.provider.clone(),
        location: s.id.location.clone(),
        start: rfc3339(clinic, s.start),
        end: rfc3339(clinic, s.end),
    }
}

async fn slots(
    State(state): State<AppointmentsState>,
    query: Result<Query<SlotQuery>, QueryRejection>,
) -> Result<Json<Vec<SlotView>>, HttpError> {
    let Query(q) = query?;
    let clinic = state.scheduler.clinic();
    if clinic.schedule.appointment_type(&q.kind).is_none() {
        return Err(HttpError::BadRequest(format!(
            "unknown appointment type {:?}",
            q.kind
        )));
    }
    let from = q
        .from
        .as_deref()
        .map(|d| {
            d.parse::<Date>()
                .map_err(|_| HttpError::BadRequest("from must be YYYY-MM-DD".into()))
        })
        .transpose()?;
    let days = q.days.unwrap_or(7);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(HttpError::BadRequest(format!(
            "days must be 1 to {MAX_DAYS}"
        )));
    }
    let filter = super::Filter {
        provider: q.provider,
        location: q.location,
        ..Default::default()
    };
    let found = state
        .scheduler
        .open_slots(&q.kind, from, days, &filter, MAX_SLOTS)
        .await?;
    Ok(Json(found.iter().map(|s| slot_view(&clinic, s)).collect()))
}

#[derive(Deserialize)]
struct BookRequest {
    slot: String,
    patient: PatientInput,
}

#[derive(Deserialize)]
struct PatientInput {
    name: String,
    dob: String,
    phone: Option<String>,
    email: Option<String>,
    contact: String,
    /// The language of the confirmation sent to the patient: `en` (the
    /// default) or `es`.
    lang: Option<String>,
}

/// Checks a patient's details with the types the chat flow uses.
fn patient(p: PatientInput) -> Result<Patient, HttpError> {
    let bad = |m: &str| HttpError::BadRequest(m.to_owned());
    let name = PatientName::parse(&p.name)
        .map_err(|_| bad("patient.name is required (up to 120 characters)"))?;
    let dob = BirthDate::parse(&p.dob).map_err(|problem| match problem {
        DateProblem::Unreadable | DateProblem::Impossible => bad("patient.dob must be YYYY-MM-DD"),
        DateProblem::InTheFuture | DateProblem::TooLongAgo => {
            bad("patient.dob must be a past date")
        }
    })?;
    let contact = Channel::parse(&p.contact)
        .map_err(|_| bad("patient.contact must be phone, text or email"))?;
    let phone = p
        .phone
        .map(|x| PhoneNumber::parse(&x).map_err(|_| bad("patient.phone is not a phone number")))
        .transpose()?;
    let email = p
        .email
        .map(|x| Email::parse(&x).map_err(|_| bad("patient.email is not an email address")))
        .transpose()?;
    let patient = Patient {
        name,
        dob,
        phone,
        email,
        contact,
    };
    if !patient.reachable() {
        return Err(bad(match contact {
            Channel::Email => "contact by email needs patient.email",
            Channel::Phone | Channel::Text => "contact by phone or text needs patient.phone",
        }));
    }
    Ok(patient)
}

async fn book(
    State(state): State<AppointmentsState>,
    session: StaffSession,
    body: Result<Json<BookRequest>, JsonRejection>,
) -> Result<Response, HttpError> {
    session.require_chat_role()?;
    let Json(req) = body?;
    // Validated before it is audited: the log records slot ids, not
    // whatever a client sent.
    let slot: SlotId = req
        .slot
        .parse()
        .map_err(|_| HttpError::BadRequest("slot is not a slot id".into()))?;
    session
        .audit(&state.writer, "appointment.create", &slot.to_string(), true)
        .await?;
    let lang = match req.patient.lang.as_deref() {
        None => Lang::En,
        Some(code) => code
            .parse()
            .map_err(|_| HttpError::BadRequest("patient.lang must be en or es".into()))?,
    };
    let patient = patient(req.patient)?;
    let clinic = state.scheduler.clinic();
    match state
        .scheduler
        .book(&slot, &patient, Source::Agent(session.staff.0), None, lang)
        .await
    {
        Ok(booked) => {
            let body = json!({
                "code": booked.code,
                "slot": slot_view(&clinic, &booked.slot),
                "calendar": format!("/calendar/{}-{}.ics", booked.code, booked.ics_token),
            });
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        Err(BookError::Taken | BookError::NotOffered) => {
            // The slot went meanwhile: say so, and offer what is open now.
            let filter = super::Filter::default();
            let alternatives = state
                .scheduler
                .open_slots(&slot.type_id, None, 14, &filter, 5)
                .await?;
            let body = json!({
                "error": "conflict",
                "message": "That time is no longer available.",
                "alternatives": alternatives.iter().map(|s| slot_view(&clinic, s)).collect::<Vec<_>>(),
            });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(BookError::NotFound) => Err(HttpError::NotFound),
        // Staff bookings are never limited; kept total for the match.
        Err(BookError::Limit) => Err(HttpError::TooManyRequests(std::time::Duration::from_secs(
            60 * 60,
        ))),
        Err(BookError::Store(e)) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct AppointmentView {
    #[serde(flatten)]
    appointment: Appointment,
    start: String,
    end: String,
    /// The patient opted out of the channel they chose (texted STOP, or
    /// unsubscribed from e-mail): messages about it are not sent.
    opted_out: bool,
}

fn appointment_view(clinic: &Clinic, a: Appointment, opted_out: bool) -> AppointmentView {
    let at = |s| {
        Timestamp::from_second(s)
            .map(|t| rfc3339(clinic, t))
            .unwrap_or_default()
    };
    AppointmentView {
        start: at(a.starts_at),
        end: at(a.ends_at),
        appointment: a,
        opted_out,
    }
}

/// Each appointment's view, with whether its patient opted out of the
/// channel they chose (one look-up for the whole list).
async fn views(
    state: &AppointmentsState,
    list: Vec<Appointment>,
) -> Result<Vec<AppointmentView>, HttpError> {
    let contacts: Vec<(Channel, &str)> = list
        .iter()
        .map(|a| (a.patient.contact, a.patient.address().unwrap_or_default()))
        .collect();
    let opted_out = state.store.opted_out_of(&contacts).await?;
    let clinic = state.scheduler.clinic();
    Ok(list
        .into_iter()
        .zip(opted_out)
        .map(|(a, out)| appointment_view(&clinic, a, out))
        .collect())
}

async fn upcoming(
    State(state): State<AppointmentsState>,
    session: StaffSession,
) -> Result<Json<Vec<AppointmentView>>, HttpError> {
    session.require_chat_role()?;
    session
        .audit(&state.writer, "appointment.list", "upcoming", true)
        .await?;
    let list = state.scheduler.upcoming(200).await?;
    Ok(Json(views(&state, list).await?))
}

/// The appointment with `code` for a staff action: refusals and accesses
/// alike are audited, then the lookup (404 when there is none).
async fn audited_lookup(
    state: &AppointmentsState,
    session: &StaffSession,
    action: &str,
    code: &str,
) -> Result<Appointment, HttpError> {
    let code = super::normalize_code(code);
    if let Err(refused) = session.require_chat_role() {
        session.audit(&state.writer, action, &code, false).await?;
        return Err(refused);
    }
    session.audit(&state.writer, action, &code, true).await?;
    state
        .scheduler
        .by_code(&code)
        .await?
        .ok_or(HttpError::NotFound)
}

async fn one(
    State(state): State<AppointmentsState>,
    session: StaffSession,
    code: Result<Path<String>, PathRejection>,
) -> Result<Json<AppointmentView>, HttpError> {
    let Path(code) = code?;
    let found = audited_lookup(&state, &session, "appointment.view", &code).await?;
    let mut one = views(&state, vec![found]).await?;
    Ok(Json(one.pop().ok_or(HttpError::NotFound)?))
}

async fn cancel(
    State(state): State<AppointmentsState>,
    session: StaffSession,
    code: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, HttpError> {
    let Path(code) = code?;
    let found = audited_lookup(&state, &session, "appointment.cancel", &code).await?;
    if !found.booked {
        return Err(HttpError::NotFound);
    }
    match state.scheduler.cancel(&found).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(BookError::NotFound) => Err(HttpError::NotFound),
        Err(BookError::Store(e)) => Err(e.into()),
        Err(_) => Err(HttpError::Conflict(
            "the appointment could not be cancelled",
        )),
    }
}

/// `/calendar/<code>-<token>.ics`: the token is the secret part, so the
/// link works for the patient without a sign-in and for no one else.
async fn calendar(
    State(state): State<AppointmentsState>,
    file: Result<Path<String>, PathRejection>,
) -> Result<Response, HttpError> {
    let Path(file) = file?;
    let stem = file.strip_suffix(".ics").ok_or(HttpError::NotFound)?;
    let (code, token) = stem.split_once('-').ok_or(HttpError::NotFound)?;
    let found = state
        .scheduler
        .by_code(code)
        .await?
        .filter(|a| a.booked && a.ics_token == token)
        .ok_or(HttpError::NotFound)?;
    let body = super::ics::render(&state.scheduler.clinic(), &found);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"appointment.ics\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
