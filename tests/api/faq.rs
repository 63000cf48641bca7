//! Answering from the knowledge files, through the chat: answers carry their
//! article and confidence, doubts become choices, misses become a person.

use super::helpers::{EVENT_TIMEOUT, bundled_knowledge, knowledge_dir, spawn_app, spawn_app_with};
use serde_json::{Value, json};

async fn ask(chat: &mut super::helpers::Chat, id: &str, text: &str) -> Value {
    chat.say(id, text).await;
    chat.expect("reply").await
}

#[tokio::test]
async fn a_clear_question_is_answered_with_its_article_and_confidence() {
    let app = spawn_app_with(|s| s.data.knowledge = bundled_knowledge()).await;
    let mut chat = app.chat().await;
    chat.start().await;
    let reply = ask(&mut chat, "q1", "Can I pay my bill in installments?").await;
    assert_eq!(reply["article"], "billing-payment-plans");
    let confidence = reply["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
    let html = reply["html"].as_str().unwrap();
    assert!(
        html.contains("<strong>") && !html.contains("<script"),
        "{html}"
    );
    assert!(
        !reply["text"].as_str().unwrap().contains("**"),
        "text is plain"
    );
}

#[tokio::test]
async fn spanish_questions_get_spanish_answers() {
    let app = spawn_app_with(|s| s.data.knowledge = bundled_knowledge()).await;
    let mut chat = app.chat().await;
    chat.send_json(json!({"type": "start", "lang": "es"})).await;
    chat.expect("started").await;
    let reply = ask(&mut chat, "q1", "¿Cuál es su horario?").await;
    assert!(
        reply["article"].as_str().unwrap().ends_with("-es"),
        "{reply}"
    );
}

#[tokio::test]
async fn an_ambiguous_question_offers_choices_and_a_choice_answers() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    let reply = ask(&mut chat, "q1", "appointment").await;
    let choices = reply["choices"]
        .as_array()
        .expect("choices offered")
        .clone();
    assert!(
        (3..=4).contains(&choices.len()),
        "2-3 articles plus none: {choices:?}"
    );
    assert_eq!(choices.last().unwrap()["value"], "none");
    assert!(reply.get("article").is_none());

    let pick = &choices[0];
    chat.send_json(
        json!({"type": "say", "id": "q2", "text": pick["label"], "choice": pick["value"]}),
    )
    .await;
    chat.expect("ack").await;
    let answer = chat.expect("reply").await;
    assert_eq!(
        format!("article:{}", answer["article"].as_str().unwrap()),
        pick["value"].as_str().unwrap()
    );
}

#[tokio::test]
async fn none_of_these_escalates() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let mut agent = app.console(&cookie).await;
    let mut chat = app.chat().await;
    chat.start().await;
    ask(&mut chat, "q1", "appointment").await;
    chat.send_json(json!({"type": "say", "id": "q2", "text": "None of these", "choice": "none"}))
        .await;
    chat.expect("ack").await;
    assert_eq!(chat.expect("reply").await["from"], "system");
    assert_eq!(chat.expect("queued").await["position"], 1);
    assert_eq!(agent.queue_of(1).await[0]["reason"], "low_confidence");
}

#[tokio::test]
async fn two_misses_in_a_row_go_to_a_person() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let mut agent = app.console(&cookie).await;
    let mut chat = app.chat().await;
    chat.start().await;
    let first = ask(&mut chat, "q1", "what is the capital of France").await;
    assert_eq!(
        first["choices"][0]["value"], "handoff",
        "a miss offers a person: {first}"
    );
    ask(&mut chat, "q2", "who won the football game last night").await;
    chat.expect("queued").await;
    assert_eq!(agent.queue_of(1).await[0]["reason"], "repeated_misses");
}

/// A resent message changes nothing: a miss resent after a good answer is
/// only acked, so it does not count as a second miss in a row, and the next
/// miss is still answered by the bot instead of going to a person.
#[tokio::test]
async fn a_resent_miss_is_not_counted_again() {
    let app = spawn_app_with(|s| s.data.knowledge = bundled_knowledge()).await;
    let mut chat = app.chat().await;
    chat.start().await;
    let miss = ask(&mut chat, "q1", "what is the capital of France").await;
    assert_eq!(miss["choices"][0]["value"], "handoff", "{miss}");
    let seq = miss["seq"].as_i64().unwrap() - 1;
    let answered = ask(&mut chat, "q2", "Can I pay my bill in installments?").await;
    assert_eq!(answered["article"], "billing-payment-plans");
    assert_eq!(chat.say("q1", "what is the capital of France").await, seq);

    let next = ask(&mut chat, "q3", "who won the football game last night").await;
    assert_eq!(next["from"], "bot", "{next}");
    assert_eq!(next["choices"][0]["value"], "handoff", "{next}");
    // Not queued: the next frame is the next message's ack.
    chat.say("q4", "thanks").await;
}

#[tokio::test]
async fn small_talk_gets_a_friendly_answer_not_a_search() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    for (id, text) in [
        ("a", "hello"),
        ("b", "are you a bot?"),
        ("c", "thanks!"),
        ("d", "bye"),
    ] {
        let reply = ask(&mut chat, id, text).await;
        assert!(reply.get("article").is_none(), "{text}: {reply}");
        assert!(reply.get("choices").is_none(), "{text}: {reply}");
    }
}

#[tokio::test]
async fn an_edited_article_changes_answers_without_a_restart_or_a_dropped_chat() {
    let kb = tempfile::tempdir().unwrap();
    super::helpers::copy_dir(&knowledge_dir(), kb.path());
    let dir = kb.path().to_path_buf();
    let app = spawn_app_with(|s| s.data.knowledge = dir).await;
    let mut chat = app.chat().await;
    chat.start().await;
    let before = ask(
        &mut chat,
        "q1",
        "Do you validate parking for the bike garage?",
    )
    .await;
    assert_ne!(before["article"], "bike-garage");

    let mut reloads = app.knowledge.subscribe_reloads();
    reloads.borrow_and_update();
    std::fs::write(
        kb.path().join("visit/bike-garage.md"),
        "+++\nid = \"bike-garage\"\ntitle = \"Is there a bike garage?\"\nquestions = [\"Do you validate parking for the bike garage?\", \"where can I lock my bike\"]\n+++\nYes: a covered bike garage is behind the main entrance.\n",
    )
    .unwrap();
    tokio::time::timeout(EVENT_TIMEOUT, reloads.changed())
        .await
        .expect("reloaded in time")
        .unwrap();
    let after = ask(
        &mut chat,
        "q2",
        "Do you validate parking for the bike garage?",
    )
    .await;
    assert_eq!(after["article"], "bike-garage");

    // A broken edit never takes the bot down: the last good version serves.
    reloads.borrow_and_update();
    std::fs::write(
        kb.path().join("visit/bike-garage.md"),
        "+++\ntitle = \n+++\nbroken",
    )
    .unwrap();
    tokio::time::timeout(EVENT_TIMEOUT, reloads.changed())
        .await
        .expect("reloaded in time")
        .unwrap();
    let still = ask(&mut chat, "q3", "where can I lock my bike").await;
    assert_eq!(still["article"], "bike-garage");
}
