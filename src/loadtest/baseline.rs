//! The bare stack for comparison: an axum WebSocket server with the same
//! socket settings as `/chat`, answering each `say` with an ack-like and a
//! reply-like frame and doing nothing else (no database, no search).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::cpu::BARE_THREADS;

/// Starts the echo server on 127.0.0.1:0; it runs until `stop` fires. It has
/// a runtime of its own, like a server process (one worker per core), whose
/// threads are named [`BARE_THREADS`] so that their CPU time can be read
/// apart from the harness's.
pub fn start(
    stop: tokio::sync::oneshot::Receiver<()>,
) -> std::io::Result<(SocketAddr, std::thread::JoinHandle<()>)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name(BARE_THREADS)
        .enable_all()
        .build()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/chat", get(upgrade));
    let thread = std::thread::Builder::new()
        .name(BARE_THREADS.to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.await;
                    })
                    .await;
            });
        })?;
    Ok((addr, thread))
}

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    let mut seq = 0i64;
    while let Some(Ok(message)) = socket.recv().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let out = match frame["type"].as_str() {
            Some("start") => vec![json!({"type": "started", "history": []})],
            Some("say") => {
                seq += 2;
                vec![
                    json!({"type": "ack", "id": frame["id"], "seq": seq - 1}),
                    json!({"type": "reply", "seq": seq, "from": "bot", "text": frame["text"]}),
                ]
            }
            Some("end") => vec![json!({"type": "ended"})],
            _ => vec![],
        };
        for frame in out {
            if socket
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}
