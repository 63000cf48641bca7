//! The agent console's server side: the `/console/ws` socket (its own wire
//! protocol) and the HTTP API the console page uses. Access follows the
//! minimum-necessary rule: editors read no transcripts; agents read chats in
//! the queue, held by them, or handled by them; supervisors and admins all.
//! Supervisors and admins also see the messages to patients that failed,
//! and retry them (`outbox`).

mod actions;
mod api;
mod connection;
mod outbox;
pub mod protocol;

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use crate::http::auth::token_from;
use crate::http::{Gate, HttpError};
use crate::ids::ConversationId;
use crate::queue::Handoff;
use crate::staff::sessions::StaffSession;

/// The handles the console's socket and API use.
#[derive(Clone)]
pub struct ConsoleState {
    pub settings: Arc<crate::config::Settings>,
    pub store: crate::store::Store,
    pub writer: crate::store::Writer,
    pub engine: Arc<crate::dialog::Engine>,
    pub scheduler: Arc<crate::appointments::Scheduler>,
    pub hub: Arc<crate::queue::Hub>,
    pub sessions: Arc<crate::staff::sessions::Sessions>,
    pub metrics: Arc<crate::insights::metrics::Metrics>,
    /// Flips to `true` once when the server starts shutting down.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Held by every connection task; shutdown waits until all are dropped.
    pub drain: tokio::sync::mpsc::Sender<()>,
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Gate: FromRef<S>,
    ConsoleState: FromRef<S>,
{
    Router::new()
        .route("/console/ws", get(upgrade))
        .route("/api/outbox/failed", get(outbox::failed))
        .route("/api/outbox/{id}/retry", post(outbox::retry))
        .merge(api::routes())
}

async fn upgrade(
    State(state): State<ConsoleState>,
    session: StaffSession,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, HttpError> {
    if !session.role.handles_chats() {
        return Err(HttpError::Forbidden("editors do not work chats"));
    }
    if !crate::http::same_origin(&state.settings, &headers) {
        return Err(HttpError::Forbidden(
            "the console socket only accepts this server's own pages",
        ));
    }
    let token = token_from(
        &headers,
        crate::http::auth::is_https(&state.settings, &headers),
    )
    .ok_or(HttpError::Unauthorized)?;
    Ok(ws
        .max_message_size(state.settings.limits.max_frame_bytes)
        .on_upgrade(move |socket| connection::run(socket, state, session, token)))
}

/// Whether this staff member may read the conversation's transcript.
pub(crate) async fn may_read(
    state: &ConsoleState,
    session: &StaffSession,
    id: &ConversationId,
) -> Result<bool, HttpError> {
    if session.role.reads_all_transcripts() {
        return Ok(true);
    }
    if !session.role.handles_chats() {
        return Ok(false);
    }
    match state.hub.handoff(id) {
        Handoff::Queued { .. } => return Ok(true),
        Handoff::Assigned { agent, .. } if agent == session.staff => return Ok(true),
        _ => {}
    }
    Ok(state.store.handled_by(id, session.staff).await?)
}
