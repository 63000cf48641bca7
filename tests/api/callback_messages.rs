//! What a patient who leaves a callback request hears back outside the
//! chat: "we got it" when they ask, and a short note when an agent marks
//! it done, by the e-mail or text they gave; nothing for a phone call.
//! Through the real server, a real SMTP exchange and the SMS stand-in.

use serde_json::{Value, json};

use super::helpers::sms::{self, SmsProvider};
use super::helpers::smtp::SmtpSink;
use super::helpers::{AroundDb, Chat, EVENT_TIMEOUT, TestApp, outbox_settled, spawn_app_with};
use super::outbound::{ARRIVES, header};

/// Both channels on, the mail through `sink` and texts through `provider`.
async fn with_both(sink: &SmtpSink, provider: &SmsProvider) -> TestApp {
    let (mail, texts) = (sink.url(), provider.url());
    spawn_app_with(move |s| {
        s.channels.smtp_url = Some(mail);
        s.channels.mail_from = Some("Test Clinic <frontdesk@clinic.example>".into());
        s.channels.sms_api_url = texts;
        s.channels.sms_account_sid = Some(sms::SID.into());
        s.channels.sms_auth_token = Some(sms::TOKEN.into());
        s.channels.sms_from = Some(sms::FROM.into());
    })
    .await
}

/// A server with both channels on, an agent (`cookie`) signed in, and a
/// callback request left in its chat.
struct Requested {
    sink: SmtpSink,
    provider: SmsProvider,
    app: TestApp,
    cookie: String,
    request: Value,
}

async fn requested(lang: &str, how: (&str, &str), contact: &str) -> Requested {
    let (sink, provider) = (SmtpSink::start().await, SmsProvider::start().await);
    let app = with_both(&sink, &provider).await;
    let cookie = app.staff("kim", "agent").await;
    let request = leave_callback(&app, &cookie, lang, how, contact).await;
    Requested {
        sink,
        provider,
        app,
        cookie,
        request,
    }
}

/// Leaves a callback request in a new chat in `lang` (nobody is online, so
/// the chat offers one), with these answers to "how" and "where"; returns
/// the request as the agent signed in with `cookie` sees it listed, that
/// is once it is committed (with its message, if any).
async fn leave_callback(
    app: &TestApp,
    cookie: &str,
    lang: &str,
    how: (&str, &str),
    contact: &str,
) -> Value {
    let mut chat: Chat = app.chat().await;
    chat.send_json(json!({"type": "start", "lang": lang})).await;
    chat.expect("started").await;
    chat.send_json(json!({"type": "handoff"})).await;
    chat.expect("reply").await;
    let (yes, name, mornings, done) = match lang {
        "es" => (
            "Sí",
            "Rosa Díaz",
            "Mañanas entre semana",
            "Recibimos su solicitud",
        ),
        _ => (
            "Yes",
            "Rosa Diaz",
            "Weekday mornings",
            "callback request is in",
        ),
    };
    let steps: [(&str, Option<&str>); 6] = [
        (yes, Some("callback:yes")),
        (name, None),
        (how.0, Some(how.1)),
        (contact, None),
        (mornings, Some("window:mornings")),
        (yes, Some("confirm:yes")),
    ];
    let mut last = Value::Null;
    for (i, (text, choice)) in steps.iter().enumerate() {
        last = super::helpers::turn(&mut chat, &format!("cb{i}"), text, *choice).await;
    }
    assert!(last["text"].as_str().unwrap().contains(done), "{last}");
    // The chat says so before the request is stored; the list shows it
    // once it is.
    let until = std::time::Instant::now() + EVENT_TIMEOUT;
    loop {
        let list: Vec<Value> = app
            .get_as(cookie, "/api/callbacks")
            .await
            .json()
            .await
            .unwrap();
        if let Some(request) = list.into_iter().next() {
            return request;
        }
        assert!(std::time::Instant::now() < until, "the request is listed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

impl Requested {
    /// Marks the request done as the agent: the answer's status.
    async fn mark_done(&self) -> u16 {
        let id = self.request["id"].as_i64().unwrap();
        reqwest::Client::new()
            .post(self.app.url(&format!("/api/callbacks/{id}/done")))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

#[tokio::test]
async fn an_email_callback_request_is_acknowledged_and_its_completion_told_once() {
    let r = requested("en", ("Email", "channel:email"), "rosa@example.com").await;

    let mails = r.sink.wait_for(1, ARRIVES).await;
    let mail = mails[0].readable();
    assert_eq!(header(&mail, "To"), "rosa@example.com");
    assert_eq!(
        header(&mail, "Subject"),
        "Test Clinic has your callback request"
    );
    assert!(
        mail.contains("we have your request to be contacted"),
        "{mail}"
    );
    // Nothing the patient told the chat is in it.
    assert!(
        !mail.contains("Rosa") && !mail.to_lowercase().contains("morning"),
        "{mail}"
    );

    assert_eq!(r.mark_done().await, 204);
    let mails = r.sink.wait_for(2, ARRIVES).await;
    let mail = mails[1].readable();
    assert_eq!(header(&mail, "To"), "rosa@example.com");
    assert_eq!(
        header(&mail, "Subject"),
        "Your callback request to Test Clinic is closed"
    );

    // Done already: refused, and no message is written with the refusal
    // (a pending one would be counted once sent).
    assert_eq!(r.mark_done().await, 404);
    assert_eq!(outbox_settled(&r.app.database_url()).await, (2, 0));
    assert_eq!(r.sink.received().len(), 2, "one message per change");
    assert!(r.provider.taken().is_empty(), "nothing by text");
}

#[tokio::test]
async fn a_text_callback_request_in_spanish_is_acknowledged_in_spanish() {
    let r = requested("es", ("Mensaje de texto", "channel:text"), "555-010-4477").await;
    assert_eq!(r.request["lang"], "es");
    let texts = r.provider.wait_for(1, ARRIVES).await;
    assert_eq!(texts[0]["To"], "+15550104477");
    assert!(
        texts[0]["Body"].starts_with("Test Clinic: recibimos su solicitud de contacto"),
        "{texts:?}"
    );
    assert_eq!(r.mark_done().await, 204);
    let texts = r.provider.wait_for(2, ARRIVES).await;
    assert!(
        texts[1]["Body"].contains("atendió su solicitud de contacto"),
        "{texts:?}"
    );
    assert_eq!(outbox_settled(&r.app.database_url()).await, (2, 0));
    assert!(r.sink.received().is_empty(), "nothing by e-mail");
}

#[tokio::test]
async fn a_phone_call_callback_request_sends_nothing_the_call_is_the_answer() {
    let r = requested("en", ("Phone call", "channel:phone"), "555-010-4477").await;
    assert_eq!(r.request["channel"], "phone");
    assert_eq!(r.mark_done().await, 204);
    // Each message would have been committed with its change: none was.
    assert_eq!(outbox_settled(&r.app.database_url()).await, (0, 0));
    assert!(r.sink.received().is_empty() && r.provider.taken().is_empty());
}

#[tokio::test]
async fn retention_takes_a_callback_requests_messages_with_it() {
    let r = requested("en", ("Email", "channel:email"), "rosa@example.com").await;
    assert_eq!(outbox_settled(&r.app.database_url()).await, (1, 0));
    let purged = r.app.cli(&["purge", "--retention-days", "0"], "").await;
    let said = String::from_utf8_lossy(&purged.stdout);
    assert!(said.contains("1 callback requests"), "{said}");
    let db = AroundDb::open(&r.app.database_url()).await;
    assert_eq!(db.count("callbacks").await, 0);
    assert_eq!(db.count("outbox").await, 0, "the address went with it");
}
