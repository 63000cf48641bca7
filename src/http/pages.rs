//! The pages and scripts built into the binary, so `frontdesk` runs with no
//! files beside it: the demo clinic page, the widget script and the console.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

const DEMO_PAGE: &str = include_str!("../../widget/index.html");
const WIDGET_JS: &str = include_str!("../../widget/widget.js");
const CONSOLE_PAGE: &str = include_str!("../../widget/console.html");
const CONSOLE_JS: &str = include_str!("../../widget/console.js");
const CONSOLE_CSS: &str = include_str!("../../widget/console.css");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Html(DEMO_PAGE) }))
        .route("/widget.js", get(widget_js))
        .route("/console", get(|| async { Html(CONSOLE_PAGE) }))
        .route(
            "/console/console.js",
            get(|| async { asset(CONSOLE_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/console/console.css",
            get(|| async { asset(CONSOLE_CSS, "text/css; charset=utf-8") }),
        )
}

async fn widget_js() -> Response {
    let mut response = WIDGET_JS.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    // Short cache: clinics get fixes within minutes, yet repeat page views
    // do not refetch. The version lets support see what a page runs.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    headers.insert(
        "x-frontdesk-version",
        HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
    );
    response
}

/// A console asset: always revalidated, so staff get fixes at once.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
