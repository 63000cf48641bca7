//! What every HTTP handler shares: the one error type, the client's
//! address, sign-in, the pages, `/health`, the same-origin check and the
//! headers every response carries. It imports none of the features' folders;
//! the router that joins them is built in `startup::routes`.

pub mod auth;
pub mod client;
pub mod error;
pub mod pages;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub use error::HttpError;

use crate::state::AppState;
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

/// Every request that changes something (all of them are staff routes:
/// sign-in and out, bookings, callbacks, drafts) must come from this
/// server's own pages. `SameSite=Strict` still sends the cookie from the
/// clinic's other subdomains, so a form there could act as a signed-in
/// agent. A browser says where a request came from (`Sec-Fetch-Site`, or
/// else `Origin`); a request with neither is not from a browser (an
/// integration) and carries no ambient cookie to abuse.
pub async fn refuse_cross_site_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    use axum::http::Method;
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let fetch_site = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    let allowed = match fetch_site {
        Some(site) => site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none"),
        None => same_origin(&state, request.headers()),
    };
    if !allowed {
        tracing::warn!("cross-site write refused");
        return HttpError::Forbidden(
            "this request must come from this server's own pages (cross-site requests are refused)",
        )
        .into_response();
    }
    next.run(request).await
}

/// The request's `Origin` is this server (by its Host header or its public
/// URL), or absent: not a browser.
pub fn same_origin(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    origin_matches(
        header(header::ORIGIN),
        header(header::HOST),
        state.settings.public_url.as_deref(),
    )
}

fn origin_matches(origin: Option<&str>, host: Option<&str>, public_url: Option<&str>) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    // The public URL's scheme and authority, without any path.
    let public = public_url.and_then(|u| {
        let (scheme, rest) = u.split_once("://")?;
        Some(format!("{scheme}://{}", rest.split('/').next()?))
    });
    if public.is_some_and(|p| p.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let authority = origin.split_once("://").map(|(_, a)| a);
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// Strict defaults for every response; pages only load what this server
/// serves, the console cannot be framed at all, and HSTS is sent when the
/// server is reached over https.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let console = request.uri().path().starts_with("/console");
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
    if state
        .settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        let policy = if console {
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        } else {
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
        };
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
        if console {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
    }
    response
}

/// `body` as a CSV file download named `filename`.
pub fn csv_attachment(body: String, filename: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"{filename}\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::origin_matches;

    #[test]
    fn only_the_servers_own_pages_match() {
        let host = Some("desk.example");
        assert!(origin_matches(None, host, None));
        assert!(origin_matches(Some("https://desk.example"), host, None));
        assert!(!origin_matches(Some("http://localhost:3000"), host, None));
        assert!(!origin_matches(
            Some("https://portal.desk.example"),
            host,
            None
        ));
        assert!(!origin_matches(Some("null"), host, None));
        // Behind a proxy that rewrites Host, the public URL names the origin.
        assert!(origin_matches(
            Some("https://clinic.example"),
            Some("127.0.0.1:8080"),
            Some("https://clinic.example/frontdesk")
        ));
    }
}
