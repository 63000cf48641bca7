//! The widget works from the keyboard alone and passes axe-core.

use std::path::PathBuf;

use fantoccini::key::Key;
use serde_json::Value;

use super::harness::{Browser, browser_or_skip};
use super::helpers::spawn_app;

#[tokio::test]
async fn the_keyboard_alone_opens_sends_and_closes() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    browser.demo_page(app.addr).await;

    let tab = char::from(Key::Tab).to_string();
    let on_launcher = "root.activeElement === root.querySelector('.launcher')";
    let mut presses = 0;
    while browser.js(&format!("return {on_launcher};")).await != Value::Bool(true) {
        presses += 1;
        assert!(presses <= 100, "Tab never reached the chat launcher");
        browser.press(&tab).await;
    }
    assert_eq!(
        browser
            .js("return root.querySelector('.launcher').matches(':focus-visible');")
            .await,
        Value::Bool(true),
        "the focused launcher shows a focus ring"
    );

    browser.press(&char::from(Key::Enter).to_string()).await;
    browser
        .wait_for(
            "!root.querySelector('.panel').hidden && root.activeElement === root.querySelector('textarea')",
            "Enter to open the panel with focus in the composer",
        )
        .await;

    browser.press("Do you offer payment plans?").await;
    browser.press(&char::from(Key::Enter).to_string()).await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes('monthly payments')) && root.querySelector('textarea').value === ''",
            "Enter to send the question, and its answer",
        )
        .await;

    browser.press(&char::from(Key::Escape).to_string()).await;
    browser
        .wait_for(
            &format!(
                "root.querySelector('.panel').hidden && {on_launcher} && root.querySelector('.launcher').getAttribute('aria-expanded') === 'false'"
            ),
            "Escape to close the panel and focus the launcher again",
        )
        .await;
}

/// axe-core's browser build, installed by .ci/run with npm under target/.
pub fn axe_source() -> Option<String> {
    let path = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/browser-deps/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but axe-core is missing at {}: {e} (.ci/run installs it with \
                 `npm install --prefix target/browser-deps axe-core@4`)",
                path.display()
            );
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "{}: skipped: axe-core not found at {} (npm install --prefix \
                 target/browser-deps axe-core@4)",
                std::thread::current().name().unwrap_or("axe test"),
                path.display()
            );
            None
        }
    }
}

#[tokio::test]
async fn axe_finds_no_violations_with_the_widget_open() {
    let Some(axe) = axe_source() else { return };
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    browser.demo_page(app.addr).await;
    browser.open_widget().await;
    // A conversation with an answer and live choice buttons in it.
    browser.send_message("appointment").await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.bot')].pop().querySelectorAll('button.choice:not(:disabled)').length >= 3",
            "an answer with choices",
        )
        .await;

    let violations = axe_violations(&browser, &axe).await;
    assert_eq!(
        violations,
        Value::Array(vec![]),
        "axe-core violations on the demo page with the chat open:\n{}",
        serde_json::to_string_pretty(&violations).unwrap()
    );
}

/// Runs axe-core on the whole current page (open shadow roots included).
pub async fn axe_violations(browser: &Browser, axe: &str) -> Value {
    browser
        .client
        .execute(axe, vec![])
        .await
        .expect("axe-core loads");
    browser
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, {resultTypes: ['violations']})
                 .then(r => done(r.violations.map(v => ({
                    rule: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => JSON.stringify(n.target) + ': ' + n.failureSummary)}))))
                 .catch(e => done('axe failed: ' + e));"#,
            vec![],
        )
        .await
        .expect("axe runs")
}
