//! No message text and no resume token ever reaches a log, at any level.

use super::helpers::{Chat, ServerProcess};

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
        // Booking details (name, date of birth, phone) never reach a log.
        for (i, (text, choice)) in [
            ("I need an appointment", None),
            ("Sick visit", Some("type:sick-visit")),
            ("First available", Some("provider:any")),
        ]
        .into_iter()
        .enumerate()
        {
            let mut frame =
                serde_json::json!({"type": "say", "id": format!("bk{i}"), "text": text});
            if let Some(c) = choice {
                frame["choice"] = serde_json::json!(c);
            }
            chat.send_json(frame).await;
            chat.expect("ack").await;
            let reply = chat.expect("reply").await;
            if i == 2 {
                let slot = reply["choices"][0]["value"].as_str().unwrap().to_owned();
                chat.send_json(serde_json::json!({"type": "say", "id": "bk3", "text": "that one", "choice": slot})).await;
                chat.expect("ack").await;
                chat.expect("reply").await;
            }
        }
        for (i, text) in ["Zelda Quillfeather", "03/14/1987", "555-010-8642"]
            .iter()
            .enumerate()
        {
            chat.say(&format!("pd{i}"), text).await;
            chat.expect("reply").await;
        }
        // A remembered contact is never logged, kept or changed.
        let mut other = Chat::connect(server.addr, None).await.unwrap();
        other.start().await;
        for (i, text) in [
            "text me instead",
            "555-010-7531",
            "email me instead",
            "zq.remembered@example.org",
        ]
        .iter()
        .enumerate()
        {
            other.say(&format!("cp{i}"), text).await;
            other.expect("reply").await;
        }
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
            "03/14/1987",
            "010-8642",
            "Zelda",
            "Quillfeather",
            "1987-03-14",
            "010-7531",
            "zq.remembered",
            "rash",
            &token,
            &token[3..],
        ] {
            if let Some(line) = output.lines().find(|l| l.contains(needle)) {
                panic!(
                    "{format} log leaked {needle:?} in: {}",
                    &line[..line.len().min(600)]
                );
            }
        }
    }
}
