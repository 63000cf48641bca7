//! A patient's remembered way to be reached, through the real server: asked
//! once in a callback request, offered again on the same browser, used as
//! it is for a signed-in patient on another device, changed by "text me
//! instead", shown to the agent who claims the chat, and deleted with the
//! visitor by retention.

use serde_json::{Value, json};

use super::helpers::{AroundDb, Chat, choice_values, spawn_app, spawn_app_with, turn};
use super::identity::signed_start;

fn text(reply: &Value) -> &str {
    reply["text"].as_str().unwrap_or_default()
}

/// With nobody online, asks for a person, accepts the callback offer and
/// gives the name; returns what the bot says next.
async fn callback_up_to_the_name(chat: &mut Chat, tag: &str) -> Value {
    chat.send_json(json!({"type": "handoff"})).await;
    let offer = chat.expect("reply").await;
    assert!(text(&offer).contains("callback"), "{offer}");
    turn(
        chat,
        &format!("{tag}-yes"),
        "Yes, call me back",
        Some("callback:yes"),
    )
    .await;
    turn(chat, &format!("{tag}-name"), "Rosa Diaz", None).await
}

/// From the time question on: any time, then send it.
async fn callback_sent(chat: &mut Chat, tag: &str) -> Value {
    let summary = turn(chat, &format!("{tag}-when"), "Any time", Some("window:any")).await;
    let done = turn(
        chat,
        &format!("{tag}-send"),
        "Yes, send it",
        Some("confirm:yes"),
    )
    .await;
    assert!(text(&done).contains("callback request is in"), "{done}");
    summary
}

async fn end(chat: &mut Chat) {
    chat.send_json(json!({"type": "end"})).await;
    chat.expect("ended").await;
}

#[tokio::test]
async fn a_contact_given_once_is_offered_again_on_the_same_browser() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let started = chat.start().await;
    let asked = callback_up_to_the_name(&mut chat, "a").await;
    assert!(
        text(&asked).contains("How should we contact you?"),
        "{asked}"
    );
    turn(&mut chat, "a-how", "Text message", Some("channel:text")).await;
    turn(&mut chat, "a-number", "555-010-4477", None).await;
    callback_sent(&mut chat, "a").await;
    end(&mut chat).await;

    // Back with the same token: a new conversation, and the number offered.
    let again = chat.resume(started["resume"].as_str().unwrap()).await;
    assert_ne!(again["conversation"], started["conversation"]);
    let offered = callback_up_to_the_name(&mut chat, "b").await;
    assert_eq!(
        text(&offered),
        "Shall we text you at the number ending 4477, as last time?"
    );
    assert_eq!(choice_values(&offered), ["contact:same", "contact:other"]);
    turn(&mut chat, "b-same", "Yes", Some("contact:same")).await;
    let summary = callback_sent(&mut chat, "b").await;
    assert!(
        text(&summary).contains("at the number ending 4477") && !text(&summary).contains("555"),
        "the bot shows only the end of a remembered number: {summary}"
    );

    // The callback list shows the channel and the whole number, both times.
    let cookie = app.staff("kim", "agent").await;
    let list = app.callbacks(&cookie).await;
    assert_eq!(list.len(), 2);
    for callback in &list {
        assert_eq!(callback["channel"], "text", "{callback}");
        assert_eq!(callback["contact"], "555-010-4477", "{callback}");
    }
}

#[tokio::test]
async fn a_signed_in_patient_is_not_asked_again_on_another_device() {
    let secret = "clinic-shared-secret";
    let app = spawn_app_with(|s| s.identity_secret = Some(secret.into())).await;
    let signed = || signed_start(secret, "patient-42", 240);
    let mut phone = app.chat().await;
    phone.send_json(signed()).await;
    let first = phone.expect("started").await;
    callback_up_to_the_name(&mut phone, "p").await;
    turn(&mut phone, "p-how", "by email: rosa.diaz@example.org", None).await;
    callback_sent(&mut phone, "p").await;
    end(&mut phone).await;
    drop(phone);

    let mut laptop = app.chat().await;
    laptop.send_json(signed()).await;
    let second = laptop.expect("started").await;
    assert_ne!(second["conversation"], first["conversation"]);
    let next = callback_up_to_the_name(&mut laptop, "l").await;
    assert!(
        text(&next).starts_with("We'll email you at r…@example.org, as last time."),
        "{next}"
    );
    assert!(
        text(&next).contains("When is a good time to reach you?"),
        "{next}"
    );
    callback_sent(&mut laptop, "l").await;

    let cookie = app.staff("kim", "agent").await;
    let list = app.callbacks(&cookie).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["channel"], "email");
    assert_eq!(list[1]["contact"], "rosa.diaz@example.org");
}

#[tokio::test]
async fn text_me_instead_changes_what_the_next_flow_uses_and_the_agent_sees_it() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    let asked = turn(&mut chat, "t1", "text me instead", None).await;
    assert_eq!(text(&asked), "Sure. What number should we text?");
    let kept = turn(&mut chat, "t2", "it's 555-010-9911", None).await;
    assert_eq!(
        text(&kept),
        "Done: from now on we'll text you at the number ending 9911."
    );
    // The next flow offers it; Spanish words change it again.
    let offered = callback_up_to_the_name(&mut chat, "c").await;
    assert!(
        text(&offered).contains("text you at the number ending 9911"),
        "{offered}"
    );
    turn(&mut chat, "c-stop", "never mind", None).await;
    let switched = turn(&mut chat, "t3", "llámame", None).await;
    assert_eq!(
        text(&switched),
        "Listo: desde ahora vamos a llamarle al número que termina en 9911."
    );

    // An agent who claims the chat sees how to reach the patient.
    let mut agent = app.console(&app.staff("maria", "agent").await).await;
    chat.say("p1", "I want to talk to a real person").await;
    assert_eq!(chat.expect("reply").await["from"], "system");
    let conversation = agent.only_waiting().await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    let claimed = agent.until("claimed").await;
    assert_eq!(
        claimed["context"]["contact"],
        json!({"channel": "phone", "contact": "555-010-9911"})
    );
}

#[tokio::test]
async fn retention_deletes_the_contact_with_the_visitor() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "r1", "text me instead", None).await;
    turn(&mut chat, "r2", "555-010-9911", None).await;
    drop(chat);
    let db = AroundDb::open(&app.database_url()).await;
    assert_eq!(db.count("contact_preferences").await, 1);

    let purged = app.cli(&["purge", "--retention-days", "0"], "").await;
    let said = String::from_utf8_lossy(&purged.stdout).to_string();
    assert!(said.contains("and 1 contact preferences"), "{said}");
    assert_eq!(db.count("contact_preferences").await, 0);
    assert_eq!(db.count("visitors").await, 0);
    // A new chat is asked again.
    let mut fresh = app.chat().await;
    fresh.start().await;
    let asked = callback_up_to_the_name(&mut fresh, "f").await;
    assert!(
        text(&asked).contains("How should we contact you?"),
        "{asked}"
    );
}
