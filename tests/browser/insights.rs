//! The supervisors' insights page in the browser: it renders real figures
//! from the server and passes axe-core.

use serde_json::{Value, json};

use super::a11y::{axe_source, axe_violations};
use super::harness::browser_or_skip;
use super::helpers::spawn_app;

#[tokio::test]
async fn a_supervisor_sees_the_numbers_for_real_conversations() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    app.staff("sue", "supervisor").await; // password "sue-long-password"
    let mut chat = app.chat().await;
    chat.start().await;
    chat.send_json(json!({"type": "say", "id": "q1", "text": "Do you offer payment plans?"}))
        .await;
    chat.expect("ack").await;
    chat.expect("reply").await;

    browser.sign_in(&app.url("/console"), "sue").await;

    browser.goto(&app.url("/console/insights")).await;
    browser
        .wait_for(
            "document.querySelector('#content') && /Self-service/i.test(document.querySelector('#content').textContent)",
            "the insight cards",
        )
        .await;
    let text = browser
        .js("return document.querySelector('#content').textContent;")
        .await;
    let text = text.as_str().unwrap_or_default();
    assert!(
        text.contains("billing-payment-plans"),
        "the answered article is listed: {text}"
    );
    assert!(
        browser
            .js("return document.querySelectorAll('#content svg').length;")
            .await
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "the daily trend is drawn"
    );
    if let Some(axe) = axe_source() {
        let violations = axe_violations(&browser, &axe).await;
        assert_eq!(
            violations,
            Value::Array(vec![]),
            "axe-core violations on the insights page:\n{violations:#}"
        );
    }
}
