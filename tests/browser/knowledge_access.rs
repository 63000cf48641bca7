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

#[tokio::test]
async fn the_list_counts_what_patients_got_finds_articles_and_names_missing_translations() {
    let browser = browser_or_skip!();
    let (app, _kb) = app_on_copy().await;
    // A patient is answered with the parking article and finds it helpful.
    let mut patient = app.chat().await;
    patient.start().await;
    let answer = turn(&mut patient, "p1", "Where do I park?", None).await;
    assert_eq!(answer["article"], "parking", "{answer}");
    patient
        .send_json(json!({"type": "feedback", "seq": answer["seq"], "helpful": true}))
        .await;
    patient.expect("feedback_saved").await;

    editor_opens_workspace(&browser, &app, "ed").await;
    let stats = |id: &str| {
        format!(
            "document.querySelector('[data-testid=kb-row][data-id={}] [data-testid=kb-row-stats]').textContent",
            json!(id)
        )
    };
    browser
        .wait_for(
            &format!("{} === 'Served 1 · helpful 1'", stats("parking")),
            "the parking article's served and helpful counts",
        )
        .await;
    assert_eq!(
        browser.js(&format!("return {};", stats("hours"))).await,
        json!("Not served in the last 30 days")
    );

    // Parking has a Spanish version; an article without one is listed.
    let missing = browser
        .js("return [...document.querySelectorAll('[data-testid=kb-missing] button')].map(b => b.dataset.id);")
        .await;
    let missing: Vec<&str> = missing
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!missing.contains(&"parking"), "{missing:?}");
    assert!(!missing.is_empty(), "the fixture has untranslated articles");
    let badge = |id: &str| {
        format!(
            "return !!document.querySelector('[data-testid=kb-row][data-id={}] .badge-missing');",
            json!(id)
        )
    };
    assert_eq!(browser.js(&badge("parking")).await, json!(false));
    assert_eq!(browser.js(&badge(missing[0])).await, json!(true));

    // Finding an article by a word of its title.
    browser
        .by_testid("kb-filter")
        .await
        .send_keys("park")
        .await
        .unwrap();
    let shown = browser
        .js("return [...document.querySelectorAll('[data-testid=kb-row]')].map(b => b.dataset.id);")
        .await;
    assert!(
        shown.as_array().unwrap().contains(&json!("parking"))
            && !shown.as_array().unwrap().contains(&json!("hours")),
        "{shown}"
    );
}
