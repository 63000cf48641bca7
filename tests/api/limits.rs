//! Every limit answers with a clear error or close code, and affects only the
//! patient who hit it.

use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::helpers::{Closed, spawn_app, spawn_app_with};

#[tokio::test]
async fn text_length_is_counted_in_graphemes_not_bytes() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    // A family emoji is one grapheme but 25 bytes; 2,000 of them are fine.
    let family = "👨‍👩‍👧‍👦".repeat(2000);
    chat.say("emoji", &family).await;
    chat.expect("reply").await;
    // "e" + combining acute accent: 2,001 graphemes is one too many.
    let accented = "e\u{301}".repeat(2001);
    chat.send_json(json!({"type": "say", "id": "long", "text": accented}))
        .await;
    let error = chat.expect("error").await;
    assert_eq!(error["code"], "text_too_long");
    assert_eq!(error["id"], "long");
}

#[tokio::test]
async fn an_oversized_frame_closes_only_that_connection_with_1009() {
    let app = spawn_app().await;
    let mut bystander = app.chat().await;
    bystander.start().await;
    let mut flooder = app.chat().await;
    flooder.start().await;

    let huge = json!({"type": "say", "id": "big", "text": "x".repeat(70 * 1024)});
    flooder.send_text(&huge.to_string()).await;
    assert_eq!(flooder.closed().await, Closed::Code(1009));

    bystander.say("calm", "is everything fine?").await;
    bystander.expect("reply").await;
}

#[tokio::test]
async fn a_flood_of_messages_is_rate_limited_with_an_error_frame() {
    let app = spawn_app_with(|s| s.limits.messages_per_minute = 5).await;
    let mut chat = app.chat().await;
    chat.start().await; // a frame too: one of the five
    for i in 0..4 {
        chat.say(&format!("m{i}"), "hello").await;
        chat.expect("reply").await;
    }
    chat.send_json(json!({"type": "say", "id": "m4", "text": "hello"}))
        .await;
    let error = chat.expect("error").await;
    assert_eq!(error["code"], "rate_limited");
    assert_eq!(error["id"], "m4");

    // The limit is per connection: a new one is not affected, and the
    // limited message was not stored.
    let mut other = app.chat().await;
    other.start().await;
    other.say("x", "hi").await;
}

#[tokio::test]
async fn a_silent_client_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|s| {
        s.limits.ping_interval_secs = 1;
        s.limits.idle_timeout_secs = 2;
    })
    .await;
    let mut chat = app.chat().await;
    chat.start().await;
    // Not reading means not answering pings: the client is silent.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(chat.closed().await, Closed::Code(1000));
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_connected() {
    let app = spawn_app_with(|s| {
        s.limits.ping_interval_secs = 1;
        s.limits.idle_timeout_secs = 2;
    })
    .await;
    let mut chat = app.chat().await;
    chat.start().await;
    // Reading makes the client library answer each ping with a pong; wait
    // for four pings, well past the idle timeout.
    let mut pings = 0;
    while pings < 4 {
        match chat.next_raw().await {
            Message::Ping(_) => pings += 1,
            Message::Close(frame) => panic!("closed while answering pings: {frame:?}"),
            _ => {}
        }
    }
    chat.say("alive", "still here").await;
}

/// Behind a trusted proxy every patient arrives from the proxy's address;
/// limits count the address the proxy reports, and a stranger's
/// X-Forwarded-For is ignored.
#[tokio::test]
async fn behind_a_trusted_proxy_limits_count_patients_not_the_proxy() {
    use super::helpers::Chat;
    let refused = |r: Result<Chat, tokio_tungstenite::tungstenite::Error>| match r {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => r.status() == 429,
        _ => false,
    };
    let app = spawn_app_with(|s| {
        s.limits.max_connections_per_address = 2;
        s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let addr = app.addr;
    let from = move |client: &'static str| async move {
        Chat::connect_with(addr, &[("x-forwarded-for", client)]).await
    };
    let _a = from("203.0.113.1").await.unwrap();
    let _b = from("198.51.100.7, 203.0.113.1").await.unwrap();
    assert!(
        refused(from("203.0.113.1").await),
        "a third chat of one patient"
    );
    // Other patients behind the same proxy are not locked out.
    let _c = from("203.0.113.2").await.unwrap();
    let _d = from("2001:db8:5:6::1").await.unwrap();
    let _e = from("2001:db8:5:6::2").await.unwrap();
    assert!(
        refused(from("2001:db8:5:6:ffff::3").await),
        "one IPv6 /64 is one client"
    );

    // Without trusting the proxy, the header means nothing.
    let plain = spawn_app_with(|s| s.limits.max_connections_per_address = 2).await;
    let addr = plain.addr;
    let from = move |client: &'static str| async move {
        Chat::connect_with(addr, &[("x-forwarded-for", client)]).await
    };
    let _f = from("203.0.113.10").await.unwrap();
    let _g = from("203.0.113.11").await.unwrap();
    assert!(refused(from("203.0.113.12").await));
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let app = spawn_app_with(|s| s.limits.max_connections_per_address = 2).await;
    let _a = app.chat().await;
    let _b = app.chat().await;
    match super::helpers::Chat::connect(app.addr, None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 429),
        Err(e) => panic!("expected 429, got {e}"),
        Ok(_) => panic!("a third connection from one address was accepted"),
    }
    drop(_a);
    // The slot frees when a connection closes; wait for the server to see it.
    let mut tries = 0;
    while super::helpers::Chat::connect(app.addr, None).await.is_err() {
        tries += 1;
        assert!(tries < 100, "the freed slot was never reused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn a_trusted_proxy_that_is_not_an_address_is_refused_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let out = super::helpers::run_cli(
        dir.path(),
        &["serve", "--trusted-proxies", "127.0.0.1,nginx.local"],
        "",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nginx.local") && stderr.contains("CIDR"),
        "{stderr}"
    );
}

/// The frame bucket covers every kind, not only `say`: a loop of other
/// frames is refused with `rate_limited` too.
#[tokio::test]
async fn every_frame_kind_counts_against_the_rate() {
    let app = spawn_app_with(|s| s.limits.messages_per_minute = 4).await;
    let mut chat = app.chat().await;
    chat.start().await; // 1
    chat.send_json(json!({"type": "history", "before": 1_000}))
        .await; // 2
    chat.expect("history").await;
    chat.send_json(json!({"type": "rate", "score": 5})).await; // 3
    chat.expect("rated").await;
    chat.send_json(json!({"type": "history", "before": 1_000}))
        .await; // 4
    chat.expect("history").await;
    chat.send_json(json!({"type": "history", "before": 1_000}))
        .await;
    let refused = chat.expect("error").await;
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    chat.send_json(json!({"type": "say", "id": "s1", "text": "hello"}))
        .await;
    let refused = chat.expect("error").await;
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    assert_eq!(refused["id"], "s1", "{refused}");
}

#[tokio::test]
async fn a_conversation_holds_a_bounded_number_of_patient_messages() {
    let app = spawn_app_with(|s| s.limits.max_messages_per_conversation = 3).await;
    let mut chat = app.chat().await;
    let started = chat.start().await;
    for i in 0..3 {
        chat.send_json(json!({"type": "say", "id": format!("m{i}"), "text": "is there parking"}))
            .await;
        chat.until("ack").await;
    }
    chat.send_json(json!({"type": "say", "id": "m3", "text": "and wifi?"}))
        .await;
    let full = chat.until("error").await;
    assert_eq!(full["code"], "conversation_full", "{full}");
    assert_eq!(full["id"], "m3");
    assert!(
        full["message"]
            .as_str()
            .unwrap()
            .contains("new conversation")
    );
    // The limit holds on a resumed connection too.
    drop(chat);
    let mut again = app.chat().await;
    again.resume(started["resume"].as_str().unwrap()).await;
    again
        .send_json(json!({"type": "say", "id": "m4", "text": "hello?"}))
        .await;
    assert_eq!(again.until("error").await["code"], "conversation_full");
}

/// A conversation of more than 256 KiB resumes (its newest page), and the
/// rest is read a page at a time with `history`.
#[tokio::test]
async fn a_long_conversation_resumes_and_pages_back() {
    let app = spawn_app_with(|s| s.limits.messages_per_minute = 100_000).await;
    let mut chat = app.chat().await;
    let started = chat.start().await;
    let token = started["resume"].as_str().unwrap().to_owned();
    let long = "the quick brown fox asks about parking ".repeat(48); // ~1.9 kB
    for i in 0..150 {
        chat.send_json(json!({"type": "say", "id": format!("l{i}"), "text": long}))
            .await;
        chat.until("ack").await;
    }
    drop(chat);
    let mut again = app.chat().await;
    let resumed = again.resume(&token).await;
    let first = resumed["history"].as_array().unwrap();
    assert_eq!(first.len(), 100, "the newest page");
    assert_eq!(resumed["more_history"], true);
    let mut seen: Vec<i64> = first.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    let mut pages = 0;
    loop {
        let oldest = *seen.iter().min().unwrap();
        again
            .send_json(json!({"type": "history", "before": oldest}))
            .await;
        let page = again.until("history").await;
        let messages = page["messages"].as_array().unwrap();
        assert!(messages.iter().all(|m| m["seq"].as_i64().unwrap() < oldest));
        seen.extend(messages.iter().map(|m| m["seq"].as_i64().unwrap()));
        pages += 1;
        assert!(pages < 20, "paging never ends");
        if page["more"] == false {
            break;
        }
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=seen.len() as i64).collect::<Vec<_>>(),
        "every message once"
    );
    let patient = 150;
    assert!(seen.len() >= patient, "{}", seen.len());
    // A bad page request is refused clearly.
    again
        .send_json(json!({"type": "history", "before": "x"}))
        .await;
    assert_eq!(again.until("error").await["code"], "bad_frame");

    // Staff read the transcript a page at a time too.
    let conversation = resumed["conversation"].as_str().unwrap();
    let supervisor = app.staff("sue", "supervisor").await;
    let page: serde_json::Value = app
        .get_as(
            &supervisor,
            &format!("/api/conversations/{conversation}?limit=50"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["history"].as_array().unwrap().len(), 50);
    assert_eq!(page["more_history"], true);
    let refused = app
        .get_as(
            &supervisor,
            &format!("/api/conversations/{conversation}?limit=0"),
        )
        .await;
    assert_eq!(refused.status(), 400);
}

/// With the open-file limit a systemd unit gives by default, patients are
/// refused beyond what the descriptors allow (a clear 503), while `/health`
/// and sign-in keep working; the start banner and `/health` say the figures.
#[tokio::test]
async fn the_chat_cap_follows_the_open_file_limit_and_staff_stay_reachable() {
    use super::helpers::{Chat, ServerProcess};
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start_with_file_limit(dir.path(), &[], 300);
    let banner = server.wait_for_line(|l| l.contains("Chats at once"));
    let line = banner.iter().find(|l| l.contains("Chats at once")).unwrap();
    assert!(
        line.contains("up to 44") && line.contains("limit 300"),
        "{line}"
    );
    let mut open = Vec::new();
    loop {
        match Chat::connect(server.addr, None).await {
            Ok(chat) => open.push(chat),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                assert_eq!(r.status(), 503);
                break;
            }
            Err(e) => panic!("a refused chat must get a clear answer, got {e}"),
        }
        assert!(open.len() <= 44, "more chats than the budget allows");
    }
    assert_eq!(open.len(), 44);
    let health: serde_json::Value = reqwest::get(format!("http://{}/health", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["limits"]["max_chats"], 44, "{health}");
    assert_eq!(health["limits"]["open_chats"], 44, "{health}");
    // Sign-in answers (wrong password: 401, not a dropped connection).
    let login = reqwest::Client::new()
        .post(format!("http://{}/api/login", server.addr))
        .json(&json!({"name": "admin", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);
}
