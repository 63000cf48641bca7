//! The agent console's server side: the `/console/ws` socket (its own wire
//! protocol) and the HTTP API the console page uses. Access follows the
//! minimum-necessary rule: editors read no transcripts; agents read chats in
//! the queue, held by them, or handled by them; supervisors and admins all.

mod actions;
mod api;
mod connection;
pub mod protocol;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use crate::http::HttpError;
use crate::http::auth::token_from;
use crate::ids::ConversationId;
use crate::queue::Handoff;
use crate::staff::sessions::StaffSession;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/ws", get(upgrade))
        .merge(api::routes())
}

async fn upgrade(
    State(state): State<AppState>,
    session: StaffSession,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, HttpError> {
    if !session.role.handles_chats() {
        return Err(HttpError::Forbidden("editors do not work chats"));
    }
    if !crate::http::same_origin(&state, &headers) {
        return Err(HttpError::Forbidden(
            "the console socket only accepts this server's own pages",
        ));
    }
    let token = token_from(&headers, crate::http::auth::is_https(&state, &headers))
        .ok_or(HttpError::Unauthorized)?;
    Ok(ws
        .max_message_size(state.settings.limits.max_frame_bytes)
        .on_upgrade(move |socket| connection::run(socket, state, session, token)))
}

/// Whether this staff member may read the conversation's transcript.
pub(crate) async fn may_read(
    state: &AppState,
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
