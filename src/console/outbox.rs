//! Messages to patients that stayed failed, for supervisors and admins
//! (docs/protocol.md, "Console HTTP API"; the routes are in `mod.rs`):
//! `GET /api/outbox/failed` lists them with the recipient masked (enough
//! to recognise, not to read), and `POST /api/outbox/{id}/retry` puts one
//! back in line for the sender.
//!
//! Bounds: a page holds at most [`PAGE`] messages (`?before=` the last id
//! for the next). A retry takes only a failed message, which the sender
//! then tries as if new (a refusal fails it again, a delivery marks it
//! sent, and a sent message is never retried); a patient who opted out of
//! its channel is not retried at all. Both are audited; neither logs a
//! recipient.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::ConsoleState;
use crate::http::HttpError;
use crate::lang::Lang;
use crate::patient::Channel;
use crate::staff::sessions::StaffSession;
use crate::store::{OutboxEntry, OutboxStatus};

/// Most failed messages listed at once.
pub const PAGE: i64 = 200;

/// A failed message as the list shows it: never its words, and the
/// recipient masked.
#[derive(Serialize)]
pub(super) struct FailedView {
    id: i64,
    kind: &'static str,
    channel: Channel,
    recipient: String,
    lang: Lang,
    attempts: i64,
    last_error: Option<String>,
    /// RFC 3339, UTC.
    created_at: String,
    appointment: Option<String>,
}

impl From<OutboxEntry> for FailedView {
    fn from(e: OutboxEntry) -> Self {
        FailedView {
            id: e.id,
            kind: e.kind.as_str(),
            channel: e.channel,
            recipient: mask(e.channel, &e.recipient),
            lang: e.lang,
            attempts: e.attempts,
            last_error: e.last_error,
            created_at: jiff::Timestamp::from_second(e.created_at)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            appointment: e.appointment_code,
        }
    }
}

/// Enough of an address for a supervisor to recognise it: the last four
/// digits of a number (`…1234`), the first letter and the domain of an
/// e-mail address (`a…@example.com`).
fn mask(channel: Channel, recipient: &str) -> String {
    match channel {
        Channel::Email => {
            let (local, domain) = recipient.trim().rsplit_once('@').unwrap_or(("", ""));
            let first = local.chars().next().map(String::from).unwrap_or_default();
            format!("{first}…@{domain}")
        }
        Channel::Text | Channel::Phone => {
            let digits: Vec<char> = recipient.chars().filter(char::is_ascii_digit).collect();
            let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
            format!("…{last}")
        }
    }
}

/// Refuses (403, audited) staff who do not oversee the front desk.
async fn require_supervisor(
    state: &ConsoleState,
    session: &StaffSession,
    action: &str,
    target: &str,
) -> Result<(), HttpError> {
    if session.role.supervises() {
        return Ok(());
    }
    session.audit(&state.writer, action, target, false).await?;
    Err(HttpError::Forbidden(
        "failed messages are for supervisors and admins",
    ))
}

/// `?before=ID`: the page of failed messages older than that one.
#[derive(Deserialize)]
pub(super) struct FailedQuery {
    before: Option<i64>,
}

pub(super) async fn failed(
    State(state): State<ConsoleState>,
    session: StaffSession,
    query: Result<Query<FailedQuery>, QueryRejection>,
) -> Result<Json<Vec<FailedView>>, HttpError> {
    require_supervisor(&state, &session, "outbox.list", "failed").await?;
    let Query(q) = query?;
    if q.before.is_some_and(|b| b < 1) {
        return Err(HttpError::BadRequest(
            "before is a message id (a positive number)".into(),
        ));
    }
    // The list shows parts of patients' addresses: reading it is audited.
    session
        .audit(&state.writer, "outbox.list", "failed", true)
        .await?;
    let found = state.store.outbox_failed(q.before, PAGE).await?;
    Ok(Json(found.into_iter().map(FailedView::from).collect()))
}

pub(super) async fn retry(
    State(state): State<ConsoleState>,
    session: StaffSession,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, HttpError> {
    let target = id
        .as_ref()
        .map_or_else(|_| "-".to_owned(), |Path(id)| id.to_string());
    require_supervisor(&state, &session, "outbox.retry", &target).await?;
    let Path(id) = id.map_err(|_| HttpError::BadRequest("a message id is a number".into()))?;
    let found = state
        .store
        .outbox_entry(id)
        .await?
        .ok_or(HttpError::NotFound)?;
    if found.status != OutboxStatus::Failed {
        return Err(HttpError::Conflict(
            "only a message that failed can be retried; this one is sent or waiting to be sent",
        ));
    }
    let opted_out = state
        .store
        .opted_out_of(&[(found.channel, found.recipient.as_str())])
        .await?;
    if opted_out.first() == Some(&true) {
        return Err(HttpError::Conflict(match found.channel {
            Channel::Email => "the patient unsubscribed from e-mail; this message cannot be sent",
            _ => "the patient texted STOP; no text can be sent to this number",
        }));
    }
    session
        .audit(&state.writer, "outbox.retry", &id.to_string(), true)
        .await?;
    let now = jiff::Timestamp::now().as_second();
    if !state.store.outbox_retry(id, now).await? {
        return Err(HttpError::Conflict(
            "someone else retried this message a moment ago",
        ));
    }
    tracing::info!(
        outbox_id = id,
        staff = session.staff.0,
        "failed message retried"
    );
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_masked_to_what_recognises_them() {
        assert_eq!(mask(Channel::Text, "(555) 010-1234"), "…1234");
        assert_eq!(
            mask(Channel::Email, "Ana.Ruiz@example.com"),
            "A…@example.com"
        );
        assert_eq!(mask(Channel::Text, "12"), "…12");
        assert_eq!(mask(Channel::Email, "not an address"), "…@");
    }
}
