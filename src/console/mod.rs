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
use axum::http::{HeaderMap, header};
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
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if !same_origin(header(header::ORIGIN), header(header::HOST)) {
        return Err(HttpError::Forbidden(
            "the console socket only accepts this server's own pages",
        ));
    }
    let token = token_from(&headers).ok_or(HttpError::Unauthorized)?;
    Ok(ws
        .max_message_size(state.settings.limits.max_frame_bytes)
        .on_upgrade(move |socket| connection::run(socket, state, session, token)))
}

/// The Origin is this server (or absent: not a browser).
fn same_origin(origin: Option<&str>, host: Option<&str>) -> bool {
    match origin {
        None => true,
        Some(origin) => {
            let authority = origin
                .split_once("://")
                .map(|(_, a)| a.trim_end_matches('/'));
            matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_own_pages_may_open_the_console_socket() {
        assert!(same_origin(None, Some("desk.example")));
        assert!(same_origin(
            Some("https://desk.example"),
            Some("desk.example")
        ));
        assert!(!same_origin(
            Some("http://localhost:3000"),
            Some("desk.example")
        ));
        assert!(!same_origin(Some("null"), Some("desk.example")));
    }
}
