//! The one error type of every HTTP handler: 4xx say what the caller did
//! wrong; anything unexpected is logged with its cause chain and answered with
//! a generic 500 that leaks nothing.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthorized,
    #[error("wrong name or password")]
    WrongCredentials,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("too many attempts; try again in {} seconds", .0.as_secs().max(1))]
    TooManyRequests(std::time::Duration),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Unavailable(&'static str),
    #[error("the request body is too large")]
    TooLarge,
    #[error("too many open chats from this address")]
    TooManyConnections,
    /// 422: the request is well-formed but what it says fails the checks,
    /// each problem at its line (a knowledge article's).
    #[error("{0}")]
    Invalid(String, Vec<LineProblem>),
    /// 428: a write that must name the version it changes did not.
    #[error("{0}")]
    PreconditionRequired(&'static str),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// One problem of an [`HttpError::Invalid`]: its line and, when known, the
/// field of the form it comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineProblem {
    pub line: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// The front-matter key it is about when no field of the form holds
    /// that key (an unknown one, which the editor may remove).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl LineProblem {
    pub fn new(line: usize, message: impl Into<String>, field: Option<&'static str>) -> Self {
        LineProblem {
            line,
            message: message.into(),
            field,
            key: None,
        }
    }
}

impl HttpError {
    fn status(&self) -> StatusCode {
        match self {
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::Unauthorized | HttpError::WrongCredentials => StatusCode::UNAUTHORIZED,
            HttpError::Conflict(_) => StatusCode::CONFLICT,
            HttpError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Forbidden(_) => StatusCode::FORBIDDEN,
            HttpError::NotFound => StatusCode::NOT_FOUND,
            HttpError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::TooManyConnections => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Invalid(..) => StatusCode::UNPROCESSABLE_ENTITY,
            HttpError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            HttpError::BadRequest(_) => "bad_request",
            HttpError::Unauthorized => "unauthorized",
            HttpError::WrongCredentials => "wrong_credentials",
            HttpError::Conflict(_) => "conflict",
            HttpError::TooManyRequests(_) => "too_many_requests",
            HttpError::Forbidden(_) => "forbidden",
            HttpError::NotFound => "not_found",
            HttpError::Unavailable(_) => "unavailable",
            HttpError::TooLarge => "too_large",
            HttpError::TooManyConnections => "too_many_connections",
            HttpError::Invalid(..) => "invalid",
            HttpError::PreconditionRequired(_) => "precondition_required",
            HttpError::Internal(_) => "internal",
        }
    }
}

// An extractor's rejection (a malformed body, query string or path) is a 400
// (413 for a body over the limit) in the same JSON shape as every other
// error, not axum's plain text.
// Handlers take `Result<Extractor<T>, Rejection>` and apply `?` where the
// request is validated, so sign-in and role checks still come first.
impl From<JsonRejection> for HttpError {
    fn from(e: JsonRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return HttpError::TooLarge;
        }
        HttpError::BadRequest(e.body_text())
    }
}

impl From<QueryRejection> for HttpError {
    fn from(e: QueryRejection) -> Self {
        HttpError::BadRequest(e.body_text())
    }
}

impl From<PathRejection> for HttpError {
    fn from(e: PathRejection) -> Self {
        HttpError::BadRequest(e.body_text())
    }
}

impl From<crate::store::StoreError> for HttpError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NotFound => HttpError::NotFound,
            crate::store::StoreError::Conflict(what) => HttpError::Conflict(what),
            // Logged once by the store's health record, not per request.
            crate::store::StoreError::Unavailable(_) => HttpError::Unavailable(
                "That could not be saved just now (storage is unavailable). Please try again.",
            ),
            other => HttpError::Internal(other.into()),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if let HttpError::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let HttpError::Invalid(_, problems) = &self {
            body["problems"] = json!(problems);
        }
        let body = Json(body);
        let mut response = (self.status(), body).into_response();
        if let HttpError::TooManyRequests(wait) = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(wait.as_secs().max(1)),
            );
        }
        response
    }
}
