//! Text messages to and from patients, through the real server, its
//! database and a stand-in for the SMS provider's API that checks what a
//! provider checks and records what it takes.

use serde_json::Value;

use super::helpers::sms::{self, SmsProvider};
use super::helpers::{TestApp, outbox_settled, spawn_app_with};
use super::outbound::{ARRIVES, PUBLIC};

async fn with_texts(provider: &SmsProvider) -> TestApp {
    let url = provider.url();
    spawn_app_with(move |s| {
        s.channels.sms_api_url = url;
        s.channels.sms_account_sid = Some(sms::SID.into());
        s.channels.sms_auth_token = Some(sms::TOKEN.into());
        s.channels.sms_from = Some(sms::FROM.into());
        s.channels.outbox_retry_secs = 1;
    })
    .await
}

#[tokio::test]
async fn a_booking_by_text_is_confirmed_by_text_once_the_provider_takes_it() {
    let provider = SmsProvider::start().await;
    provider.fail_next(&[500, 429]);
    let app = with_texts(&provider).await;
    let mut chat = app.chat().await;
    chat.start().await;
    let booked = super::helpers::book_in_chat(&mut chat, "(555) 010-1234").await;
    let text = booked["text"].as_str().unwrap();
    let at = text.find("confirmation code is ").expect("booked") + "confirmation code is ".len();
    let code = &text[at..at + 8];

    let texts = provider.wait_for(1, ARRIVES * 2).await;
    assert_eq!(provider.refused(), 2, "a 500 and a 429, then the text");
    let t = &texts[0];
    assert_eq!(t["To"], "+15550101234", "the number as typed, in E.164");
    assert_eq!(t["From"], sms::FROM);
    assert!(
        t["Body"].contains(code) && t["Body"].starts_with("Test Clinic:"),
        "{t:?}"
    );
    assert!(t["Body"].chars().count() <= 480);
    assert!(!t["Body"].contains("Ana Ruiz") && !t["Body"].to_lowercase().contains("sick"));
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 0));
    assert_eq!(provider.taken().len(), 1, "one text, not one per try");
}

#[tokio::test]
async fn half_set_text_settings_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = frontdesk::config::Settings::ephemeral(
        super::helpers::database_url(dir.path()),
        super::helpers::knowledge_dir(),
    );
    settings.data.audit_key_file = super::helpers::audit_key_file(dir.path());
    settings.channels.sms_account_sid = Some(sms::SID.into());
    settings.channels.sms_from = Some(sms::FROM.into());
    let Err(e) = frontdesk::startup::Application::build(settings).await else {
        panic!("started without the SMS auth token");
    };
    assert!(
        format!("{e:#}").contains("FRONTDESK_SMS_AUTH_TOKEN"),
        "{e:#}"
    );
}

/// A text from `from` to the clinic, as the provider posts it, signed
/// with `token`.
pub(crate) async fn text_in(
    app: &TestApp,
    token: &str,
    from: &str,
    body: &str,
) -> reqwest::Response {
    let url = app.url(sms::INBOUND);
    sms::text_in(
        &url,
        PUBLIC,
        token,
        from,
        body,
        "SM0000000000000000000000000000001",
    )
    .await
}

pub(crate) async fn with_texts_and_public_url(provider: &SmsProvider) -> TestApp {
    let url = provider.url();
    spawn_app_with(move |s| {
        s.channels.sms_api_url = url;
        s.channels.sms_account_sid = Some(sms::SID.into());
        s.channels.sms_auth_token = Some(sms::TOKEN.into());
        s.channels.sms_from = Some(sms::FROM.into());
        s.public_url = Some(PUBLIC.into());
    })
    .await
}

#[tokio::test]
async fn stop_by_text_stops_texts_to_that_number_and_start_brings_them_back() {
    let provider = SmsProvider::start().await;
    let app = with_texts_and_public_url(&provider).await;
    let stop = text_in(&app, sms::TOKEN, "+15550101234", "STOP").await;
    assert_eq!(stop.status(), 200);
    assert_eq!(stop.headers()["content-type"], "text/xml; charset=utf-8");
    let twiml = stop.text().await.unwrap();
    assert!(
        twiml.contains("<Response><Message>Test Clinic: you will get no more texts"),
        "{twiml}"
    );

    // A booking by text to that number (typed the usual way) sends nothing.
    let mut chat = app.chat().await;
    chat.start().await;
    super::helpers::book_in_chat(&mut chat, "555-010-1234").await;
    // Its confirmation is marked failed (opted out), not sent.
    assert_eq!(outbox_settled(&app.database_url()).await, (0, 1));
    assert!(
        provider.taken().is_empty(),
        "no text to a number that said STOP"
    );

    let start = text_in(&app, sms::TOKEN, "+15550101234", "Start").await;
    assert!(start.text().await.unwrap().contains("are on again"));
    let mut chat = app.chat().await;
    chat.start().await;
    super::helpers::book_in_chat(&mut chat, "555-010-1234").await;
    let texts = provider.wait_for(1, ARRIVES).await;
    assert_eq!(texts[0]["To"], "+15550101234");
}

#[tokio::test]
async fn an_incoming_text_must_carry_the_providers_signature() {
    let provider = SmsProvider::start().await;
    let app = with_texts_and_public_url(&provider).await;
    let forged = text_in(&app, "not-the-token", "+15550101234", "STOP").await;
    assert_eq!(forged.status(), 403);
    let body: Value = forged.json().await.unwrap();
    assert_eq!(body["message"], "the signature is not the SMS provider's");
    let unsigned = reqwest::Client::new()
        .post(app.url("/channels/sms/inbound"))
        .form(&[("From", "+15550101234"), ("Body", "STOP")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    let huge = reqwest::Client::new()
        .post(app.url("/channels/sms/inbound"))
        .body(vec![b'a'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413, "the body is bounded");
    // Nobody opted out by the forged STOP: a booking by text is sent.
    let mut chat = app.chat().await;
    chat.start().await;
    super::helpers::book_in_chat(&mut chat, "555-010-1234").await;
    provider.wait_for(1, ARRIVES).await;

    // Without text messages on, there is no webhook.
    let off = spawn_app_with(|s| s.public_url = Some(PUBLIC.into())).await;
    let none = text_in(&off, sms::TOKEN, "+15550101234", "STOP").await;
    assert_eq!(none.status(), 404);
}

#[tokio::test]
async fn help_by_text_says_what_the_number_does_in_the_patients_language() {
    let provider = SmsProvider::start().await;
    let app = with_texts_and_public_url(&provider).await;
    let help = text_in(&app, sms::TOKEN, "+15550101234", "HELP").await;
    let help = help.text().await.unwrap();
    assert!(
        help.contains("automated assistant") && help.contains("911") && help.contains("STOP"),
        "{help}"
    );
    let spanish = text_in(&app, sms::TOKEN, "+15550101234", "AYUDA")
        .await
        .text()
        .await
        .unwrap();
    assert!(spanish.contains("asistente automático"), "{spanish}");
}
