//! Every route of the server, where the application is assembled: the
//! features' folders each offer their routes, and `http` the layers every
//! response passes.

use axum::Router;
use axum::middleware;
use axum::routing::get;

use super::state::AppState;
use crate::http;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(http::pages::routes())
        .merge(crate::chat::routes())
        .merge(http::auth::routes())
        .merge(crate::console::routes())
        .merge(crate::appointments::api::routes())
        .merge(crate::compliance::routes())
        .merge(crate::insights::routes())
        .merge(crate::editors::routes())
        .merge(crate::outbound::api::routes())
        .route("/health", get(super::health::health))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::refuse_cross_site_writes,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::security_headers,
        ))
        .with_state(state)
}
