//! The agent console in the browser: an agent signs in, claims a waiting
//! patient and talks to them, and sees when a safety rule fires.

use fantoccini::Locator;
use serde_json::Value;

use super::a11y::{axe_source, axe_violations};
use super::harness::browser_or_skip;
use super::helpers::faults::HeldLock;
use super::helpers::spawn_app;

#[tokio::test]
async fn an_agent_signs_in_claims_a_chat_and_replies() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    app.staff("maria", "agent").await; // password "maria-long-password"

    browser.sign_in(&app.url("/console"), "maria").await;

    // A patient says how to reach them, then asks for a person.
    let mut patient = app.chat().await;
    patient.start().await;
    for (id, text) in [("p0", "text me instead"), ("p0b", "555-010-4477")] {
        patient.say(id, text).await;
        patient.until("reply").await;
    }
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

    // The hand-over summary says how to reach the patient.
    browser
        .wait_for(
            "(() => { const c = document.querySelector('[data-testid=chat-pane]:not([hidden]) [data-testid=context-contact]'); return c && c.textContent === 'Text message: 555-010-4477'; })()",
            "the patient's contact in the hand-over summary",
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

    // A safety rule fires in the chat the agent holds: a banner in the
    // open chat says what the patient was told (and axe checks it below).
    patient
        .say("p3", "i think im having a stroke, my face is drooping")
        .await;
    browser
        .wait_for(
            "(() => { const b = document.querySelector('[data-testid=chat-pane]:not([hidden]) [data-testid=safety-alert]'); return b && !b.hidden && b.getAttribute('role') === 'alert' && b.textContent.includes('Possible emergency (stroke)') && b.textContent.includes('call 911'); })()",
            "the emergency banner in the open chat",
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

/// A supervisor at the console sees a burst of chat bookings as a banner
/// that says what happened and what to check, and can dismiss it.
#[tokio::test]
async fn a_supervisor_sees_a_burst_of_chat_bookings() {
    let browser = browser_or_skip!();
    let app = super::helpers::spawn_app_with(|s| s.limits.chat_booking_burst = 2).await;
    app.staff("sam", "supervisor").await;
    browser.sign_in(&app.url("/console"), "sam").await;
    for contact in ["555-010-0021", "555-010-0022"] {
        let mut chat = app.chat().await;
        chat.start().await;
        super::helpers::book_in_chat(&mut chat, contact).await;
    }
    browser
        .wait_for(
            "!document.querySelector('[data-testid=booking-alert]').hidden",
            "the booking alert",
        )
        .await;
    let said = browser
        .js("return document.querySelector('[data-testid=booking-alert]').textContent;")
        .await;
    let said = said.as_str().unwrap_or_default();
    assert!(
        said.contains("2 bookings and 0 attempts refused by the daily limits within 10 minutes"),
        "{said}"
    );
    browser
        .client
        .find(Locator::XPath(
            "//*[@data-testid='booking-alert']//button[normalize-space()='Dismiss']",
        ))
        .await
        .expect("a Dismiss button")
        .click()
        .await
        .expect("Dismiss is clickable");
    browser
        .wait_for(
            "document.querySelector('[data-testid=booking-alert]').hidden",
            "the banner goes away",
        )
        .await;
    // Dismissed means dismissed: after a reload (which reconnects) the
    // alert arrives again and stays hidden.
    browser.client.refresh().await.expect("the console reloads");
    browser
        .wait_for(
            "(document.querySelector('[data-testid=booking-alert]')?.dataset.at || '') !== ''",
            "the alert, received again after the reconnect",
        )
        .await;
    let hidden = browser
        .js("return document.querySelector('[data-testid=booking-alert]').hidden;")
        .await;
    assert_eq!(hidden, serde_json::json!(true));
}
