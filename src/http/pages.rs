//! The pages and scripts built into the binary, so `frontdesk` runs with no
//! files beside it: the demo clinic page, the widget script and the console.

use axum::Router;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::HttpError;

const DEMO_PAGE: &str = include_str!("../../widget/index.html");
const WIDGET_JS: &str = include_str!("../../widget/widget.js");
const CONSOLE_PAGE: &str = include_str!("../../widget/console.html");
const CONSOLE_JS: &str = include_str!("../../widget/console.js");
const CONSOLE_CSS: &str = include_str!("../../widget/console.css");
const INSIGHTS_PAGE: &str = include_str!("../../widget/insights.html");
const INSIGHTS_JS: &str = include_str!("../../widget/insights.js");
const INSIGHTS_CSS: &str = include_str!("../../widget/insights.css");
const KNOWLEDGE_PAGE: &str = include_str!("../../widget/knowledge.html");
const KNOWLEDGE_JS: &str = include_str!("../../widget/knowledge.js");
const KNOWLEDGE_CSS: &str = include_str!("../../widget/knowledge.css");
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// `(name, source)` pairs of the files under `widget/console/`, each
/// embedded from that folder.
macro_rules! console_modules {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../widget/console/", $name)))),*]
    };
}

/// The agent console's ES modules, served at `/console/js/{name}`; the
/// console (`/console/console.js`), the insights page
/// (`/console/insights.js`) and the editors' workspace
/// (`/console/knowledge.js`, the `kb-` modules) import them. Only these
/// names are served.
pub const CONSOLE_MODULES: &[(&str, &str)] = console_modules![
    "announce.js",
    "api.js",
    "appointments.js",
    "callbacks.js",
    "chatlist.js",
    "chatpane.js",
    "chats.js",
    "clinic.js",
    "composer.js",
    "dialogs.js",
    "dom.js",
    "format.js",
    "frames.js",
    "history.js",
    "kb-api.js",
    "kb-asked.js",
    "kb-dialog.js",
    "kb-editor.js",
    "kb-form.js",
    "kb-list.js",
    "kb-main.js",
    "kb-preview.js",
    "kb-state.js",
    "kb-try.js",
    "main.js",
    "outbox.js",
    "queue.js",
    "screens.js",
    "shell.js",
    "socket.js",
    "state.js",
];

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Html(DEMO_PAGE) }))
        .route("/widget.js", get(widget_js))
        .route("/console", get(|| async { Html(CONSOLE_PAGE) }))
        .route(
            "/console/console.js",
            get(|| async { asset(CONSOLE_JS, JAVASCRIPT) }),
        )
        .route("/console/js/{name}", get(console_module))
        .route(
            "/console/console.css",
            get(|| async { asset(CONSOLE_CSS, "text/css; charset=utf-8") }),
        )
        .route("/console/insights", get(|| async { Html(INSIGHTS_PAGE) }))
        .route(
            "/console/insights.js",
            get(|| async { asset(INSIGHTS_JS, JAVASCRIPT) }),
        )
        .route(
            "/console/insights.css",
            get(|| async { asset(INSIGHTS_CSS, "text/css; charset=utf-8") }),
        )
        .route("/console/knowledge", get(|| async { Html(KNOWLEDGE_PAGE) }))
        .route(
            "/console/knowledge.js",
            get(|| async { asset(KNOWLEDGE_JS, JAVASCRIPT) }),
        )
        .route(
            "/console/knowledge.css",
            get(|| async { asset(KNOWLEDGE_CSS, "text/css; charset=utf-8") }),
        )
}

async fn widget_js(headers: axum::http::HeaderMap) -> Response {
    let integrity = widget_integrity();
    let etag = format!("\"{}\"", &integrity[7..31]);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return axum::http::StatusCode::NOT_MODIFIED.into_response();
    }
    let mut response = WIDGET_JS.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    // Short cache: clinics get fixes within minutes, yet repeat page views
    // do not refetch; the ETag makes revalidation cheap. The version lets
    // support see what a page runs.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        "x-frontdesk-version",
        HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
    );
    // Clinic pages load the script cross-origin with an integrity hash,
    // which needs CORS.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// The Subresource Integrity value of the widget this binary serves.
pub fn widget_integrity() -> String {
    use base64::Engine;
    use sha2::{Digest, Sha384};
    static INTEGRITY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    INTEGRITY
        .get_or_init(|| {
            let digest = Sha384::digest(WIDGET_JS.as_bytes());
            format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .clone()
}

/// One of [`CONSOLE_MODULES`] by its name; any other name is a 404.
async fn console_module(name: Result<Path<String>, PathRejection>) -> Result<Response, HttpError> {
    let Path(name) = name?;
    CONSOLE_MODULES
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, source)| asset(source, JAVASCRIPT))
        .ok_or(HttpError::NotFound)
}

/// A console asset: always revalidated, so staff get fixes at once.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
