//! The patient chat: the `/chat` WebSocket, its wire protocol and the life of
//! each connection. Only this module knows the wire format.

mod connection;
mod handoff;
pub mod identity;
pub mod origin;
mod outlet;
pub mod per_address;
pub mod protocol;
pub mod rate;
mod session;
pub mod text;
mod turn;

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;

use crate::http::{Gate, HttpError};

/// The handles a patient chat uses, from its upgrade to its last frame.
#[derive(Clone)]
pub struct ChatState {
    pub settings: Arc<crate::config::Settings>,
    pub store: crate::store::Store,
    /// The only way to write conversations: group-committed, in order.
    pub writer: crate::store::Writer,
    pub engine: Arc<crate::dialog::Engine>,
    pub embedder: crate::semantic::Embedder,
    pub hub: Arc<crate::queue::Hub>,
    /// The clinic facts file, kept current as the knowledge directory changes.
    pub clinic: crate::clinic::ClinicHandle,
    pub origins: Arc<origin::OriginPolicy>,
    pub identity_nonces: Arc<identity::Nonces>,
    pub metrics: Arc<crate::insights::metrics::Metrics>,
    pub per_address: Arc<per_address::PerAddress>,
    /// One permit per open chat connection.
    pub connections: Arc<tokio::sync::Semaphore>,
    /// Flips to `true` once when the server starts shutting down.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Held by every connection task; shutdown waits until all are dropped.
    pub drain: tokio::sync::mpsc::Sender<()>,
}

/// Socket buffer sizes: small, so ten thousand idle patients cost little
/// memory; the write buffer cap bounds what a slow reader can pile up.
const READ_BUFFER_BYTES: usize = 4 * 1024;
const WRITE_BUFFER_BYTES: usize = 4 * 1024;
const MAX_WRITE_BUFFER_BYTES: usize = 256 * 1024;

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Gate: FromRef<S>,
    ChatState: FromRef<S>,
{
    Router::new().route("/chat", get(upgrade))
}

async fn upgrade(
    State(state): State<ChatState>,
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
