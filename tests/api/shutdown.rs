//! Stopping the server tells patients to come back, and loses nothing.

use super::helpers::{Chat, Closed, ServerProcess, patient_texts, spawn_app};

#[tokio::test]
async fn sigterm_closes_chats_with_1012_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &[]);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let started = chat.start().await;
    chat.say("before", "a question before the restart").await;
    chat.expect("reply").await;

    let status = server.terminate();
    assert_eq!(chat.closed().await, Closed::Code(1012));
    assert!(status.success(), "exit status {status:?}");

    let server = ServerProcess::start(dir.path(), &[]);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let resumed = chat.resume(started["resume"].as_str().unwrap()).await;
    assert_eq!(patient_texts(&resumed), ["a question before the restart"]);
}

#[tokio::test]
async fn an_in_process_server_stops_cleanly_with_open_chats() {
    let mut app = spawn_app().await;
    let mut chats = Vec::new();
    for _ in 0..5 {
        let mut chat = app.chat().await;
        chat.start().await;
        chats.push(chat);
    }
    app.stop().await;
    for chat in &mut chats {
        assert_eq!(chat.closed().await, Closed::Code(1012));
    }
}
