//! A whole chat by text message, through the real server and database: the
//! provider's signed webhook in, the SMS provider stand-in out, and an
//! agent's console socket in between.

use std::collections::HashMap;

use serde_json::json;

use super::helpers::sms::{self, SmsProvider};
use super::helpers::{Console, TestApp, spawn_app_with};
use super::outbound::{ARRIVES, PUBLIC};

const PATIENT: &str = "+15550104321";

async fn texting_clinic(provider: &SmsProvider) -> TestApp {
    let url = provider.url();
    spawn_app_with(move |s| {
        s.channels.sms_api_url = url;
        s.channels.sms_account_sid = Some(sms::SID.into());
        s.channels.sms_auth_token = Some(sms::TOKEN.into());
        s.channels.sms_from = Some(sms::FROM.into());
        s.public_url = Some(PUBLIC.into());
        s.channels.outbox_retry_secs = 1;
    })
    .await
}

/// The patient texts `body` (the provider's id of the text is `sid`); the
/// webhook answers once it is stored, with nothing to send itself.
async fn text(app: &TestApp, sid: &str, body: &str) {
    let response = sms::text_in(
        &app.url(sms::INBOUND),
        PUBLIC,
        sms::TOKEN,
        PATIENT,
        body,
        sid,
    )
    .await;
    assert_eq!(response.status(), 200);
    let twiml = response.text().await.unwrap();
    assert!(twiml.ends_with("<Response/>"), "{twiml}");
}

/// An agent, maria, with her console open and the queue empty.
async fn agent_online(app: &TestApp) -> Console {
    let cookie = app.staff("maria", "agent").await;
    let mut agent = app.console(&cookie).await;
    agent.queue_of(0).await;
    agent
}

/// The texts the patient's phone has got so far, after waiting for `n`.
async fn phone(provider: &SmsProvider, n: usize) -> Vec<String> {
    let texts = provider.wait_for(n, ARRIVES).await;
    texts
        .iter()
        .map(|t: &HashMap<String, String>| {
            assert_eq!(t["To"], PATIENT);
            assert_eq!(t["From"], sms::FROM);
            t["Body"].clone()
        })
        .collect()
}

#[tokio::test]
async fn a_question_by_text_is_answered_by_text_in_plain_words() {
    let provider = SmsProvider::start().await;
    let app = texting_clinic(&provider).await;
    text(
        &app,
        "SM00000000000000000000000000000a1",
        "Can I pay my bill in installments?",
    )
    .await;
    let texts = phone(&provider, 2).await;
    assert!(
        texts[0].contains("automated assistant"),
        "the greeting first: {texts:?}"
    );
    let answer = &texts[1];
    assert!(
        answer.contains("monthly payments")
            && answer.contains("payment options (https://example.org/pay)"),
        "the article's words, its link as an address: {answer}"
    );
    assert!(
        !answer.contains("**") && !answer.contains("](") && !answer.contains('<'),
        "no markup on a phone: {answer}"
    );
    assert!(answer.chars().count() <= 1600);

    // The provider sends the same webhook again: nothing new is stored or sent.
    text(
        &app,
        "SM00000000000000000000000000000a1",
        "Can I pay my bill in installments?",
    )
    .await;
    let settled = super::helpers::outbox_settled(&app.database_url()).await;
    assert_eq!(settled, (2, 0));
    assert_eq!(provider.taken().len(), 2);

    // Spanish in, Spanish out, in the same conversation.
    text(
        &app,
        "SM00000000000000000000000000000a2",
        "¿Cuál es su horario?",
    )
    .await;
    let texts = phone(&provider, 3).await;
    assert!(
        texts[2].contains("lunes") || texts[2].contains("horario"),
        "{}",
        texts[2]
    );
}

#[tokio::test]
async fn an_emergency_by_text_gets_the_guidance_and_reaches_an_agent_flagged_urgent() {
    let provider = SmsProvider::start().await;
    let app = texting_clinic(&provider).await;
    let mut agent = agent_online(&app).await;

    text(
        &app,
        "SM00000000000000000000000000000b1",
        "I want to kill myself",
    )
    .await;
    let items = agent.queue_of(1).await;
    assert_eq!(items[0]["reason"], "emergency");
    assert_eq!(items[0]["priority"], "urgent");
    let texts = phone(&provider, 3).await;
    assert!(texts.iter().any(|t| t.contains("988")), "{texts:?}");
}

#[tokio::test]
async fn a_chat_by_text_goes_to_an_agent_and_back_to_the_bot() {
    let provider = SmsProvider::start().await;
    let app = texting_clinic(&provider).await;
    let mut agent = agent_online(&app).await;

    text(
        &app,
        "SM00000000000000000000000000000c1",
        "I want to talk to a real person",
    )
    .await;
    let conversation = agent.only_waiting().await;
    let texts = phone(&provider, 2).await;
    assert!(texts[1].contains("connecting you"), "queued: {texts:?}");

    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    let claimed = agent.until("claimed").await;
    assert_eq!(
        claimed["context"]["channel"], "sms",
        "the agent sees it is a text chat"
    );
    let texts = phone(&provider, 3).await;
    assert!(texts[2].contains("maria from the front desk"), "{texts:?}");

    agent
        .send_json(json!({"type": "say", "conversation": conversation, "id": "a1", "text": "Hi, I'm Maria. How can I help?"}))
        .await;
    agent.until("ack").await;
    let texts = phone(&provider, 4).await;
    assert_eq!(texts[3], "Hi, I'm Maria. How can I help?");

    text(
        &app,
        "SM00000000000000000000000000000c2",
        "I was charged twice",
    )
    .await;
    let message = agent.until("message").await;
    assert_eq!(message["from"], "patient");
    assert_eq!(message["text"], "I was charged twice");

    agent
        .send_json(json!({"type": "return_to_bot", "conversation": conversation}))
        .await;
    let texts = phone(&provider, 5).await;
    assert!(texts[4].contains("automated assistant"), "{texts:?}");

    text(
        &app,
        "SM00000000000000000000000000000c3",
        "Can I pay my bill in installments?",
    )
    .await;
    let texts = phone(&provider, 6).await;
    assert!(
        texts[5].contains("monthly payments"),
        "the bot again: {texts:?}"
    );
}

#[tokio::test]
async fn a_number_answers_a_numbered_list_and_bad_texts_are_refused() {
    let provider = SmsProvider::start().await;
    let app = texting_clinic(&provider).await;
    text(
        &app,
        "SM00000000000000000000000000000d1",
        "I need an appointment",
    )
    .await;
    let texts = phone(&provider, 2).await;
    assert!(texts[1].contains("Reply with a number:\n1 "), "{texts:?}");
    // "1" presses the first button: the flow moves on to its next question.
    text(&app, "SM00000000000000000000000000000d2", "1").await;
    let texts = phone(&provider, 3).await;
    assert_ne!(texts[2], texts[1], "{texts:?}");
    assert!(!texts[2].contains("didn't"), "understood: {texts:?}");

    // A webhook without the provider's id of the text is refused.
    let response = sms::text_in(
        &app.url(sms::INBOUND),
        PUBLIC,
        sms::TOKEN,
        PATIENT,
        "hello",
        "",
    )
    .await;
    assert_eq!(response.status(), 400);
    // An empty text (a picture alone) is answered with why, by text.
    text(&app, "SM00000000000000000000000000000d3", "").await;
    let texts = phone(&provider, 4).await;
    assert!(texts[3].contains("empty"), "{texts:?}");
}

#[tokio::test]
async fn the_insights_count_conversations_and_messages_per_channel() {
    let provider = SmsProvider::start().await;
    let app = texting_clinic(&provider).await;
    let mut agent = agent_online(&app).await;
    let lead = app.staff("lee", "supervisor").await;

    // By text: answered by the bot. On the website: handed to a person.
    text(
        &app,
        "SM00000000000000000000000000000e1",
        "Can I pay my bill in installments?",
    )
    .await;
    phone(&provider, 2).await;
    let mut web = app.chat().await;
    super::helpers::ask_for_person(&mut web).await;
    agent.queue_of(1).await;
    super::helpers::outbox_settled(&app.database_url()).await;

    let report: serde_json::Value = app
        .get_as(&lead, "/api/insights")
        .await
        .json()
        .await
        .unwrap();
    let channels = &report["channels"];
    assert_eq!(channels["sms"]["conversations"], 1, "{channels}");
    assert_eq!(channels["sms"]["self_service_rate"], 1.0, "{channels}");
    assert_eq!(channels["web"]["conversations"], 1, "{channels}");
    assert_eq!(channels["web"]["escalated"], 1, "{channels}");
    assert_eq!(channels["web"]["self_service_rate"], 0.0, "{channels}");
    let replies = &report["messages"]["chat_reply"];
    assert_eq!(replies["sent"], 2, "the greeting and the answer: {report}");
    assert_eq!(replies["failed"], 0);
}

#[tokio::test]
async fn texts_reach_the_phone_in_the_order_they_were_said_even_after_a_retry() {
    let provider = SmsProvider::start().await;
    // The greeting is refused once ("try later"); the answer waits for it.
    provider.fail_next(&[503]);
    let app = texting_clinic(&provider).await;
    text(
        &app,
        "SM00000000000000000000000000000f1",
        "Can I pay my bill in installments?",
    )
    .await;
    let texts = phone(&provider, 2).await;
    assert_eq!(provider.refused(), 1);
    assert!(
        texts[0].contains("automated assistant"),
        "the greeting first: {texts:?}"
    );
    assert!(
        texts[1].contains("monthly payments"),
        "then the answer: {texts:?}"
    );
}

#[tokio::test]
async fn a_number_that_said_stop_is_told_how_to_chat_again_and_still_gets_danger_guidance() {
    let provider = SmsProvider::start().await;
    let app = texting_clinic(&provider).await;
    let url = app.url(sms::INBOUND);
    let send = |sid: &'static str, body: &'static str| {
        let url = url.clone();
        async move {
            let r = sms::text_in(&url, PUBLIC, sms::TOKEN, PATIENT, body, sid).await;
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    send("SM00000000000000000000000000000g1", "STOP").await;
    let hello = send("SM00000000000000000000000000000g2", "what are your hours?").await;
    assert!(hello.contains("Reply START"), "{hello}");
    let danger = send("SM00000000000000000000000000000g3", "I want to kill myself").await;
    assert!(danger.contains("988"), "{danger}");
    assert_eq!(
        super::helpers::outbox_settled(&app.database_url()).await,
        (0, 0)
    );
    assert!(provider.taken().is_empty(), "no chat was opened for it");
}
