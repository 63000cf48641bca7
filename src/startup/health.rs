//! `GET /health`, which reads nearly every part of the application.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::AppState;
use crate::store::{Fault, StorageStatus};

/// Liveness and readiness: 200 while the database answers and writes
/// commit, 503 with `"storage": "failing"` and the fault's code while they
/// do not, so a load balancer stops sending new chats. Also says which
/// knowledge generation is serving, so a deploy script or `frontdesk
/// loadtest --reload` can tell when an edit has been picked up, and a
/// digest of the articles it serves, the same on every node that serves
/// the same articles (a deploy to several nodes is done when all agree).
pub async fn health(State(state): State<AppState>) -> Response {
    let store = state.writer.health();
    let fault = match store.status() {
        StorageStatus::Failing { fault, since } => Some((fault, Some(since))),
        StorageStatus::Ok => match state.store.ping().await {
            Ok(()) => None,
            Err(_) => Some((Fault::Unreachable, None)),
        },
    };
    let knowledge = state.engine.knowledge().stats();
    let mut body = json!({
        "status": if fault.is_some() { "failing" } else { "ok" },
        "storage": if fault.is_some() { "failing" } else { "ok" },
        "knowledge": {
            "generation": knowledge.generation,
            "digest": knowledge.digest,
            "articles": knowledge.articles_en + knowledge.articles_es,
            "semantic": state.engine.knowledge().has_meaning(),
        },
        // A missing model degrades answers; it does not make the node unready.
        "model": state.embedder.status(),
        "safety": {"examples": state.engine.safety_examples()},
        "limits": {
            "open_files": state.files.open_files,
            "max_chats": state.files.max_chats,
            "open_chats": state.open_chats(),
        },
    });
    let status = match fault {
        Some((fault, since)) => {
            body["storage_fault"] = json!(fault.code());
            body["storage_message"] = json!(fault.describe());
            body["storage_failing_since"] = json!(since);
            body["storage_failed_batches"] = json!(store.failed_batches());
            StatusCode::SERVICE_UNAVAILABLE
        }
        None => StatusCode::OK,
    };
    (status, axum::Json(body)).into_response()
}
