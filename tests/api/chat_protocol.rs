//! The patient protocol as a client experiences it.

use serde_json::json;

use super::helpers::{patient_texts, spawn_app};

#[tokio::test]
async fn a_new_conversation_starts_with_the_bots_notice() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let started = chat.start().await;
    assert!(started["conversation"].as_str().unwrap().starts_with("cv_"));
    assert!(started["resume"].as_str().unwrap().starts_with("rt_"));
    let history = started["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["from"], "bot");
    assert_eq!(history[0]["seq"], 1);
    assert!(history[0]["text"].as_str().unwrap().contains("911"));
}

#[tokio::test]
async fn a_message_is_acked_then_answered_in_one_sequence() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    assert_eq!(chat.say("m1", "What time do you open?").await, 2);
    let reply = chat.expect("reply").await;
    assert_eq!(reply["seq"], 3);
    assert_eq!(reply["from"], "bot");
    assert!(!reply["text"].as_str().unwrap().is_empty());
    assert!(reply["at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn resuming_after_a_dropped_connection_returns_the_same_conversation() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let started = chat.start().await;
    chat.say("a", "first question").await;
    chat.expect("reply").await;
    chat.say("b", "second question").await;
    chat.expect("reply").await;
    drop(chat); // the network drops: no close handshake

    let mut again = app.chat().await;
    let resumed = again.resume(started["resume"].as_str().unwrap()).await;
    assert_eq!(resumed["conversation"], started["conversation"]);
    assert_eq!(resumed["resume"], started["resume"]);
    assert_eq!(
        patient_texts(&resumed),
        ["first question", "second question"]
    );
    let seqs: Vec<i64> = resumed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=5).collect::<Vec<_>>(),
        "history is complete and in order"
    );
}

#[tokio::test]
async fn a_resent_message_id_is_acked_with_its_seq_and_not_stored_twice() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let started = chat.start().await;
    let seq = chat.say("same-id", "Do you take Medicare?").await;
    chat.expect("reply").await;
    assert_eq!(chat.say("same-id", "Do you take Medicare?").await, seq);

    // The resend is not answered again: the next frame is the next ack.
    assert_eq!(chat.say("other", "thanks").await, seq + 2);
    let mut again = app.chat().await;
    let resumed = again.resume(started["resume"].as_str().unwrap()).await;
    assert_eq!(patient_texts(&resumed), ["Do you take Medicare?", "thanks"]);
}

#[tokio::test]
async fn bad_frames_get_error_codes_and_the_connection_stays_usable() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let cases = [
        ("not json", "bad_json"),
        ("[1,2]", "bad_json"),
        (r#"{"text":"no type"}"#, "unknown_type"),
        (r#"{"type":"dance"}"#, "unknown_type"),
        (
            r#"{"type":"say","id":"x","text":"before start"}"#,
            "not_started",
        ),
        (r#"{"type":"start","lang":"fr"}"#, "bad_frame"),
        (r#"{"type":"start","resume":"rt_nope"}"#, "unknown_resume"),
        (r#"{"type":"end"}"#, "not_started"),
    ];
    for (frame, code) in cases {
        chat.send_text(frame).await;
        let error = chat.expect("error").await;
        assert_eq!(error["code"], code, "for {frame}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    chat.start().await;
    for (frame, code) in [
        (r#"{"type":"say","id":"x"}"#, "bad_frame"),
        (
            r#"{"type":"say","id":"has space","text":"hi"}"#,
            "bad_frame",
        ),
        (r#"{"type":"say","id":"x","text":42}"#, "bad_frame"),
        (r#"{"type":"say","id":"x","text":"   "}"#, "empty_text"),
        (r#"{"type":"start"}"#, "already_started"),
    ] {
        chat.send_text(frame).await;
        assert_eq!(chat.expect("error").await["code"], code, "for {frame}");
    }
    chat.send_raw(tokio_tungstenite::tungstenite::Message::Binary(
        vec![1, 2, 3].into(),
    ))
    .await
    .unwrap();
    assert_eq!(chat.expect("error").await["code"], "binary_frame");
    assert_eq!(chat.say("ok", "still here").await, 2);
}

#[tokio::test]
async fn ending_a_conversation_lets_the_same_token_open_a_new_one() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let first = chat.start().await;
    chat.say("a", "hello").await;
    chat.expect("reply").await;
    chat.send_json(json!({"type": "end"})).await;
    let ended = chat.expect("ended").await;
    assert_eq!(ended["conversation"], first["conversation"]);

    let token = first["resume"].as_str().unwrap();
    let second = chat.resume(token).await;
    assert_ne!(second["conversation"], first["conversation"]);
    assert_eq!(second["resume"], token);
    assert!(patient_texts(&second).is_empty());
}

#[tokio::test]
async fn spanish_conversations_are_greeted_in_spanish() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.send_json(json!({"type": "start", "lang": "es"})).await;
    let started = chat.expect("started").await;
    assert_eq!(started["lang"], "es");
    assert!(
        started["history"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Hola")
    );
}

#[tokio::test]
async fn a_patient_rates_the_chat_after_ending_it() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let started = chat.start().await;
    chat.send_json(json!({"type": "rate", "score": 9})).await;
    assert_eq!(chat.expect("error").await["code"], "bad_frame");
    chat.send_json(json!({"type": "end"})).await;
    chat.expect("ended").await;
    chat.send_json(json!({"type": "rate", "score": 5, "comment": "Quick and kind, thank you"}))
        .await;
    let rated = chat.expect("rated").await;
    assert_eq!(rated["conversation"], started["conversation"]);
    // A second rating replaces the first.
    chat.send_json(json!({"type": "rate", "score": 4})).await;
    chat.expect("rated").await;
}
