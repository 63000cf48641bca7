//! The agent console in the browser: an agent signs in, claims a waiting
//! patient and talks to them.

use fantoccini::Locator;
use serde_json::Value;

use crate::a11y::{axe_source, axe_violations};
use crate::common::faults::HeldLock;
use crate::common::spawn_app;
use crate::harness::browser_or_skip;

#[tokio::test]
async fn an_agent_signs_in_claims_a_chat_and_replies() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    app.staff("maria", "agent").await; // password "maria-long-password"

    browser.sign_in(&app.url("/console"), "maria").await;

    // A patient asks for a person.
    let mut patient = app.chat().await;
    patient.start().await;
    patient.say("p1", "I want to talk to a real person").await;
    patient.until("queued").await;

    browser
        .wait_for(
            "[...document.querySelectorAll('[data-testid=queue-item]')].length === 1 && document.querySelector('[data-testid=claim-button]')",
            "the waiting patient in the queue",
        )
        .await;
    browser
        .by_testid("claim-button")
        .await
        .click()
        .await
        .expect("Claim is clickable");
    assert_eq!(patient.until("agent_joined").await["name"], "maria");
    browser
        .wait_for(
            "[...document.querySelectorAll('[data-testid=chat-pane]:not([hidden]) [data-testid=message-list] .msg-text')].some(p => p.textContent === 'I want to talk to a real person')",
            "the patient's words in the claimed chat",
        )
        .await;

    let composer = browser
        .client
        .find(Locator::Css(
            "[data-testid=chat-pane]:not([hidden]) [data-testid=composer]",
        ))
        .await
        .expect("a composer in the open chat");
    composer.send_keys("Hello from the console").await.unwrap();
    browser
        .client
        .find(Locator::Css(
            "[data-testid=chat-pane]:not([hidden]) [data-testid=send-button]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let reply = patient.until("reply").await;
    assert_eq!(reply["from"], "agent");
    assert_eq!(reply["text"], "Hello from the console");

    patient.say("p2", "Thanks, that helps").await;
    browser
        .wait_for(
            "[...document.querySelectorAll('[data-testid=chat-pane]:not([hidden]) .msg-text')].some(p => p.textContent === 'Thanks, that helps')",
            "the patient's answer in the console",
        )
        .await;

    let errors = browser.console_errors().await;
    assert!(
        errors.is_empty(),
        "console errors after signing in: {errors:?}"
    );
    if let Some(axe) = axe_source() {
        let violations = axe_violations(&browser, &axe).await;
        assert_eq!(
            violations,
            Value::Array(vec![]),
            "axe-core violations on the console with a chat open:\n{}",
            serde_json::to_string_pretty(&violations).unwrap_or_default()
        );
    }
}

#[tokio::test]
async fn an_agent_sees_a_banner_while_messages_cannot_be_saved() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    app.staff("maria", "agent").await;
    browser.sign_in(&app.url("/console"), "maria").await;
    let banner = "document.querySelector('[data-testid=storage-banner]')";
    assert_eq!(browser.js(&format!("return {banner}.hidden")).await, true);

    let mut patient = app.chat().await;
    patient.start().await;
    // Another connection holds the database's write lock past the server's
    // busy timeout: the patient's message is refused, and the agent is told.
    let lock = HeldLock::take(&app.database_url()).await;
    patient
        .send_json(serde_json::json!({"type": "say", "id": "p1", "text": "hello?"}))
        .await;
    assert_eq!(patient.until_error().await["code"], "unavailable");
    browser
        .wait_for(
            &format!("!{banner}.hidden && {banner}.getAttribute('role') === 'alert' && {banner}.textContent.includes('cannot be saved')"),
            "the storage banner",
        )
        .await;
    if let Some(axe) = axe_source() {
        let violations = axe_violations(&browser, &axe).await;
        assert_eq!(
            violations,
            Value::Array(vec![]),
            "axe-core violations with the banner shown"
        );
    }

    lock.release().await;
    // The widget resends; once it is saved the banner goes.
    patient
        .send_json(serde_json::json!({"type": "say", "id": "p1", "text": "hello?"}))
        .await;
    patient.until("ack").await;
    browser
        .wait_for(&format!("{banner}.hidden"), "the banner to go")
        .await;
}
