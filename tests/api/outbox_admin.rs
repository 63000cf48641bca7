//! Supervisors see the messages to patients that stayed failed and put
//! them back in line; agents see who opted out. Through the real server,
//! an SMTP sink that refuses when told, and the SMS provider's stand-in.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::helpers::sms::{self, SmsProvider};
use super::helpers::smtp::SmtpSink;
use super::helpers::{AroundDb, TestApp, execute_around, outbox_settled, turn};
use super::outbound::{agent_books_by_email, with_mail};
use super::texts::{text_in, with_texts_and_public_url};

/// `POST /api/outbox/{id}/retry` as `cookie`.
async fn retry(app: &TestApp, cookie: &str, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(&format!("/api/outbox/{id}/retry")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn failed_list(app: &TestApp, cookie: &str, query: &str) -> Vec<Value> {
    let response = app
        .get_as(cookie, &format!("/api/outbox/failed{query}"))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn message_of(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_refused_email_is_listed_for_supervisors_and_a_retry_delivers_it_once() {
    let sink = SmtpSink::start().await;
    sink.refuse_next(&["550 5.1.1 mailbox unavailable"]);
    let app = with_mail(&sink).await;
    let admin = app.login_admin().await;
    let code = agent_books_by_email(&app, &admin, 0).await;
    assert_eq!(outbox_settled(&app.database_url()).await, (0, 1));

    let sam = app.staff("sam", "supervisor").await;
    let list = failed_list(&app, &sam, "").await;
    assert_eq!(list.len(), 1, "{list:?}");
    let m = &list[0];
    assert_eq!(m["kind"], "booking_confirmed");
    assert_eq!(m["channel"], "email");
    assert_eq!(
        m["recipient"], "r…@example.com",
        "recognisable, not readable"
    );
    assert_eq!(m["lang"], "en");
    assert_eq!(m["attempts"], 1);
    assert_eq!(m["last_error"], "smtp 5xx");
    assert_eq!(m["appointment"], code.as_str());
    assert!(m["created_at"].as_str().unwrap().ends_with('Z'), "{m}");
    assert!(!m.to_string().contains("rosa@"), "{m}");
    let id = m["id"].as_i64().unwrap().to_string();

    // Agents and editors see none of it and retry nothing.
    let kim = app.staff("kim", "agent").await;
    let eddie = app.staff("eddie", "editor").await;
    for cookie in [&kim, &eddie] {
        let listed = app.get_as(cookie, "/api/outbox/failed").await;
        assert_eq!(listed.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            retry(&app, cookie, &id).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(failed_list(&app, &sam, "").await.len(), 1, "still failed");

    // The mail server takes it now: one retry, one message.
    assert_eq!(
        retry(&app, &sam, &id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 0));
    let mails = sink.received();
    assert_eq!(mails.len(), 1, "delivered exactly once");
    assert!(mails[0].readable().contains(&code));
    assert!(failed_list(&app, &sam, "").await.is_empty());

    // Sent is sent: a second press changes nothing.
    let again = retry(&app, &sam, &id).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(
        message_of(again)
            .await
            .contains("only a message that failed")
    );
    assert_eq!(sink.received().len(), 1);

    // Who retried which message is audited (and who was refused), with
    // no address in the log.
    let rows = AroundDb::open(&app.database_url()).await.audit_rows().await;
    let retries: Vec<_> = rows
        .iter()
        .filter(|r| r.4 == "outbox.retry")
        .map(|r| (r.2.as_str(), r.5.as_str(), r.6.as_str()))
        .collect();
    assert!(
        retries.contains(&("sam", id.as_str(), "allowed")),
        "{retries:?}"
    );
    assert!(
        retries.contains(&("kim", id.as_str(), "refused")),
        "{retries:?}"
    );
    assert!(rows.iter().all(|r| !format!("{r:?}").contains("rosa")));
}

#[tokio::test]
async fn retries_of_unknown_or_malformed_ids_are_refused_plainly() {
    let sink = SmtpSink::start().await;
    let app = with_mail(&sink).await;
    let admin = app.login_admin().await;
    agent_books_by_email(&app, &admin, 0).await;
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 0));

    assert_eq!(
        retry(&app, &admin, "999999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        retry(&app, &admin, "0").await.status(),
        StatusCode::NOT_FOUND
    );
    for bad in ["abc", "1.5", "99999999999999999999"] {
        let response = retry(&app, &admin, bad).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(message_of(response).await, "a message id is a number");
    }
    for bad in ["?before=0", "?before=-3", "?before=soon"] {
        let response = app
            .get_as(&admin, &format!("/api/outbox/failed{bad}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert!(failed_list(&app, &admin, "").await.is_empty());
}

#[tokio::test]
async fn the_failed_list_comes_in_bounded_pages_newest_first() {
    let sink = SmtpSink::start().await;
    sink.refuse_next(&["550 5.1.1 mailbox unavailable"]);
    let app = with_mail(&sink).await;
    let admin = app.login_admin().await;
    agent_books_by_email(&app, &admin, 0).await;
    assert_eq!(outbox_settled(&app.database_url()).await, (0, 1));
    // 250 more failures about that appointment, as a long mail outage
    // would leave them.
    let added = execute_around(
        &app.database_url(),
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
         INSERT INTO outbox (kind, channel, recipient, lang, appointment_id, status,
                             attempts, next_attempt_at, last_error, created_at)
         SELECT 'booking_confirmed', 'text', '555-010-' || (1000 + i), 'es',
                (SELECT id FROM appointments LIMIT 1), 'failed', 8, 0, 'sms timeout', i
         FROM n",
        "INSERT INTO outbox (kind, channel, recipient, lang, appointment_id, status,
                             attempts, next_attempt_at, last_error, created_at)
         SELECT 'booking_confirmed', 'text', '555-010-' || (1000 + i), 'es',
                (SELECT id FROM appointments LIMIT 1), 'failed', 8, 0, 'sms timeout', i
         FROM generate_series(1, 250) AS i",
        &[],
    )
    .await;
    assert_eq!(added, 250);

    let first = failed_list(&app, &admin, "").await;
    assert_eq!(first.len(), 200, "one page is at most 200");
    assert_eq!(first[0]["recipient"], "…1250", "the newest first");
    assert_eq!(first[0]["last_error"], "sms timeout");
    let last = first[199]["id"].as_i64().unwrap();
    let rest = failed_list(&app, &admin, &format!("?before={last}")).await;
    assert_eq!(rest.len(), 51, "50 texts and the refused e-mail");
    assert_eq!(rest[50]["channel"], "email");
    let ids: Vec<i64> = first
        .iter()
        .chain(&rest)
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
}

/// Asks for a callback by text to `number` in a new chat.
async fn callback_by_text(app: &TestApp, number: &str) {
    let mut chat = app.chat().await;
    chat.start().await;
    chat.send_json(json!({"type": "handoff"})).await;
    chat.until("reply").await;
    turn(&mut chat, "c1", "Yes, call me back", Some("callback:yes")).await;
    turn(&mut chat, "c2", "Rosa Diaz", None).await;
    turn(&mut chat, "c3", "Text message", Some("channel:text")).await;
    turn(&mut chat, "c4", number, None).await;
    turn(&mut chat, "c5", "Any time", Some("window:any")).await;
    let done = turn(&mut chat, "c6", "Yes, send it", Some("confirm:yes")).await;
    assert!(
        done["text"]
            .as_str()
            .unwrap()
            .contains("callback request is in"),
        "{done}"
    );
}

/// Whether the first entry of a staff list opted out.
async fn first_opted_out(app: &TestApp, cookie: &str, path: &str) -> Value {
    let list: Vec<Value> = app.get_as(cookie, path).await.json().await.unwrap();
    list[0]["opted_out"].clone()
}

#[tokio::test]
async fn a_number_that_texted_stop_is_shown_to_agents_and_its_message_cannot_be_retried() {
    let provider = SmsProvider::start().await;
    // The provider refuses the confirmation for good.
    provider.fail_next(&[400]);
    let app = with_texts_and_public_url(&provider).await;
    let admin = app.login_admin().await;
    let patient = json!({"name": "Luis Vega", "dob": "1970-01-02",
        "phone": "(555) 010-7788", "contact": "text"});
    let code = app.book_flu_shot(&admin, 0, patient).await;
    assert_eq!(outbox_settled(&app.database_url()).await, (0, 1));
    callback_by_text(&app, "555-010-7788").await;
    // The chat's reply may come before the request is stored; once it is
    // listed, its "we got your request" text is in the outbox, and it goes
    // before the STOP below.
    let until = std::time::Instant::now() + super::helpers::EVENT_TIMEOUT;
    while app.callbacks(&admin).await.is_empty() {
        assert!(std::time::Instant::now() < until, "the request is stored");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(outbox_settled(&app.database_url()).await, (1, 1));

    let kim = app.staff("kim", "agent").await;
    assert_eq!(first_opted_out(&app, &kim, "/api/callbacks").await, false);
    assert_eq!(
        first_opted_out(&app, &kim, "/api/appointments").await,
        false
    );

    let stop = text_in(&app, sms::TOKEN, "+15550107788", "STOP").await;
    assert_eq!(stop.status(), 200);
    assert_eq!(first_opted_out(&app, &kim, "/api/callbacks").await, true);
    assert_eq!(first_opted_out(&app, &kim, "/api/appointments").await, true);

    let list = failed_list(&app, &admin, "").await;
    assert_eq!(list[0]["recipient"], "…7788");
    let id = list[0]["id"].as_i64().unwrap().to_string();
    let refused = retry(&app, &admin, &id).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(message_of(refused).await.contains("texted STOP"));
    assert_eq!(failed_list(&app, &admin, "").await.len(), 1, "still failed");

    // START: texts may go to the number again, and so may this one.
    text_in(&app, sms::TOKEN, "+15550107788", "START").await;
    assert_eq!(first_opted_out(&app, &kim, "/api/callbacks").await, false);
    assert_eq!(
        retry(&app, &admin, &id).await.status(),
        StatusCode::NO_CONTENT
    );
    // Sent: the callback request's "we got it" (before the STOP) and the
    // retried confirmation. The START reply is TwiML, not a message
    // through the API.
    assert_eq!(outbox_settled(&app.database_url()).await, (2, 0));
    let taken = provider.taken();
    assert_eq!(taken.len(), 2);
    assert!(taken.iter().all(|t| t["To"] == "+15550107788"));
    assert!(
        taken[1]["Body"].contains(&code),
        "the confirmation: {taken:?}"
    );
}
