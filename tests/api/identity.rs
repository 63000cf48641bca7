//! Verified identity: a patient signed in on the clinic's site keeps one
//! conversation across devices; a forged signature gets nothing.

use frontdesk::chat::identity::sign;
use serde_json::json;

use crate::helpers::{patient_texts, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_signed_in_patient_finds_the_same_chat_on_another_device() {
    let app = spawn_app_with(|s| s.identity_secret = Some("clinic-shared-secret".into())).await;
    let sig = sign("clinic-shared-secret", "patient-42");
    let mut phone = app.chat().await;
    phone
        .send_json(json!({"type": "start", "user": "patient-42", "user_sig": sig}))
        .await;
    let first = phone.expect("started").await;
    phone.say("m1", "hello from my phone").await;
    phone.expect("reply").await;

    let mut laptop = app.chat().await;
    laptop
        .send_json(json!({"type": "start", "user": "patient-42", "user_sig": sig}))
        .await;
    let second = laptop.expect("started").await;
    assert_eq!(second["conversation"], first["conversation"]);
    assert_ne!(
        second["resume"], first["resume"],
        "each device gets its own token"
    );
    assert_eq!(patient_texts(&second), ["hello from my phone"]);

    // Someone else's id, or a forged signature, gets nothing.
    let mut other = app.chat().await;
    other
        .send_json(json!({"type": "start", "user": "patient-43", "user_sig": sig}))
        .await;
    assert_eq!(other.expect("error").await["code"], "bad_identity");
    let mut anonymous = app.chat().await;
    assert_ne!(
        anonymous.start().await["conversation"],
        first["conversation"]
    );
}

#[tokio::test]
async fn without_a_shared_secret_identities_are_refused() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let sig = sign("anything", "patient-42");
    chat.send_json(json!({"type": "start", "user": "patient-42", "user_sig": sig}))
        .await;
    assert_eq!(chat.expect("error").await["code"], "bad_identity");
    chat.send_json(json!({"type": "start", "user": "patient-42"}))
        .await;
    assert_eq!(chat.expect("error").await["code"], "bad_frame");
}

/// On a shared computer, the next patient signs in while the last one's
/// resume token is still in the browser: they get a conversation of their
/// own, the last patient's chat is not relabelled, and the token alone no
/// longer opens a signed-in patient's chat.
#[tokio::test]
async fn the_next_patient_on_a_shared_computer_cannot_take_over_the_last_ones_chat() {
    let secret = "clinic-shared-secret";
    let app = spawn_app_with(|s| s.identity_secret = Some(secret.into())).await;
    let start_as = |user: &str, resume: Option<&str>| {
        let mut frame = json!({"type": "start", "user": user, "user_sig": sign(secret, user)});
        if let Some(r) = resume {
            frame["resume"] = json!(r);
        }
        frame
    };
    // Jana chats, signed in; her token stays in the browser.
    let mut jana = app.chat().await;
    jana.send_json(start_as("jana", None)).await;
    let hers = jana.expect("started").await;
    jana.say("j1", "my test results from tuesday").await;
    jana.expect("reply").await;
    drop(jana);
    let token = hers["resume"].as_str().unwrap();

    // Ivo signs in on the same browser: a fresh conversation, none of hers.
    let mut ivo = app.chat().await;
    ivo.send_json(start_as("ivo", Some(token))).await;
    let his = ivo.expect("started").await;
    assert_ne!(his["conversation"], hers["conversation"]);
    assert!(patient_texts(&his).is_empty(), "{his}");
    drop(ivo);

    // An anonymous page with her token alone gets nothing.
    let mut anonymous = app.chat().await;
    anonymous
        .send_json(json!({"type": "start", "resume": token}))
        .await;
    assert_eq!(anonymous.expect("error").await["code"], "unknown_resume");

    // Jana, signed in elsewhere, still finds her own chat.
    let mut again = app.chat().await;
    again.send_json(start_as("jana", None)).await;
    let back = again.expect("started").await;
    assert_eq!(back["conversation"], hers["conversation"]);
    assert_eq!(patient_texts(&back), ["my test results from tuesday"]);
}

/// An anonymous resume token expires after the idle period (default 30
/// days without a message): a browser found later starts afresh.
#[tokio::test]
async fn an_anonymous_token_idle_past_its_period_no_longer_resumes() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let started = chat.start().await;
    chat.say("a1", "where do I park").await;
    drop(chat);
    let token = started["resume"].as_str().unwrap();
    let mut recent = app.chat().await;
    assert_eq!(
        recent.resume(token).await["conversation"],
        started["conversation"]
    );
    drop(recent);

    let pool = sqlx::SqlitePool::connect(&app.database_url())
        .await
        .unwrap();
    let long_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 31)).to_string();
    sqlx::query("UPDATE messages SET created_at = ?")
        .bind(&long_ago)
        .execute(&pool)
        .await
        .unwrap();
    let mut later = app.chat().await;
    later
        .send_json(json!({"type": "start", "resume": token}))
        .await;
    assert_eq!(later.expect("error").await["code"], "unknown_resume");
}
