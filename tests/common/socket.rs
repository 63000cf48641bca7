//! A WebSocket client for the patient chat and the agent console, and the
//! chat exchanges tests repeat.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

#[allow(unused_imports)]
use super::*;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket to the server: a patient's chat or an agent's console.
pub struct Ws {
    socket: Socket,
}

/// A patient's chat connection.
pub type Chat = Ws;
/// An agent's console connection.
pub type Console = Ws;

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq)]
pub enum Closed {
    Code(u16),
    WithoutCode,
}

impl Ws {
    /// Opens a patient chat, optionally from a browser page's origin.
    pub async fn connect(
        addr: std::net::SocketAddr,
        origin: Option<&str>,
    ) -> Result<Chat, tungstenite::Error> {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        Self::connect_with(addr, &headers).await
    }

    /// Opens a patient chat with these request headers.
    pub async fn connect_with(
        addr: std::net::SocketAddr,
        headers: &[(&'static str, &str)],
    ) -> Result<Chat, tungstenite::Error> {
        let mut request = format!("ws://{addr}/chat").into_client_request()?;
        for (name, value) in headers {
            request
                .headers_mut()
                .append(*name, HeaderValue::from_str(value).expect("header value"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Ws { socket })
    }

    pub async fn send_json(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("frame sent");
    }

    pub async fn send_raw(&mut self, message: Message) -> Result<(), tungstenite::Error> {
        self.socket.send(message).await
    }

    /// The next JSON frame from the server (pings are answered and skipped).
    pub async fn recv(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
                .await
                .expect("a frame arrives in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str()).expect("server sends JSON");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Opens an agent console with a session cookie; waits for `hello`.
    pub async fn console(
        addr: std::net::SocketAddr,
        cookie: &str,
    ) -> Result<Ws, tungstenite::Error> {
        let mut request = format!("ws://{addr}/console/ws").into_client_request()?;
        request.headers_mut().insert(
            "cookie",
            HeaderValue::from_str(cookie).expect("cookie header"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        let mut console = Ws { socket };
        console.expect("hello").await;
        Ok(console)
    }

    /// Skips frames until one of the given type arrives (an error frame
    /// on the way fails the test).
    pub async fn until(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
            assert_ne!(
                frame["type"], "error",
                "unexpected error while waiting for {kind}: {frame}"
            );
        }
    }

    /// Skips frames until an error frame arrives; returns it.
    pub async fn until_error(&mut self) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == "error" {
                return frame;
            }
        }
    }

    /// Waits for a queue snapshot with `n` items.
    pub async fn queue_of(&mut self, n: usize) -> Vec<Value> {
        loop {
            let frame = self.until("queue").await;
            let items = frame["items"].as_array().expect("items").clone();
            if items.len() == n {
                return items;
            }
        }
    }

    /// The next frame, which must have the given type.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let frame = self.recv().await;
        assert_eq!(frame["type"], kind, "unexpected frame: {frame}");
        frame
    }

    /// Waits for the server to close the connection; returns the close code.
    pub async fn closed(&mut self) -> Closed {
        loop {
            let next = tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
                .await
                .expect("the connection closes in time");
            match next {
                Some(Ok(Message::Close(Some(frame)))) => return Closed::Code(frame.code.into()),
                Some(Ok(Message::Close(None))) | None => return Closed::WithoutCode,
                Some(Ok(_)) => continue,
                Some(Err(_)) => return Closed::WithoutCode,
            }
        }
    }

    /// Opens a new conversation; returns the `started` frame.
    pub async fn start(&mut self) -> Value {
        self.send_json(json!({"type": "start"})).await;
        self.expect("started").await
    }

    pub async fn resume(&mut self, token: &str) -> Value {
        self.send_json(json!({"type": "start", "resume": token}))
            .await;
        self.expect("started").await
    }

    /// Sends a message and waits for its ack; returns the acked seq.
    pub async fn say(&mut self, id: &str, text: &str) -> i64 {
        self.send_json(json!({"type": "say", "id": id, "text": text}))
            .await;
        let ack = self.expect("ack").await;
        assert_eq!(ack["id"], id);
        ack["seq"].as_i64().expect("ack has a seq")
    }
}

/// A patient opens a chat and asks for a person, and is told a person
/// will come (not offered a callback: someone is online); returns the
/// chat's resume token.
pub async fn ask_for_person(patient: &mut Chat) -> String {
    let started = patient.start().await;
    patient.say("p1", "I want to talk to a real person").await;
    let notice = patient.expect("reply").await;
    assert_eq!(notice["from"], "system", "queued: {notice}");
    started["resume"].as_str().unwrap().to_owned()
}

/// Two agents claim the same chat at once: exactly one wins and the other
/// is told it is already claimed. Returns which one won (0 for `a`).
pub async fn claim_race(a: &mut Console, b: &mut Console, conversation: &str) -> usize {
    let claim = json!({"type": "claim", "conversation": conversation});
    tokio::join!(a.send_json(claim.clone()), b.send_json(claim));
    let outcomes = [a.claim_outcome().await, b.claim_outcome().await];
    let winners: Vec<usize> = (0..2)
        .filter(|&i| outcomes[i]["type"] == "claimed")
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let loser = &outcomes[1 - winners[0]];
    assert_eq!(
        (&loser["type"], &loser["code"]),
        (&json!("error"), &json!("already_claimed")),
        "{outcomes:?}"
    );
    winners[0]
}

impl Console {
    /// Waits for a queue of one chat; returns that chat's conversation id.
    pub async fn only_waiting(&mut self) -> String {
        self.queue_of(1).await[0]["conversation"]
            .as_str()
            .expect("a conversation id")
            .to_owned()
    }

    /// The first `claimed` or `error` frame, skipping queue updates.
    pub async fn claim_outcome(&mut self) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == "claimed" || frame["type"] == "error" {
                return frame;
            }
        }
    }
}

/// The texts of the patient's messages in a `started` history, in order.
pub fn patient_texts(started: &Value) -> Vec<String> {
    started["history"]
        .as_array()
        .expect("history is an array")
        .iter()
        .filter(|m| m["from"] == "patient")
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

impl Ws {
    /// The next message of any kind, pings included.
    pub async fn next_raw(&mut self) -> Message {
        tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
            .await
            .expect("a message arrives in time")
            .expect("the connection is open")
            .expect("the message is readable")
    }
}

/// Sends a message (with an optional choice) and returns the first reply
/// after its ack (skipping queue updates and the like).
pub async fn turn(chat: &mut Chat, id: &str, text: &str, choice: Option<&str>) -> Value {
    let mut frame = json!({"type": "say", "id": id, "text": text});
    if let Some(c) = choice {
        frame["choice"] = json!(c);
    }
    chat.send_json(frame).await;
    chat.expect("ack").await;
    chat.until("reply").await
}

/// The values of a reply's choices.
pub fn choice_values(reply: &Value) -> Vec<String> {
    reply["choices"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Books the first open sick visit in a started chat, to `contact`; returns
/// the last reply (the confirmation, or the refusal).
pub async fn book_in_chat(chat: &mut Chat, contact: &str) -> Value {
    turn(chat, "x1", "I need an appointment", None).await;
    turn(chat, "x2", "Sick visit", Some("type:sick-visit")).await;
    let slots = turn(chat, "x3", "First available", Some("provider:any")).await;
    let pick = choice_values(&slots)[0].clone();
    turn(chat, "x4", "that one", Some(&pick)).await;
    turn(chat, "x5", "Ana Ruiz", None).await;
    turn(chat, "x6", "03/14/1985", None).await;
    turn(chat, "x7", contact, None).await;
    let last = turn(chat, "x8", "Text", Some("channel:text")).await;
    if !last["text"]
        .as_str()
        .unwrap_or_default()
        .contains("Book it")
    {
        return last;
    }
    turn(chat, "x9", "Yes, book it", Some("confirm:yes")).await
}
