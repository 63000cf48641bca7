//! `GET /metrics`: Prometheus text, for whoever holds the metrics token.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::http::HttpError;
use crate::insights::InsightsState;

/// `GET /metrics`.
pub async fn scrape(
    State(state): State<InsightsState>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let Some(token) = state
        .settings
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Err(HttpError::NotFound);
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !sent.is_some_and(|s| constant_time_eq(s.as_bytes(), token.as_bytes())) {
        return Err(HttpError::Unauthorized);
    }
    let mut response = crate::insights::metrics::render(&state).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(response)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
