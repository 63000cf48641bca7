//! What a patient sees in the chat: answers, choices, a person, history
//! after a reload, and a server restart in the middle of a conversation.

use serde_json::{Value, json};

use super::harness::{Browser, browser_or_skip};
use super::helpers::{Chat, knowledge_dir, patient_texts, spawn_app};

/// The texts of the patient's and the bot's messages, in order, as shown.
const BUBBLES: &str = "return [...root.querySelectorAll('.list > .msg.patient, .list > .msg.bot')]
    .map(li => (li.classList.contains('patient') ? 'patient: ' : 'bot: ') + li.querySelector('.bubble').textContent);";

async fn bubbles(browser: &Browser) -> Vec<String> {
    serde_json::from_value(browser.js(BUBBLES).await).expect("a list of strings")
}

/// Opens the demo page's widget and asks where to park; waits for the answer.
async fn ask_about_parking(browser: &Browser, app: &super::helpers::TestApp) {
    browser.demo_page(app.addr).await;
    browser.open_widget().await;
    browser.send_message("Where do I park?").await;
    browser
        .wait_for(&bot_says("garage on Alder Street"), "the parking answer")
        .await;
}

/// A condition: some bot bubble contains `text`.
fn bot_says(text: &str) -> String {
    format!(
        "[...root.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes({}))",
        json!(text)
    )
}

/// A condition: the patient's messages, delivered (not pending), are exactly `texts`.
fn patient_said(texts: &[&str]) -> String {
    format!(
        "!root.querySelector('.msg.pending') && JSON.stringify([...root.querySelectorAll('.msg.patient .bubble')].map(b => b.textContent)) === {}",
        json!(json!(texts).to_string())
    )
}

/// The first line of the fixture article with this title.
fn fixture_answer(title: &str) -> String {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            if entry.path().is_dir() {
                walk(&entry.path(), out);
            } else if entry.path().extension().is_some_and(|e| e == "md") {
                out.push(entry.path());
            }
        }
    }
    let mut files = Vec::new();
    walk(&knowledge_dir(), &mut files);
    let wanted = format!("title = {}", json!(title));
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .find(|text| text.lines().any(|l| l.trim() == wanted))
        .and_then(|text| text.split("+++").nth(2).map(|body| body.trim().to_owned()))
        .and_then(|body| body.lines().next().map(str::to_owned))
        .unwrap_or_else(|| panic!("no fixture article titled {title}"))
}

#[tokio::test]
async fn an_faq_question_is_answered_in_the_panel() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    browser.demo_page(app.addr).await;
    browser.open_widget().await;
    browser.send_message("Do you offer payment plans?").await;
    browser
        .wait_for(
            &bot_says("split into monthly payments"),
            "the payment-plans answer",
        )
        .await;
    browser
        .wait_for(
            &patient_said(&["Do you offer payment plans?"]),
            "the question, delivered",
        )
        .await;
    // Markdown arrives as formatting, not as asterisks.
    let bold = browser
        .js("return [...root.querySelectorAll('.msg.bot .bubble strong')].map(s => s.textContent);")
        .await;
    assert_eq!(bold, json!(["monthly payments"]));
    let errors = browser.console_errors().await;
    assert!(
        errors.is_empty(),
        "console errors on the demo page: {errors:?}"
    );
}

#[tokio::test]
async fn clicking_a_suggested_choice_answers_it() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    browser.demo_page(app.addr).await;
    browser.open_widget().await;
    browser.send_message("appointment").await;
    const LAST_CHOICES: &str =
        "[...root.querySelectorAll('.msg.bot')].pop().querySelectorAll('button.choice')";
    browser
        .wait_for(
            &format!("{LAST_CHOICES}.length >= 3 && ![...{LAST_CHOICES}].some(b => b.disabled)"),
            "choices to click",
        )
        .await;
    let labels: Vec<String> = serde_json::from_value(
        browser
            .js(&format!(
                "return [...{LAST_CHOICES}].map(b => b.textContent);"
            ))
            .await,
    )
    .unwrap();
    assert!((3..=4).contains(&labels.len()), "{labels:?}");
    assert_eq!(labels.last().unwrap(), "None of these");

    browser
        .widget(".msg:last-child button.choice")
        .await
        .click()
        .await
        .expect("the first choice is clickable");
    let answer = fixture_answer(&labels[0]);
    browser
        .wait_for(&bot_says(&answer), "the chosen article's answer")
        .await;
    browser
        .wait_for(
            &patient_said(&["appointment", &labels[0]]),
            "the choice shown as the patient's reply",
        )
        .await;
}

#[tokio::test]
async fn talking_to_a_person_shows_the_agents_reply_and_name() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let mut agent = app.console(&cookie).await;
    browser.demo_page(app.addr).await;
    browser.open_widget().await;

    browser
        .widget_button("Talk to a person")
        .await
        .click()
        .await
        .expect("the handoff button is clickable");
    browser
        .wait_for(
            "root.querySelector('.queue:not([hidden])').textContent.includes('You are number 1 in line.')",
            "the place in the queue",
        )
        .await;

    let queue = agent.queue_of(1).await;
    assert_eq!(queue[0]["reason"], "patient_request");
    let conversation = queue[0]["conversation"].as_str().unwrap().to_owned();
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent.until("claimed").await;
    browser
        .wait_for(
            "root.querySelector('.list').textContent.includes('maria joined the chat.') && root.querySelector('.queue').hidden",
            "the agent joining",
        )
        .await;
    agent
        .send_json(json!({"type": "say", "conversation": conversation, "id": "a1", "text": "Hello from Maria"}))
        .await;
    agent.until("ack").await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.agent')].some(li => li.querySelector('.bubble').textContent === 'Hello from Maria' && li.querySelector('.meta').textContent.includes('maria'))",
            "the agent's message with her name",
        )
        .await;

    // And the patient's answer reaches the agent.
    browser.send_message("Thanks Maria").await;
    let message = agent.until("message").await;
    assert_eq!(message["text"], "Thanks Maria");
}

#[tokio::test]
async fn a_reload_shows_the_conversation_again() {
    let browser = browser_or_skip!();
    let app = spawn_app().await;
    ask_about_parking(&browser, &app).await;
    browser
        .wait_for(
            &patient_said(&["Where do I park?"]),
            "the question, delivered",
        )
        .await;
    let before = bubbles(&browser).await;

    browser.client.refresh().await.expect("the page reloads");
    browser
        .wait_for(
            "root && !root.querySelector('.panel').hidden && root.querySelector('.status').textContent.includes('Online')",
            "the panel, still open and connected, after the reload",
        )
        .await;
    browser
        .wait_for(&bot_says("garage on Alder Street"), "the answer, restored")
        .await;
    assert_eq!(
        bubbles(&browser).await,
        before,
        "the same conversation, once"
    );
    let token = browser
        .js("return Object.keys(localStorage).filter(k => k.endsWith(':resume')).map(k => localStorage.getItem(k));")
        .await;
    assert_eq!(
        token.as_array().unwrap().len(),
        1,
        "one resume token: {token}"
    );
}

#[tokio::test]
async fn a_message_typed_while_the_server_restarts_is_delivered_once_and_answered() {
    let browser = browser_or_skip!();
    let mut app = spawn_app().await;
    browser.demo_page(app.addr).await;
    browser.open_widget().await;
    browser.send_message("Where do I park?").await;
    browser
        .wait_for(&bot_says("garage on Alder Street"), "the first answer")
        .await;

    app.stop().await;
    browser
        .wait_for(
            "root.querySelector('.status').textContent.includes('Reconnecting')",
            "the widget to notice the server is gone",
        )
        .await;
    browser.send_message("Do you offer payment plans?").await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.patient.pending .bubble')].some(b => b.textContent === 'Do you offer payment plans?')",
            "the message shown as not yet delivered",
        )
        .await;

    app.start_again().await;
    browser
        .wait_for(
            &bot_says("split into monthly payments"),
            "the answer after reconnecting",
        )
        .await;
    browser
        .wait_for(
            &patient_said(&["Where do I park?", "Do you offer payment plans?"]),
            "both questions delivered, once each",
        )
        .await;
    let shown = bubbles(&browser).await;
    let answers = |needle: &str| shown.iter().filter(|b| b.contains(needle)).count();
    assert_eq!(answers("garage on Alder Street"), 1, "{shown:?}");
    assert_eq!(answers("monthly payments"), 1, "{shown:?}");

    // The server's record agrees: each question stored once, in order.
    let token = browser
        .js("return Object.keys(localStorage).filter(k => k.endsWith(':resume')).map(k => localStorage.getItem(k))[0];")
        .await;
    let mut chat = Chat::connect(app.addr, None).await.unwrap();
    let started: Value = chat.resume(token.as_str().expect("a resume token")).await;
    assert_eq!(
        patient_texts(&started),
        ["Where do I park?", "Do you offer payment plans?"]
    );
}

/// A long conversation reopens with its newest messages and a "Show earlier
/// messages" button that brings the rest, page by page, above them.
#[tokio::test]
async fn a_long_conversation_shows_earlier_messages_on_request() {
    let browser = browser_or_skip!();
    let app = super::helpers::spawn_app_with(|s| s.limits.messages_per_minute = 100_000).await;
    ask_about_parking(&browser, &app).await;
    // The same conversation grows from another device.
    let token = browser
        .js("return Object.keys(localStorage).filter(k => k.endsWith(':resume')).map(k => localStorage.getItem(k))[0];")
        .await;
    let mut other = Chat::connect(app.addr, None).await.unwrap();
    other.resume(token.as_str().unwrap()).await;
    for i in 0..70 {
        other
            .send_json(json!({"type": "say", "id": format!("o{i}"), "text": format!("question number {i}")}))
            .await;
        other.until("ack").await;
    }
    browser.client.refresh().await.expect("the page reloads");
    browser
        .wait_for(
            "root && root.querySelectorAll('.list > .msg[class*=\"patient\"]').length > 0 && !root.querySelector('.earlier').hidden",
            "the newest page and the earlier-messages button",
        )
        .await;
    let shown = |n: &str| {
        format!("root.querySelectorAll('.list > .msg.patient, .list > .msg.bot').length {n}")
    };
    let first_page: u64 = browser
        .js("return root.querySelectorAll('.list > .msg.patient, .list > .msg.bot').length;")
        .await
        .as_u64()
        .unwrap();
    browser
        .widget_button("Show earlier messages")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for(&shown(&format!("> {first_page}")), "earlier messages above")
        .await;
    browser
        .wait_for(
            &bot_says("garage on Alder Street"),
            "the first answer, paged in",
        )
        .await;
    browser
        .wait_for("root.querySelector('.earlier').hidden", "no more to show")
        .await;
}

/// A signed-in patient's token left in a shared browser is dropped when the
/// page no longer names them (signed out, or someone else): the widget
/// starts a fresh conversation and shows none of theirs.
#[tokio::test]
async fn a_token_left_by_a_signed_in_patient_is_not_reused_by_the_next_page() {
    let browser = browser_or_skip!();
    let secret = "clinic-shared-secret";
    let app = super::helpers::spawn_app_with(|s| s.identity_secret = Some(secret.into())).await;
    // Jana's conversation, signed in, from the clinic's portal.
    let mut jana = Chat::connect(app.addr, None).await.unwrap();
    let page = frontdesk::chat::identity::sign_for_page(secret, "jana", 240);
    jana.send_json(
        json!({"type": "start", "user": "jana", "user_sig": page.sig,
        "user_expires": page.expires, "user_nonce": page.nonce}),
    )
    .await;
    let hers = jana.expect("started").await;
    jana.say("j1", "about my biopsy results").await;
    drop(jana);
    let token = hers["resume"].as_str().unwrap().to_owned();

    // The same browser, now on a page without her (the demo page).
    browser.demo_page(app.addr).await;
    let key = browser
        .js("return Object.keys(localStorage).find(k => k.endsWith(':resume')) || ('frontdesk:' + location.origin + ':resume');")
        .await;
    let key = key.as_str().unwrap().to_owned();
    browser
        .js_with(
            "localStorage.setItem(arguments[0], arguments[1]); localStorage.setItem(arguments[0].replace(/resume$/, 'owner'), 'a1b2c3d4e5f60718'); return true;",
            vec![json!(key), json!(token)],
        )
        .await;
    browser.client.refresh().await.expect("the page reloads");
    browser.open_widget().await;
    browser
        .wait_for(
            "root.querySelector('.status').textContent.includes('Online')",
            "a connected chat",
        )
        .await;
    let shown = browser.widget_text().await;
    assert!(!shown.contains("biopsy"), "{shown}");
    let stored = browser
        .js_with(
            "return localStorage.getItem(arguments[0]);",
            vec![json!(key)],
        )
        .await;
    assert_ne!(stored.as_str(), Some(token.as_str()), "her token was kept");
}

/// A signed-in patient's page carries a signature that lasts minutes. On a
/// page rendered long ago the widget fetches a fresh one from the clinic's
/// own site and the patient's conversation comes back; a site that offers
/// no such URL gets a clear "reload the page", never an empty or someone
/// else's chat.
#[tokio::test]
async fn an_expired_sign_in_is_renewed_from_the_clinics_site_or_asks_for_a_reload() {
    use axum::routing::get;
    use frontdesk::chat::identity::sign_for_page;

    let browser = browser_or_skip!();
    const SECRET: &str = "clinic-shared-secret";
    let app = super::helpers::spawn_app_with(|s| s.identity_secret = Some(SECRET.into())).await;
    // Jana's conversation from her phone.
    let mut phone = Chat::connect(app.addr, None).await.unwrap();
    let fresh = sign_for_page(SECRET, "jana", 240);
    phone
        .send_json(
            json!({"type": "start", "user": "jana", "user_sig": fresh.sig,
            "user_expires": fresh.expires, "user_nonce": fresh.nonce}),
        )
        .await;
    phone.expect("started").await;
    phone.say("j1", "is my referral to cardiology in").await;
    phone.expect("reply").await;
    drop(phone);

    // Her laptop shows pages rendered ten minutes ago.
    let stale = sign_for_page(SECRET, "jana", -600);
    let page = |renew: &str| {
        axum::response::Html(format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Portal</title></head>
<body><main><h1>Patient portal</h1></main>
<script src="http://{}/widget.js" data-title="Clinic" data-user="jana" data-user-expires="{}"
 data-user-nonce="{}" data-user-sig="{}" {renew} async></script></body></html>"#,
            app.addr, stale.expires, stale.nonce, stale.sig
        ))
    };
    let renewing = page(r#"data-user-sig-url="/frontdesk-signature""#);
    let plain = page("");
    let someone_else = page(r#"data-user-sig-url="/signed-out""#);
    let site = super::harness::clinic_site(
        axum::Router::new()
            .route("/", get(move || async move { renewing }))
            .route("/plain", get(move || async move { plain }))
            .route("/switched", get(move || async move { someone_else }))
            // Signed out meanwhile, and someone else signed in.
            .route(
                "/signed-out",
                get(|| async { axum::Json(sign_for_page(SECRET, "ivo", 240)) }),
            )
            .route(
                "/frontdesk-signature",
                get(|| async { axum::Json(sign_for_page(SECRET, "jana", 240)) }),
            ),
    )
    .await;

    browser.page_with_widget(&format!("http://{site}/")).await;
    browser.open_widget().await;
    browser
        .wait_for(
            "root.querySelector('.list').textContent.includes('referral to cardiology')",
            "her conversation, after a fresh signature",
        )
        .await;

    // The panel stays open across pages of the same tab.
    browser
        .page_with_widget(&format!("http://{site}/plain"))
        .await;
    browser
        .wait_for(
            "root.querySelector('.list').textContent.includes('Reload the page to continue')",
            "the reload message",
        )
        .await;
    let shown = browser.widget_text().await;
    assert!(!shown.contains("cardiology"), "{shown}");
    browser.widget_button("Reload page").await;

    // A fresh signature for someone else is not used: reload, not their chat.
    browser
        .page_with_widget(&format!("http://{site}/switched"))
        .await;
    browser
        .wait_for(
            "root.querySelector('.list').textContent.includes('Reload the page to continue')",
            "the reload message, not another patient's chat",
        )
        .await;
}
