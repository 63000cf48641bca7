//! The agent console in the browser: an agent signs in, claims a waiting
//! patient and talks to them.

use fantoccini::Locator;
use serde_json::Value;

use crate::a11y::{axe_source, axe_violations};
use crate::common::spawn_app;
use crate::harness::{Browser, browser_or_skip};

async fn by_testid(browser: &Browser, id: &str) -> fantoccini::elements::Element {
    browser
        .client
        .find(Locator::Css(&format!("[data-testid='{id}']")))
        .await
        .unwrap_or_else(|e| panic!("no [data-testid={id}] on the console: {e}"))
}

#[tokio::test]
async fn an_agent_signs_in_claims_a_chat_and_replies() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    app.staff("maria", "agent").await; // password "maria-long-password"

    browser.goto(&app.url("/console")).await;
    browser
        .wait_for(
            "document.querySelector('[data-testid=login-name]')",
            "the sign-in form",
        )
        .await;
    // Asking who is signed in answers 401 before sign-in, which Chrome
    // logs as a failed load; that is the only error allowed.
    let errors = browser.console_errors().await;
    assert!(
        errors
            .iter()
            .all(|e| e.contains("/api/me") && e.contains("401")),
        "console errors on the sign-in page: {errors:?}"
    );
    by_testid(&browser, "login-name")
        .await
        .send_keys("maria")
        .await
        .unwrap();
    by_testid(&browser, "login-password")
        .await
        .send_keys("maria-long-password")
        .await
        .unwrap();
    by_testid(&browser, "login-submit")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "document.querySelector('[data-testid=queue-list]')",
            "the console after signing in",
        )
        .await;

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
    by_testid(&browser, "claim-button")
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
