//! Verified identity: a patient signed in on the clinic's site keeps one
//! conversation across devices; a forged signature gets nothing.

use frontdesk::chat::identity::{sign_for_page, sign_legacy};
use serde_json::{Value, json};

use super::helpers::{execute_around, patient_texts, spawn_app, spawn_app_with};

/// A `start` as the clinic's page would send it: signed for `user`, valid
/// for `secs` more seconds (negative: already expired), with a fresh nonce.
pub(super) fn signed_start(secret: &str, user: &str, secs: i64) -> Value {
    let page = sign_for_page(secret, user, secs);
    json!({
        "type": "start",
        "user": page.user,
        "user_expires": page.expires,
        "user_nonce": page.nonce,
        "user_sig": page.sig,
    })
}

#[tokio::test]
async fn a_signed_in_patient_finds_the_same_chat_on_another_device() {
    let app = spawn_app_with(|s| s.identity_secret = Some("clinic-shared-secret".into())).await;
    let secret = "clinic-shared-secret";
    let mut phone = app.chat().await;
    phone
        .send_json(signed_start(secret, "patient-42", 240))
        .await;
    let first = phone.expect("started").await;
    phone.say("m1", "hello from my phone").await;
    phone.expect("reply").await;

    let mut laptop = app.chat().await;
    laptop
        .send_json(signed_start(secret, "patient-42", 240))
        .await;
    let second = laptop.expect("started").await;
    assert_eq!(second["conversation"], first["conversation"]);
    assert_ne!(
        second["resume"], first["resume"],
        "each device gets its own token"
    );
    assert_eq!(patient_texts(&second), ["hello from my phone"]);

    // Someone else's id, or a forged signature, gets nothing.
    let mut forged = signed_start(secret, "patient-42", 240);
    forged["user"] = json!("patient-43");
    let mut other = app.chat().await;
    other.send_json(forged).await;
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
    chat.send_json(signed_start("anything", "patient-42", 240))
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
        let mut frame = signed_start(secret, user, 240);
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

    let long_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 31)).to_string();
    execute_around(
        &app.database_url(),
        "UPDATE messages SET created_at = ?",
        "UPDATE messages SET created_at = $1::timestamptz",
        &[&long_ago],
    )
    .await;
    let mut later = app.chat().await;
    later
        .send_json(json!({"type": "start", "resume": token}))
        .await;
    assert_eq!(later.expect("error").await["code"], "unknown_resume");
}

/// A signature copied from a page (a cache, a script, a shared computer's
/// history) stops working: it expires within minutes, a signature made to
/// last longer is refused, and its nonce opens a chat on one device only.
/// The device it opened on may reconnect with it until it expires.
#[tokio::test]
async fn an_identity_signature_expires_and_opens_one_device() {
    let secret = "clinic-shared-secret";
    let app = spawn_app_with(|s| s.identity_secret = Some(secret.into())).await;
    let mut chat = app.chat().await;
    chat.send_json(signed_start(secret, "patient-42", -120))
        .await;
    let expired = chat.expect("error").await;
    assert_eq!(expired["code"], "identity_expired", "{expired}");
    chat.send_json(signed_start(secret, "patient-42", 3_600))
        .await;
    assert_eq!(chat.expect("error").await["code"], "bad_identity");

    let frame = signed_start(secret, "patient-42", 240);
    chat.send_json(frame.clone()).await;
    let started = chat.expect("started").await;
    chat.say("p1", "is my referral in").await;
    chat.expect("reply").await;
    drop(chat);

    // The same page's signature, from another browser: refused.
    let mut copier = app.chat().await;
    copier.send_json(frame.clone()).await;
    let replayed = copier.expect("error").await;
    assert_eq!(replayed["code"], "bad_identity", "{replayed}");
    let mut with_other_token = frame.clone();
    with_other_token["resume"] = copier.start().await["resume"].clone();
    let mut copier2 = app.chat().await;
    copier2.send_json(with_other_token).await;
    assert_eq!(copier2.expect("error").await["code"], "bad_identity");

    // The device it was given to reconnects (a dropped connection) with it.
    let mut again = frame.clone();
    again["resume"] = started["resume"].clone();
    let mut phone = app.chat().await;
    phone.send_json(again).await;
    let back = phone.expect("started").await;
    assert_eq!(back["conversation"], started["conversation"]);
    assert_eq!(patient_texts(&back), ["is my referral in"]);

    // The old form, a signature of the id alone, never expires: refused.
    let mut old = app.chat().await;
    old.send_json(json!({"type": "start", "user": "patient-42", "user_sig": sign_legacy(secret, "patient-42")}))
        .await;
    assert_eq!(old.expect("error").await["code"], "bad_identity");
    // Half an expiry is a malformed frame, not a refused identity.
    let mut half = frame.clone();
    half.as_object_mut().unwrap().remove("user_nonce");
    let mut bad = app.chat().await;
    bad.send_json(half).await;
    assert_eq!(bad.expect("error").await["code"], "bad_frame");
}

/// A clinic whose site still signs the id alone turns the old form on
/// explicitly, and it works as before.
#[tokio::test]
async fn the_never_expiring_form_works_only_behind_its_setting() {
    let secret = "clinic-shared-secret";
    let app = spawn_app_with(|s| {
        s.identity_secret = Some(secret.into());
        s.identity_legacy_signatures = true;
    })
    .await;
    let legacy =
        json!({"type": "start", "user": "patient-7", "user_sig": sign_legacy(secret, "patient-7")});
    let mut first = app.chat().await;
    first.send_json(legacy.clone()).await;
    let one = first.expect("started").await;
    let mut second = app.chat().await;
    second.send_json(legacy).await;
    assert_eq!(
        second.expect("started").await["conversation"],
        one["conversation"]
    );
}

/// A page's signature opens a chat once, whichever server it reaches: the
/// same frame sent to a second server on the database, from another
/// device, is refused there too (and after a restart: the nonce is in the
/// database, not in one process's memory).
#[tokio::test]
async fn a_signature_used_on_one_server_is_refused_on_another() {
    let secret = "clinic-shared-secret";
    let one = spawn_app_with(|s| s.identity_secret = Some(secret.into())).await;
    let two = one.second_node().await;
    let frame = signed_start(secret, "patient-42", 240);
    let mut phone = one.chat().await;
    phone.send_json(frame.clone()).await;
    phone.expect("started").await;
    let mut copier = two.chat().await;
    copier.send_json(frame).await;
    let replayed = copier.expect("error").await;
    assert_eq!(replayed["code"], "bad_identity", "{replayed}");
}
