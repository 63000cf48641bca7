//! The booking flow understands the patient's own words: the kind of
//! appointment ("a checkup for my son"), a kind and a time said together
//! ("I need a flu shot next tuesday morning"), and a re-ask that says what
//! it understood instead of repeating the list.

use frontdesk::config::ModelMode;
use frontdesk::semantic::ModelStatus;
use jiff::civil::Weekday;
use serde_json::{Value, json};

use super::booking::{choice_values, offered_starts, turn};
use super::helpers::book_in_chat;
use super::helpers::{TestApp, bundled_knowledge, model_dir_or_skip, spawn_app_with};

async fn clinic_app() -> TestApp {
    spawn_app_with(|s| s.data.knowledge = bundled_knowledge()).await
}

/// Every time offered is on a Tuesday before noon, and there are some.
fn assert_tuesday_mornings(times: &Value) {
    let starts = offered_starts(times);
    assert!(!starts.is_empty(), "{times}");
    for start in &starts {
        assert_eq!(start.weekday(), Weekday::Tuesday, "{times}");
        assert!(start.hour() < 12, "{start}: {times}");
    }
}

fn text(reply: &Value) -> &str {
    reply["text"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_kind_of_appointment_is_understood_from_the_patients_words_and_said_back() {
    let app = clinic_app().await;
    for (said, kind, says) in [
        (
            "a checkup for my son",
            "annual-physical",
            "For an annual physical:",
        ),
        ("something for my cough", "sick-visit", "For a sick visit:"),
    ] {
        let mut chat = app.chat().await;
        chat.start().await;
        let kinds = turn(&mut chat, "k1", "I need an appointment", None).await;
        assert!(
            choice_values(&kinds).contains(&format!("type:{kind}")),
            "{kinds}"
        );
        let next = turn(&mut chat, "k2", said, None).await;
        assert!(text(&next).starts_with(says), "{said}: {next}");
        // Several providers offer it: the provider question, not the list again.
        assert_eq!(choice_values(&next)[0], "provider:any", "{said}: {next}");
    }
}

#[tokio::test]
async fn a_kind_and_a_time_said_together_go_straight_to_those_times() {
    let app = clinic_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    let times = turn(
        &mut chat,
        "t1",
        "I need a flu shot next tuesday morning",
        None,
    )
    .await;
    assert!(text(&times).starts_with("For a flu shot:"), "{times}");
    assert_tuesday_mornings(&times);
}

#[tokio::test]
async fn a_time_without_a_kind_is_kept_and_the_reask_says_what_was_understood() {
    let app = clinic_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "r1", "I need an appointment", None).await;
    let reask = turn(&mut chat, "r2", "next tuesday morning", None).await;
    let said = text(&reask);
    assert!(said.starts_with("Got it: "), "{reask}");
    assert!(said.contains("in the morning"), "{reask}");
    assert!(!said.contains("Please pick"), "{reask}");
    let values = choice_values(&reask);
    assert!(values.contains(&"type:sick-visit".to_owned()), "{reask}");
    assert!(values.contains(&"handoff".to_owned()), "{reask}");
    // The kind from the buttons, then no preference: Tuesday morning's times.
    turn(&mut chat, "r3", "Sick visit", Some("type:sick-visit")).await;
    let times = turn(&mut chat, "r4", "whoever is free first", None).await;
    assert_tuesday_mornings(&times);
}

#[tokio::test]
async fn a_provider_name_that_is_not_here_is_said_and_the_providers_offered() {
    let app = clinic_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "p1", "I need an appointment", None).await;
    turn(&mut chat, "p2", "Sick visit", Some("type:sick-visit")).await;
    let reask = turn(&mut chat, "p3", "Dr. Zhivago", None).await;
    assert!(
        text(&reask).starts_with("I didn't find a provider by that name"),
        "{reask}"
    );
}

#[tokio::test]
async fn asking_about_a_kind_is_a_question_not_a_booking() {
    let app = clinic_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    for (id, question) in [
        ("q1", "how much is a flu shot?"),
        ("q2", "I need my records from my physical"),
        ("q3", "should I get a flu shot this year"),
    ] {
        let reply = turn(&mut chat, id, question, None).await;
        assert!(
            !choice_values(&reply).iter().any(|v| v.starts_with("slot:")
                || v.starts_with("type:")
                || v.starts_with("provider:")),
            "{question}: {reply}"
        );
        assert!(!text(&reply).starts_with("For a"), "{question}: {reply}");
    }
}

#[tokio::test]
async fn with_the_model_a_kind_no_listed_word_names_is_understood() {
    let Some(dir) = model_dir_or_skip() else {
        return;
    };
    let app = spawn_app_with(|s| {
        s.data.knowledge = bundled_knowledge();
        s.model.mode = ModelMode::Local;
        s.model.model_dir = dir;
        s.model.model_wait_ms = 10_000;
    })
    .await;
    // The kinds need the model loaded, not the articles' embeddings (which
    // take minutes on a first start with a cold cache).
    assert_eq!(app.model_settled().await, ModelStatus::Ready);
    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "m1", "I need an appointment", None).await;
    let next = turn(&mut chat, "m2", "i feel awful, body aches and chills", None).await;
    assert!(text(&next).starts_with("For a sick visit:"), "{next}");
}

/// A hundred sockets from one address cannot fill the calendar: past the
/// daily limit the chat refuses kindly and offers a person, and /metrics
/// counts the refusal for supervisors.
#[tokio::test]
async fn chat_bookings_from_one_address_are_capped_per_day() {
    let app = spawn_app_with(|s| {
        s.limits.chat_bookings_per_address = 2;
        s.metrics_token = Some("scrape".into());
    })
    .await;
    for (i, contact) in ["555-010-0001", "555-010-0002"].iter().enumerate() {
        let mut chat = app.chat().await;
        chat.start().await;
        let done = book_in_chat(&mut chat, contact).await;
        assert!(text(&done).contains("You're booked"), "booking {i}: {done}");
    }
    let mut third = app.chat().await;
    third.start().await;
    let refused = book_in_chat(&mut third, "555-010-0003").await;
    assert!(
        text(&refused).contains("can't book more appointments from this chat today"),
        "{refused}"
    );
    assert_eq!(choice_values(&refused), ["handoff"]);
    let metrics = super::helpers::scrape_metrics(app.addr, "scrape").await;
    assert!(
        metrics.contains("frontdesk_chat_bookings_limited_total 1"),
        "{metrics}"
    );
}

/// The same phone number cannot be booked again and again from fresh chats.
#[tokio::test]
async fn chat_bookings_to_one_contact_are_capped_per_day() {
    let app = spawn_app_with(|s| s.limits.chat_bookings_per_contact = 1).await;
    let mut first = app.chat().await;
    first.start().await;
    assert!(text(&book_in_chat(&mut first, "555-010-0009").await).contains("You're booked"));
    let mut second = app.chat().await;
    second.start().await;
    let refused = book_in_chat(&mut second, "555-010-0009").await;
    assert!(text(&refused).contains("can't book more"), "{refused}");
}

/// Many chat bookings in a short time (each under its own caps) alert the
/// supervisors and admins in their consoles, once a window, and /metrics
/// counts it; agents working chats are not interrupted.
#[tokio::test]
async fn a_burst_of_chat_bookings_alerts_supervisors() {
    let app = spawn_app_with(|s| {
        s.limits.chat_booking_burst = 3;
        s.limits.chat_bookings_per_address = 2;
        s.metrics_token = Some("scrape".into());
    })
    .await;
    let mut supervisor = app.console(&app.staff("sam", "supervisor").await).await;
    let mut agent = app.console(&app.staff("maria", "agent").await).await;
    for contact in ["555-010-0011", "555-010-0012", "555-010-0013"] {
        let mut chat = app.chat().await;
        chat.start().await;
        book_in_chat(&mut chat, contact).await;
    }
    let alert = supervisor.until("booking_alert").await;
    assert_eq!(
        (&alert["bookings"], &alert["refused"], &alert["minutes"]),
        (&json!(2), &json!(1), &json!(10)),
        "{alert}"
    );
    // The agent's console got no alert before answering its next frame.
    agent
        .send_json(json!({"type": "claim", "conversation": "not-a-chat"}))
        .await;
    loop {
        let frame = agent.recv().await;
        assert_ne!(frame["type"], "booking_alert", "{frame}");
        if frame["type"] == "error" {
            break;
        }
    }
    // An admin who signs in later still sees it.
    let mut admin = app.console(&app.login_admin().await).await;
    admin.until("booking_alert").await;
    let metrics = super::helpers::scrape_metrics(app.addr, "scrape").await;
    assert!(
        metrics.contains("frontdesk_chat_booking_bursts_total 1"),
        "{metrics}"
    );
}
