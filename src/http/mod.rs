//! The HTTP surface: assembles every route, and the headers every response
//! carries.

pub mod auth;
pub mod error;
pub mod pages;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

pub use error::HttpError;

use crate::state::AppState;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(crate::chat::routes())
        .merge(auth::routes())
        .merge(crate::console::routes())
        .merge(crate::appointments::api::routes())
        .merge(crate::compliance::routes())
        .route("/health", get(health))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Liveness and readiness: the database answers.
async fn health(State(state): State<AppState>) -> Result<impl IntoResponse, HttpError> {
    state.store.ping().await?;
    Ok(axum::Json(json!({ "status": "ok" })))
}

/// Strict defaults for every response; pages only load what this server serves.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                 img-src 'self' data:; connect-src 'self'; object-src 'none'; \
                 base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
            ),
        );
    }
    response
}
