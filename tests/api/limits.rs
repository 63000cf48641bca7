//! Every limit answers with a clear error or close code, and affects only the
//! patient who hit it.

use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Closed, spawn_app, spawn_app_with};

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
    chat.start().await;
    for i in 0..5 {
        chat.say(&format!("m{i}"), "hello").await;
        chat.expect("reply").await;
    }
    chat.send_json(json!({"type": "say", "id": "m5", "text": "hello"}))
        .await;
    let error = chat.expect("error").await;
    assert_eq!(error["code"], "rate_limited");
    assert_eq!(error["id"], "m5");

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
    use crate::helpers::Chat;
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
    match crate::helpers::Chat::connect(app.addr, None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 429),
        Err(e) => panic!("expected 429, got {e}"),
        Ok(_) => panic!("a third connection from one address was accepted"),
    }
    drop(_a);
    // The slot frees when a connection closes; wait for the server to see it.
    let mut tries = 0;
    while crate::helpers::Chat::connect(app.addr, None).await.is_err() {
        tries += 1;
        assert!(tries < 100, "the freed slot was never reused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn a_trusted_proxy_that_is_not_an_address_is_refused_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::helpers::run_cli(
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
