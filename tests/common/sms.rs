//! A stand-in for the SMS provider's Messages API on 127.0.0.1: it checks
//! the path and the basic auth as Twilio would, records the form fields of
//! every message it takes, and can answer the next requests with an error,
//! or hold them unanswered (a provider that is down, or one that took the
//! message and has not said so yet: [`Mode`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine;
use tokio::sync::watch;

pub const SID: &str = "AC0123456789abcdef";
pub const TOKEN: &str = "test-auth-token";
pub const FROM: &str = "+15550100000";
/// The webhook's path on the server.
pub const INBOUND: &str = "/channels/sms/inbound";

/// How the stand-in treats a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Takes it (records it, answers 201), or refuses it with the next of
    /// [`SmsProvider::fail_next`].
    #[default]
    Take,
    /// Not taking messages yet: each request waits, unrecorded and
    /// unanswered, until the mode changes, and is then refused with 503.
    NotYet,
    /// Takes it (records it), then holds the answer until the mode
    /// changes: the provider has the message, the sender does not know.
    TakeThenHold,
}

#[derive(Default)]
struct Shared {
    taken: Vec<HashMap<String, String>>,
    /// Statuses to answer the next requests with, in order.
    errors: Vec<u16>,
    refused: usize,
}

#[derive(Clone)]
struct Stand {
    shared: Arc<Mutex<Shared>>,
    mode: Arc<watch::Sender<Mode>>,
}

pub struct SmsProvider {
    pub addr: SocketAddr,
    stand: Stand,
}

impl SmsProvider {
    pub async fn start() -> SmsProvider {
        let stand = Stand {
            shared: Arc::default(),
            mode: Arc::new(watch::Sender::new(Mode::Take)),
        };
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(message))
            .with_state(stand.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        SmsProvider { addr, stand }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, messages are treated as `mode` says; requests held by
    /// the mode before are let go.
    pub fn set_mode(&self, mode: Mode) {
        self.stand.mode.send_replace(mode);
    }

    /// The next requests are answered with these statuses, in order.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.stand.shared.lock().unwrap().errors.extend(statuses);
    }

    /// The form fields of each message taken.
    pub fn taken(&self) -> Vec<HashMap<String, String>> {
        self.stand.shared.lock().unwrap().taken.clone()
    }

    pub fn refused(&self) -> usize {
        self.stand.shared.lock().unwrap().refused
    }

    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<HashMap<String, String>> {
        let until = Instant::now() + within;
        loop {
            let got = self.taken();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < until,
                "expected {n} texts, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits until the mode is no longer `held`.
async fn released(stand: &Stand, held: Mode) {
    let mut mode = stand.mode.subscribe();
    let _ = mode.wait_for(|m| *m != held).await;
}

async fn message(
    State(stand): State<Stand>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<serde_json::Value>) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    );
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if sid != SID || auth != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"code": 20003, "message": "Authenticate"})),
        );
    }
    let mode = *stand.mode.borrow();
    if mode == Mode::NotYet {
        released(&stand, Mode::NotYet).await;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"code": 20503, "message": "not yet"})),
        );
    }
    let answer = take(&stand, form);
    if mode == Mode::TakeThenHold && answer.0 == StatusCode::CREATED {
        released(&stand, Mode::TakeThenHold).await;
    }
    answer
}

/// Records a message that passes the checks, or refuses it.
fn take(stand: &Stand, form: HashMap<String, String>) -> (StatusCode, Json<serde_json::Value>) {
    let mut s = stand.shared.lock().unwrap();
    if !s.errors.is_empty() {
        let status = s.errors.remove(0);
        s.refused += 1;
        return (
            StatusCode::from_u16(status).unwrap(),
            Json(serde_json::json!({"code": 20500, "message": "try later"})),
        );
    }
    for field in ["To", "From", "Body"] {
        if form.get(field).is_none_or(|v| v.is_empty()) {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"code": 21604, "message": format!("{field} is required")})),
            );
        }
    }
    s.taken.push(form);
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"sid": format!("SM{:032}", s.taken.len()), "status": "queued"})),
    )
}

/// The provider's signature of a webhook: base64 HMAC-SHA1 over the URL
/// and every parameter's name and value, sorted by name.
pub fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    use hmac::{Hmac, Mac};
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A text from `from` to the clinic as the provider posts it to `url`,
/// signed with `token` for the server's public URL `public`; `sid` is the
/// provider's id of the text.
pub async fn text_in(
    url: &str,
    public: &str,
    token: &str,
    from: &str,
    body: &str,
    sid: &str,
) -> reqwest::Response {
    let params = [
        ("MessageSid", sid),
        ("AccountSid", SID),
        ("From", from),
        ("To", FROM),
        ("Body", body),
    ];
    let signature = twilio_signature(token, &format!("{public}{INBOUND}"), &params);
    reqwest::Client::new()
        .post(url)
        .header("x-twilio-signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap()
}
