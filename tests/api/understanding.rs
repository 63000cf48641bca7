//! Understanding what patients mean, in the language they write: the chat
//! follows the patient's language message by message, and with the model
//! it answers questions that share no word with the article.

use std::time::Duration;

use frontdesk::config::ModelMode;
use serde_json::json;

use super::helpers::{EVENT_TIMEOUT, model_dir_or_skip, spawn_app, spawn_app_with};

async fn health(app: &super::helpers::TestApp) -> serde_json::Value {
    reqwest::get(app.url("/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_chat_follows_the_language_the_patient_writes_in() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await; // an English page
    chat.say("q1", "¿A qué hora abren?").await;
    let reply = chat.expect("reply").await;
    assert_eq!(reply["article"], "hours-es", "{reply}");
    chat.say("q2", "Where do I park?").await;
    let reply = chat.expect("reply").await;
    assert_eq!(reply["article"], "parking", "{reply}");
    // A bot text (not an article) follows too.
    chat.say("q3", "xyzzy plugh, ¿me entiende?").await;
    let reply = chat.expect("reply").await;
    assert!(
        reply["text"].as_str().unwrap().starts_with("Lo siento"),
        "{reply}"
    );
}

/// The app with the model on `knowledge` (the fixtures without one). The
/// suite keeps both cores busy: a message waits for its meaning here, so
/// the tests are about meaning, not about timing.
async fn spawn_with_model(
    dir: std::path::PathBuf,
    knowledge: Option<std::path::PathBuf>,
) -> super::helpers::TestApp {
    spawn_app_with(|s| {
        if let Some(k) = knowledge {
            s.data.knowledge = k;
        }
        s.model.mode = ModelMode::Local;
        s.model.model_dir = dir;
        s.model.model_wait_ms = 10_000;
    })
    .await
}

/// The app on the fixture knowledge with the model, once its articles are
/// embedded (the first start embeds them; the cache serves them after).
async fn app_with_meaning(dir: std::path::PathBuf) -> super::helpers::TestApp {
    let app = spawn_with_model(dir, None).await;
    let mut attached = app.knowledge.subscribe_meaning();
    let knowledge = app.knowledge.clone();
    tokio::time::timeout(
        Duration::from_secs(120),
        attached.wait_for(|_| knowledge.has_meaning()),
    )
    .await
    .expect("articles embedded in time")
    .unwrap();
    app
}

#[tokio::test]
async fn with_the_model_a_question_with_none_of_the_articles_words_is_answered() {
    let Some(dir) = model_dir_or_skip() else {
        return;
    };
    let app = app_with_meaning(dir).await;
    let health = health(&app).await;
    assert_eq!(health["model"]["state"], "ready", "{health}");
    assert_eq!(health["knowledge"]["semantic"], true, "{health}");

    let mut chat = app.chat().await;
    chat.start().await;
    chat.send_json(json!({"type": "say", "id": "m1", "text": "how do i get my meds renewed"}))
        .await;
    // Acked first (a new question does not wait for the model), then answered.
    assert_eq!(chat.expect("ack").await["id"], "m1");
    let reply = tokio::time::timeout(EVENT_TIMEOUT, chat.until("reply"))
        .await
        .unwrap();
    assert_eq!(reply["article"], "prescription-refills", "{reply}");
    // The same question again comes from the cache: stored and answered
    // together, still acked first.
    chat.send_json(json!({"type": "say", "id": "m2", "text": "how do i get my meds renewed"}))
        .await;
    assert_eq!(chat.expect("ack").await["id"], "m2");
    assert_eq!(chat.until("reply").await["article"], "prescription-refills");
}

#[tokio::test]
async fn with_the_model_a_spanish_question_finds_an_article_written_only_in_english() {
    let Some(dir) = model_dir_or_skip() else {
        return;
    };
    let app = app_with_meaning(dir).await;
    let mut chat = app.chat().await;
    chat.send_json(json!({"type": "start", "lang": "es"})).await;
    chat.expect("started").await;
    // The records article has no Spanish version: the patient is told so,
    // in Spanish, and gets it rather than a hand-over.
    chat.say("e1", "quiero una copia de mi expediente").await;
    let notice = chat.until("reply").await;
    assert!(
        notice["text"]
            .as_str()
            .unwrap()
            .contains("solo está disponible en inglés"),
        "{notice}"
    );
    let reply = chat.until("reply").await;
    assert_eq!(reply["article"], "medical-records", "{reply}");
    // A question no article answers, in either language, is still not answered.
    chat.say("e3", "¿cuál es la capital de Francia?").await;
    let reply = chat.until("reply").await;
    assert!(reply["article"].is_null(), "{reply}");
    assert!(
        reply["text"].as_str().unwrap().starts_with("Lo siento"),
        "{reply}"
    );
}

/// The bundled knowledge with the model, once the learned safety signal
/// has embedded its examples and trained on them (cached after the first).
async fn app_with_learned_safety(dir: std::path::PathBuf) -> super::helpers::TestApp {
    let app = spawn_with_model(dir, Some(super::helpers::bundled_knowledge())).await;
    // Cold (no vector cache), the model embeds some 6,800 texts while
    // other tests use both cores: minutes. `.ci/run` warms the cache first.
    let mut examples = app.safety_examples.clone();
    tokio::time::timeout(Duration::from_secs(900), examples.wait_for(|n| *n > 0))
        .await
        .expect("the safety examples are embedded in time")
        .unwrap();
    // The examples file and every article phrasing.
    assert!(health(&app).await["safety"]["examples"].as_u64().unwrap() > 4000);
    app
}

/// With the model, the learned safety signal, through the real server
/// (one test, one server: training on the examples is the slow part):
/// - a crisis no rule lists gets the crisis line;
/// - care today, not 911: urgent care's guidance comes first, and the chat
///   goes on (the bot answers; nobody is paged);
/// - a question about a condition that a rule's words match is answered.
#[tokio::test]
async fn with_the_model_the_learned_safety_signal_weighs_every_message() {
    let Some(dir) = model_dir_or_skip() else {
        return;
    };
    let app = app_with_learned_safety(dir).await;

    let mut crisis = app.chat().await;
    crisis
        .send_json(json!({"type": "start", "lang": "es"}))
        .await;
    crisis.expect("started").await;
    // No rule lists it (words alone answer it with a hand-over offer).
    crisis
        .say("c1", "ya no quiero seguir viviendo, nadie me extrañaría")
        .await;
    let guidance = crisis.until("reply").await;
    assert_eq!(guidance["from"], "system", "{guidance}");
    assert!(
        guidance["text"].as_str().unwrap().contains("988"),
        "{guidance}"
    );

    let mut chat = app.chat().await;
    chat.start().await;
    chat.say(
        "u1",
        "I think I sprained my ankle, it is swollen but I can walk",
    )
    .await;
    let guidance = chat.expect("reply").await;
    assert_eq!(guidance["from"], "system", "{guidance}");
    let text = guidance["text"].as_str().unwrap();
    assert!(
        text.contains("nurse line") && text.contains("urgent care"),
        "{guidance}"
    );
    // Then the bot's own turn, as for any message.
    let answer = chat.expect("reply").await;
    assert_eq!(answer["from"], "bot", "{answer}");
    // The stroke rule's words, in a question: no alarm, an ordinary turn.
    chat.say("u2", "what are the signs of a stroke?").await;
    let reply = chat.expect("reply").await;
    assert_eq!(reply["from"], "bot", "{reply}");
    assert!(
        !reply["text"].as_str().unwrap().contains("Call 911 now"),
        "{reply}"
    );
}

#[test]
fn a_model_wait_beyond_its_bound_is_refused_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let out = super::helpers::run_cli(dir.path(), &["serve", "--model-wait-ms", "20000"], "");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--model-wait-ms"), "{stderr}");
    assert!(
        !dir.path().join("frontdesk.db").exists(),
        "nothing was started"
    );
}
