//! The console's Messages section in the browser: a supervisor sees the
//! e-mail the mail server refused, presses Retry, hears the result, and
//! the patient gets the message; agents have no such section.

use serde_json::{Value, json};

use super::a11y::{axe_source, axe_violations};
use super::harness::browser_or_skip;
use super::helpers::smtp::SmtpSink;
use super::helpers::{outbox_settled, spawn_app_with};

#[tokio::test]
async fn a_supervisor_retries_a_refused_email_from_the_console() {
    let browser = browser_or_skip!();
    let sink = SmtpSink::start().await;
    sink.refuse_next(&["550 5.1.1 mailbox unavailable"]);
    let url = sink.url();
    let app = spawn_app_with(move |s| {
        s.channels.smtp_url = Some(url);
        s.channels.mail_from = Some("frontdesk@clinic.example".into());
    })
    .await;
    let admin = app.login_admin().await;
    let patient = json!({"name": "Rosa Díaz", "dob": "1980-05-06",
        "email": "rosa@example.com", "contact": "email"});
    app.book_flu_shot(&admin, 0, patient).await;
    assert_eq!(outbox_settled(&app.database_url()).await, (0, 1));

    // An agent's console has no Messages section.
    app.staff("maria", "agent").await;
    browser.sign_in(&app.url("/console"), "maria").await;
    let agent_sees = browser
        .js("return !!document.querySelector('[data-testid=nav-outbox]');")
        .await;
    assert_eq!(agent_sees, Value::Bool(false));
    browser.sign_out().await;

    app.staff("sam", "supervisor").await;
    browser.sign_in(&app.url("/console"), "sam").await;
    browser
        .wait_for(
            "document.querySelector('[data-testid=nav-outbox]').textContent.includes('1')",
            "the count of failed messages in the Messages tab",
        )
        .await;
    browser.by_testid("nav-outbox").await.click().await.unwrap();
    browser
        .wait_for(
            "(() => { const b = document.querySelector('[data-testid=outbox-item] [data-testid=outbox-retry]'); return b && b.getAttribute('aria-label') === 'Retry the Booking confirmation by email to r…@example.com'; })()",
            "the refused e-mail with its Retry button",
        )
        .await;
    let item = browser
        .js("return document.querySelector('[data-testid=outbox-item]').textContent;")
        .await;
    let item = item.as_str().unwrap_or_default();
    assert!(
        item.contains("The mail server refused it (smtp 5xx)"),
        "{item}"
    );
    assert!(!item.contains("rosa@"), "the address is masked: {item}");
    if let Some(axe) = axe_source() {
        let violations = axe_violations(&browser, &axe).await;
        assert_eq!(
            violations,
            Value::Array(vec![]),
            "axe-core violations on the Messages section:\n{}",
            serde_json::to_string_pretty(&violations).unwrap_or_default()
        );
    }

    browser
        .by_testid("outbox-retry")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            "document.getElementById('announcer').textContent.includes('queued again')",
            "the retry announced to screen readers",
        )
        .await;
    browser
        .wait_for(
            "!!document.querySelector('[data-testid=outbox-empty]')",
            "the empty list after the retry",
        )
        .await;
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 0));
    assert_eq!(sink.received().len(), 1, "the patient gets it once");
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
