//! The patient chat: the `/chat` WebSocket, its wire protocol and the life of
//! each connection. Only this module knows the wire format.

mod connection;
mod handoff;
pub mod identity;
pub mod origin;
pub mod per_address;
pub mod protocol;
mod rate;
mod session;
mod turn;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;

use crate::http::HttpError;
use crate::state::AppState;

/// Socket buffer sizes: small, so ten thousand idle patients cost little
/// memory; the write buffer cap bounds what a slow reader can pile up.
const READ_BUFFER_BYTES: usize = 4 * 1024;
const WRITE_BUFFER_BYTES: usize = 4 * 1024;
const MAX_WRITE_BUFFER_BYTES: usize = 256 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new().route("/chat", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    client: crate::http::client::ClientAddress,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, HttpError> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if !state
        .origins
        .allows(header(header::ORIGIN), header(header::HOST))
    {
        tracing::info!("chat upgrade refused: origin not allowed");
        return Err(HttpError::Forbidden("this origin may not open a chat"));
    }
    let per_address = state
        .per_address
        .acquire(client.0, state.settings.limits.max_connections_per_address)
        .ok_or(HttpError::TooManyConnections)?;
    let permit = state
        .connections
        .clone()
        .try_acquire_owned()
        .map_err(|_| HttpError::Unavailable("too many open chats; try again shortly"))?;
    let max = state.settings.limits.max_frame_bytes;
    Ok(ws
        .max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            connection::run(socket, state, client.0).await;
            drop(permit);
            drop(per_address);
        }))
}
