//! Messages to patients by e-mail, through the real server, its database
//! and a real SMTP exchange with a sink that records what it receives
//! (texts are in `texts.rs`).

use std::time::Duration;

use serde_json::{Value, json};

use super::helpers::smtp::{Mail, SmtpSink};
use super::helpers::{TestApp, choice_values, outbox_settled, spawn_app_with, turn};

const FROM: &str = "Cedar Valley Health <frontdesk@clinic.example>";
pub(crate) const PUBLIC: &str = "https://chat.clinic.example";
/// How long a message may take to arrive (the sender looks every 2 s).
pub(crate) const ARRIVES: Duration = Duration::from_secs(15);

pub(crate) async fn with_mail(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |s| {
        s.channels.smtp_url = Some(url);
        s.channels.mail_from = Some(FROM.into());
        s.channels.outbox_retry_secs = 1;
        s.public_url = Some(PUBLIC.into());
    })
    .await
}

/// Books the first flu shot in a new chat with an e-mail address as the
/// contact; returns the confirmation code the chat showed.
async fn book_by_email(app: &TestApp, email: &str) -> String {
    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "m1", "I need an appointment", None).await;
    let slots = turn(&mut chat, "m2", "Flu shot", Some("type:flu-shot")).await;
    let pick = choice_values(&slots)[0].clone();
    turn(&mut chat, "m3", "that one", Some(&pick)).await;
    turn(&mut chat, "m4", "Ana Ruiz", None).await;
    turn(&mut chat, "m5", "03/14/1985", None).await;
    let summary = turn(&mut chat, "m6", email, None).await;
    assert!(
        summary["text"].as_str().unwrap().contains("We'll email"),
        "{summary}"
    );
    let booked = turn(&mut chat, "m7", "Yes, book it", Some("confirm:yes")).await;
    let text = booked["text"].as_str().unwrap();
    let at = text.find("confirmation code is ").expect("booked") + "confirmation code is ".len();
    text[at..at + 8].to_owned()
}

/// The value of header `name` in a readable mail.
pub(crate) fn header<'a>(mail: &'a str, name: &str) -> &'a str {
    mail.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_booking_in_the_chat_is_confirmed_by_email_in_a_plain_and_an_html_part() {
    let sink = SmtpSink::start().await;
    let app = with_mail(&sink).await;
    let code = book_by_email(&app, "ana@example.com").await;

    let mails = sink.wait_for(1, ARRIVES).await;
    let Mail { from, to, .. } = &mails[0];
    assert_eq!(from, "<frontdesk@clinic.example>");
    assert_eq!(to, &vec!["<ana@example.com>".to_owned()]);
    let mail = mails[0].readable();
    assert_eq!(header(&mail, "To"), "ana@example.com");
    assert_eq!(
        header(&mail, "Subject"),
        "Your appointment at Test Clinic is booked"
    );
    assert!(
        header(&mail, "Content-Type").starts_with("multipart/alternative"),
        "{mail}"
    );
    assert!(
        mail.contains("Content-Type: text/plain; charset=utf-8"),
        "{mail}"
    );
    assert!(
        mail.contains("Content-Type: text/html; charset=utf-8"),
        "{mail}"
    );
    assert!(
        mail.contains(&format!("Your confirmation code is {code}.")),
        "{mail}"
    );
    assert!(mail.contains("at Main Campus"), "{mail}");
    assert!(
        mail.contains(&format!("{PUBLIC}/calendar/{code}-")),
        "{mail}"
    );
    // Neither the patient's name nor the kind of visit is in it.
    assert!(
        !mail.contains("Ana Ruiz") && !mail.to_lowercase().contains("flu"),
        "{mail}"
    );

    // Sent once: marked sent, so no later pass sends it again.
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 0));
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_server_that_says_try_later_gets_the_message_once_it_takes_it() {
    let sink = SmtpSink::start().await;
    sink.refuse_next(&["451 4.3.0 try again later", "421 4.3.2 closing"]);
    let app = with_mail(&sink).await;
    let code = book_by_email(&app, "ana@example.com").await;
    let mails = sink.wait_for(1, ARRIVES * 2).await;
    assert_eq!(sink.refused(), 2, "two refusals, then the message");
    assert!(mails[0].readable().contains(&code));
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 0));
    assert_eq!(sink.received().len(), 1, "one message, not one per try");
}

#[tokio::test]
async fn a_refused_address_is_not_tried_again() {
    let sink = SmtpSink::start().await;
    sink.refuse_next(&["550 5.1.1 no such mailbox"]);
    let app = with_mail(&sink).await;
    book_by_email(&app, "nobody@example.com").await;
    // Failed for good: no later pass tries it again.
    assert_eq!(outbox_settled(&app.database_url()).await, (0, 1));
    assert_eq!(sink.refused(), 1, "a permanent refusal is final");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn an_agents_booking_confirms_in_the_patients_language_and_only_by_the_chosen_channel() {
    let sink = SmtpSink::start().await;
    let app = with_mail(&sink).await;
    let cookie = app.login_admin().await;
    let slots: Vec<Value> = reqwest::get(app.url("/api/slots?type=flu-shot&days=14"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let book = |slot: &Value, patient: Value| {
        let body = json!({"slot": slot["id"], "patient": patient});
        reqwest::Client::new()
            .post(app.url("/api/appointments"))
            .header("cookie", &cookie)
            .json(&body)
            .send()
    };
    // Contact by text: the e-mail address given is not written to.
    let by_text = book(
        &slots[0],
        json!({"name": "Luis Vega", "dob": "1970-01-02", "phone": "555-010-9999",
               "email": "luis@example.com", "contact": "text"}),
    )
    .await
    .unwrap();
    assert_eq!(by_text.status(), 201);
    let by_mail: Value = book(
        &slots[1],
        json!({"name": "Rosa Díaz", "dob": "1980-05-06", "email": "rosa@example.com",
               "contact": "email", "lang": "es"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mails = sink.wait_for(1, ARRIVES).await;
    let mail = mails[0].readable();
    assert_eq!(header(&mail, "To"), "rosa@example.com");
    assert!(mail.contains("Su código de confirmación es"), "{mail}");
    assert!(mail.contains(by_mail["code"].as_str().unwrap()));
    // One message written in all: none for the text-message patient.
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 0));
    assert_eq!(sink.received().len(), 1);

    let bad = book(
        &slots[2],
        json!({"name": "Rosa Díaz", "dob": "1980-05-06", "email": "rosa@example.com",
               "contact": "email", "lang": "fr"}),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["message"], "patient.lang must be en or es");
}

#[tokio::test]
async fn a_half_configured_mail_channel_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = frontdesk::config::Settings::ephemeral(
        super::helpers::database_url(dir.path()),
        super::helpers::knowledge_dir(),
    );
    settings.data.audit_key_file = super::helpers::audit_key_file(dir.path());
    settings.channels.smtp_url = Some("smtp://127.0.0.1:2525".into());
    let Err(e) = frontdesk::startup::Application::build(settings.clone()).await else {
        panic!("started without a sender address");
    };
    assert!(format!("{e:#}").contains("FRONTDESK_SMTP_URL needs FRONTDESK_MAIL_FROM"));
    settings.channels.mail_from = Some("frontdesk@clinic.example".into());
    settings.channels.smtp_url = Some("http://127.0.0.1:2525".into());
    let Err(e) = frontdesk::startup::Application::build(settings).await else {
        panic!("started with a URL that is not SMTP");
    };
    assert!(
        format!("{e:#}").contains("starts with smtp:// or smtps://"),
        "{e:#}"
    );
}

/// An agent's booking of the first open flu shot for a patient who chose
/// e-mail; returns its code.
pub(crate) async fn agent_books_by_email(app: &TestApp, cookie: &str, nth: usize) -> String {
    let patient = json!({"name": "Rosa Díaz", "dob": "1980-05-06",
        "email": "rosa@example.com", "contact": "email"});
    app.book_flu_shot(cookie, nth, patient).await
}

#[tokio::test]
async fn moving_and_cancelling_an_appointment_are_told_in_the_chosen_channel() {
    let sink = SmtpSink::start().await;
    let app = with_mail(&sink).await;
    let cookie = app.login_admin().await;
    let code = agent_books_by_email(&app, &cookie, 0).await;
    sink.wait_for(1, ARRIVES).await;

    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "r1", "I need to reschedule", None).await;
    turn(&mut chat, "r2", &code, None).await;
    let slots = turn(&mut chat, "r3", "1980-05-06", None).await;
    let pick = choice_values(&slots)[1].clone();
    turn(&mut chat, "r4", "that one", Some(&pick)).await;
    let moved = turn(&mut chat, "r5", "Yes", Some("confirm:yes")).await;
    let text = moved["text"].as_str().unwrap();
    let at = text.find("confirmation code is ").expect("moved") + "confirmation code is ".len();
    let new_code = text[at..at + 8].to_owned();

    let mails = sink.wait_for(2, ARRIVES).await;
    let mail = mails[1].readable();
    assert_eq!(
        header(&mail, "Subject"),
        "Your appointment at Test Clinic has moved"
    );
    assert!(
        mail.contains(&format!("Your new confirmation code is {new_code};")),
        "{mail}"
    );

    let cancelled = reqwest::Client::new()
        .delete(app.url(&format!("/api/appointments/{new_code}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
    let mails = sink.wait_for(3, ARRIVES).await;
    let mail = mails[2].readable();
    assert_eq!(
        header(&mail, "Subject"),
        "Your appointment at Test Clinic is cancelled"
    );
    assert_eq!(header(&mail, "To"), "rosa@example.com");
    assert_eq!(outbox_settled(&app.database_url()).await, (3, 0));
    assert_eq!(sink.received().len(), 3, "one message per change");
}

#[tokio::test]
async fn a_reminder_goes_out_once_before_a_visit_booked_in_advance() {
    let sink = SmtpSink::start().await;
    let knowledge = tempfile::tempdir().unwrap();
    super::helpers::copy_dir(&super::helpers::knowledge_dir(), knowledge.path());
    let clinic = knowledge.path().join("clinic.toml");
    let text = std::fs::read_to_string(&clinic).unwrap();
    // Flu shots are reminded a week ahead: every open time is that close.
    let text = text.replacen(
        "id = \"flu-shot\"\nname = \"Flu shot\"\nduration_min = 10\n",
        "id = \"flu-shot\"\nname = \"Flu shot\"\nduration_min = 10\nreminder_hours = 168\n",
        1,
    );
    assert!(text.contains("reminder_hours = 168"));
    std::fs::write(&clinic, text).unwrap();
    let url = sink.url();
    let dir = knowledge.path().to_owned();
    let app = spawn_app_with(move |s| {
        s.data.knowledge = dir;
        s.channels.smtp_url = Some(url);
        s.channels.mail_from = Some(FROM.into());
    })
    .await;
    let cookie = app.login_admin().await;
    let code = agent_books_by_email(&app, &cookie, 0).await;
    sink.wait_for(1, ARRIVES).await;
    // Booked inside the week before it: the confirmation said it all. (A
    // reminder would have been queued in the pass that sent it.)
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 0));
    assert_eq!(sink.received().len(), 1, "no reminder right after booking");

    // As if it had been booked a month ago.
    let changed = super::helpers::execute_around(
        &app.database_url(),
        "UPDATE appointments SET created_at = '2020-01-01T00:00:00.000Z' WHERE code = ?",
        "UPDATE appointments SET created_at = '2020-01-01T00:00:00Z' WHERE code = $1",
        &[&code],
    )
    .await;
    assert_eq!(changed, 1);
    let mails = sink.wait_for(2, ARRIVES).await;
    let mail = mails[1].readable();
    assert_eq!(
        header(&mail, "Subject"),
        "Reminder: your appointment at Test Clinic"
    );
    assert!(mail.contains(&code), "{mail}");
    assert_eq!(outbox_settled(&app.database_url()).await, (2, 0));
    assert_eq!(sink.received().len(), 2, "one reminder");
}

#[tokio::test]
async fn the_unsubscribe_link_stops_emails_only_when_its_button_is_pressed() {
    let sink = SmtpSink::start().await;
    let app = with_mail(&sink).await;
    book_by_email(&app, "Ana@Example.com").await;
    let mails = sink.wait_for(1, ARRIVES).await;
    let mail = mails[0].readable();
    // Headers as sent (no quoted-printable in them).
    let raw = mails[0].data.replace("\r\n ", " ");
    let header_link = header(&raw, "List-Unsubscribe");
    assert!(
        header_link.starts_with(&format!("<{PUBLIC}/channels/email/unsubscribe?")),
        "{mail}"
    );
    assert_eq!(
        header(&raw, "List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let link = header_link.trim_matches(['<', '>']);
    assert!(
        mail.contains(&format!("To stop these e-mails: {link}")),
        "{mail}"
    );
    let local = app.url(link.strip_prefix(PUBLIC).unwrap());

    // Opening the link (as a mail scanner would) changes nothing.
    let page = reqwest::get(&local).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<button type=\"submit\">Stop e-mails</button>")
    );
    let forged = reqwest::get(local.replace("token=", "token=0"))
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    book_by_email(&app, "ana@example.com").await;
    sink.wait_for(2, ARRIVES).await;

    // The one-click POST a mail program sends.
    let done = reqwest::Client::new()
        .post(&local)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("you will get no more e-mails")
    );
    book_by_email(&app, "ANA@example.com").await;
    // The third confirmation is marked failed (opted out), not sent.
    assert_eq!(outbox_settled(&app.database_url()).await, (2, 1));
    assert_eq!(sink.received().len(), 2, "nothing after unsubscribing");
}
