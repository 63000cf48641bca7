//! No message text and no resume token ever reaches a log, at any level.

use crate::helpers::{Chat, ServerProcess};

#[tokio::test]
async fn logs_at_trace_level_never_contain_message_text_or_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let secret_text = "my daughter Zelda Quillfeather DOB 1987-03-14 has a rash";
    for format in ["json", "pretty"] {
        let mut server = ServerProcess::start(
            dir.path(),
            &[("FRONTDESK_LOG", format), ("RUST_LOG", "trace")],
        );
        let mut chat = Chat::connect(server.addr, None).await.unwrap();
        let started = chat.start().await;
        let token = started["resume"].as_str().unwrap().to_owned();
        chat.say("phi-1", secret_text).await;
        chat.expect("reply").await;
        // Refused frames must not echo their content into logs either.
        chat.send_text(&format!("{{not json {secret_text}")).await;
        chat.expect("error").await;
        let mut again = Chat::connect(server.addr, None).await.unwrap();
        again.resume(&token).await;
        assert!(server.terminate().success());

        let output = server.output();
        assert!(
            output.contains("conversation started"),
            "the log was captured:\n{output}"
        );
        for needle in [
            "Zelda",
            "Quillfeather",
            "1987-03-14",
            "rash",
            &token,
            &token[3..],
        ] {
            assert!(!output.contains(needle), "{format} log leaked {needle:?}");
        }
    }
}
