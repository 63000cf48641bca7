//! Acked means stored, even when the server dies without warning.

use super::helpers::{Chat, ServerProcess, patient_texts};

#[tokio::test]
async fn acked_messages_survive_kill_9_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &[]);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let started = chat.start().await;
    let texts: Vec<String> = (1..=20).map(|i| format!("message number {i}")).collect();
    for (i, text) in texts.iter().enumerate() {
        chat.say(&format!("id-{i}"), text).await;
        chat.expect("reply").await;
    }
    // The last ack is in; the process dies before it can say anything more.
    server.kill_hard();

    let server = ServerProcess::start(dir.path(), &[]);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let resumed = chat.resume(started["resume"].as_str().unwrap()).await;
    assert_eq!(resumed["conversation"], started["conversation"]);
    assert_eq!(patient_texts(&resumed), texts);
}

#[tokio::test]
async fn a_message_resent_after_a_crash_is_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &[]);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let started = chat.start().await;
    let seq = chat.say("only-once", "please call me back").await;
    server.kill_hard();

    // The client never saw a reply, so it resends after reconnecting.
    let server = ServerProcess::start(dir.path(), &[]);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    chat.resume(started["resume"].as_str().unwrap()).await;
    assert_eq!(chat.say("only-once", "please call me back").await, seq);
    let mut other = Chat::connect(server.addr, None).await.unwrap();
    let resumed = other.resume(started["resume"].as_str().unwrap()).await;
    assert_eq!(patient_texts(&resumed), ["please call me back"]);
}
