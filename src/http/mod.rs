//! What every HTTP handler shares: the one error type, the client's
//! address, sign-in, the pages, `/health`, the same-origin check and the
//! headers every response carries. It imports none of the features' folders
//! and not the application's state: the router that joins them, `/health`
//! and the state are in `startup`.

pub mod auth;
pub mod client;
pub mod error;
pub mod pages;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use error::HttpError;

use crate::config::Settings;
use crate::staff::sessions::Sessions;
use crate::store::Store;

/// What the shared extractors and layers need from the application's
/// state: settings (https, proxies, the public URL), the staff sessions,
/// and the store (an account disabled by another process). A feature's
/// routes are generic over the state and ask for `Gate: FromRef<S>`
/// beside their own handles, so no feature imports the application.
#[derive(Clone)]
pub struct Gate {
    pub settings: Arc<Settings>,
    pub sessions: Arc<Sessions>,
    pub store: Store,
}

/// Every request that changes something (all of them are staff routes:
/// sign-in and out, bookings, callbacks, drafts) must come from this
/// server's own pages. `SameSite=Strict` still sends the cookie from the
/// clinic's other subdomains, so a form there could act as a signed-in
/// agent. A browser says where a request came from (`Sec-Fetch-Site`, or
/// else `Origin`); a request with neither is not from a browser (an
/// integration) and carries no ambient cookie to abuse.
pub async fn refuse_cross_site_writes(
    State(gate): State<Gate>,
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
        None => same_origin(&gate.settings, request.headers()),
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
pub fn same_origin(settings: &Settings, headers: &axum::http::HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    origin_matches(
        header(header::ORIGIN),
        header(header::HOST),
        settings.public_url.as_deref(),
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
pub async fn security_headers(State(gate): State<Gate>, request: Request, next: Next) -> Response {
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
    if gate
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
