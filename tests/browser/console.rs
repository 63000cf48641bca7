//! The agent console page in the browser.

use crate::common::spawn_app;
use crate::harness::browser_or_skip;

/// A smoke test: the console's own UI is being built elsewhere; until it
/// lands this checks that /console loads cleanly.
#[tokio::test]
async fn the_console_page_loads_without_errors() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    browser.goto(&app.url("/console")).await;
    browser
        .wait_for(
            "document.readyState === 'complete' && document.querySelector('h1') && document.querySelector('h1').textContent.includes('Agent console')",
            "the console page",
        )
        .await;
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors on /console: {errors:?}");
}
