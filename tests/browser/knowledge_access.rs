//! Who gets into the editors' workspace, in the browser: signed-out
//! visitors and agents are told why not, admins reach it from the console;
//! and axe finds no violation at all in it, at desk and phone width.

use serde_json::{Value, json};

use super::a11y::{axe_source, axe_violations};
use super::harness::browser_or_skip;
use super::helpers::turn;
use super::knowledge::{
    BICYCLE, add_unknown_key, app_on_copy, click, editor_opens_workspace, open_article, retype,
    text_of, try_question, wait_for_list,
};

#[tokio::test]
async fn agents_are_told_the_workspace_is_for_editors_and_admins_see_its_link() {
    let browser = browser_or_skip!();
    let (app, _kb) = app_on_copy().await;
    browser.goto(&app.url("/console/knowledge")).await;
    browser
        .wait_for(
            &format!("{}.includes('not signed in')", text_of("kb-signin")),
            "the sign-in message",
        )
        .await;

    app.staff("maria", "agent").await;
    browser.sign_in(&app.url("/console"), "maria").await;
    let links = browser
        .js("return !!document.querySelector('[data-testid=nav-knowledge]');")
        .await;
    assert_eq!(links, Value::Bool(false), "agents get no Knowledge link");
    browser.goto(&app.url("/console/knowledge")).await;
    browser
        .wait_for(
            &format!(
                "{}.includes('This page is for editors and admins')",
                text_of("kb-denied")
            ),
            "the not-allowed message",
        )
        .await;
    assert_eq!(
        browser
            .js("return document.querySelectorAll('[data-testid=kb-list], [data-testid=kb-form]').length;")
            .await,
        json!(0),
        "nothing of the workspace is shown"
    );

    app.staff("ada", "admin").await;
    browser.goto(&app.url("/console")).await;
    browser
        .wait_for(
            "document.querySelector('[data-testid=sign-out]')",
            "the agent's console",
        )
        .await;
    browser.sign_out().await;
    browser.sign_in(&app.url("/console"), "ada").await;
    click(&browser, "nav-knowledge").await;
    wait_for_list(&browser).await;
}

#[tokio::test]
async fn axe_finds_no_violation_in_the_workspace_at_desk_and_phone_width() {
    let Some(axe) = axe_source() else { return };
    let browser = browser_or_skip!();
    let (app, kb) = app_on_copy().await;
    // A problem with its "Remove" button is on the page from the start.
    add_unknown_key(&kb);
    let mut patient = app.chat().await;
    patient.start().await;
    turn(&mut patient, "b1", BICYCLE, None).await;
    editor_opens_workspace(&browser, &app, "ed").await;
    open_article(&browser, "parking").await;
    browser
        .wait_for(
            "!document.querySelector('[data-testid=kb-other]').hidden && document.querySelector('[data-testid=kb-preview] .kb-bubble')",
            "the Spanish version beside the article, and the preview",
        )
        .await;
    try_question(&browser, "Where do I park?").await;
    retype(&browser, "kb-related", "nowhere").await;
    browser
        .wait_for(
            "document.querySelectorAll('[data-testid=kb-problems] li').length > 1 && document.querySelector('[data-testid=kb-remove-key]')",
            "the problems shown, one with its Remove button",
        )
        .await;

    for (width, height) in [(1280, 900), (390, 844)] {
        browser.client.set_window_size(width, height).await.unwrap();
        let violations = axe_violations(&browser, &axe).await;
        // None at all, not only none serious or critical.
        assert_eq!(
            violations,
            Value::Array(vec![]),
            "axe-core violations in the workspace at {width} px:\n{violations:#}"
        );
    }
    // At phone width the columns stack: nothing scrolls sideways.
    let overflow = browser
        .js("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "wider than the phone by {overflow} px"
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
