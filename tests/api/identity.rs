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
