//! Booking, cancelling and the appointments API, through the real server.

use serde_json::{Value, json};

use super::helpers::{TestApp, execute_around, spawn_app};

pub(crate) use super::helpers::{choice_values, turn};

async fn first_slot(app: &TestApp, kind: &str) -> String {
    let slots: Vec<Value> = reqwest::get(app.url(&format!("/api/slots?type={kind}&days=7")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    slots[0]["id"].as_str().unwrap().to_owned()
}

/// Books the first sick visit through the API; returns its code.
async fn booked_code(app: &TestApp, cookie: &str) -> String {
    let booked: Value = book_via_api(app, cookie, &first_slot(app, "sick-visit").await)
        .await
        .json()
        .await
        .unwrap();
    booked["code"].as_str().unwrap().to_owned()
}

/// Asks in a new chat to cancel the appointment with `code`, and gives
/// `dob`; returns the bot's answer to the birth date.
async fn cancel_in_chat(app: &TestApp, code: &str, dob: &str) -> (super::helpers::Chat, Value) {
    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "c1", "cancel my appointment", None).await;
    turn(&mut chat, "c2", code, None).await;
    let answer = turn(&mut chat, "c3", dob, None).await;
    (chat, answer)
}

async fn book_via_api(app: &TestApp, cookie: &str, slot: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/appointments"))
        .header("cookie", cookie)
        .json(&json!({"slot": slot, "patient": {"name": "Ana Ruiz", "dob": "1985-03-14", "phone": "555-010-1234", "contact": "text"}}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_patient_books_in_the_chat_step_by_step() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    let types = turn(&mut chat, "b1", "I need an appointment", None).await;
    assert!(
        choice_values(&types).contains(&"type:sick-visit".to_owned()),
        "{types}"
    );
    let providers = turn(&mut chat, "b2", "Sick visit", Some("type:sick-visit")).await;
    assert_eq!(choice_values(&providers)[0], "provider:any");
    let slots = turn(&mut chat, "b3", "First available", Some("provider:any")).await;
    let values = choice_values(&slots);
    assert!(
        values.len() >= 2 && values.last().unwrap() == "slot:later",
        "{slots}"
    );
    let later = turn(&mut chat, "b4", "Later times", Some("slot:later")).await;
    assert_ne!(choice_values(&later)[0], values[0], "later times are later");
    let pick = choice_values(&later)[0].clone();
    turn(&mut chat, "b5", "that one", Some(&pick)).await;
    turn(&mut chat, "b6", "Ana Ruiz", None).await;
    let impossible = turn(&mut chat, "b7", "02/30/1985", None).await;
    assert!(
        impossible["text"]
            .as_str()
            .unwrap()
            .contains("doesn't exist"),
        "{impossible}"
    );
    chat.expect("reply").await; // the question again
    let future = turn(&mut chat, "b8", "01/01/2999", None).await;
    assert!(
        future["text"].as_str().unwrap().contains("future"),
        "{future}"
    );
    chat.expect("reply").await;
    turn(&mut chat, "b9", "03/14/1985", None).await;
    let channel = turn(&mut chat, "b10", "555-010-1234", None).await;
    assert_eq!(choice_values(&channel), ["channel:phone", "channel:text"]);
    let summary = turn(&mut chat, "b11", "Text", Some("channel:text")).await;
    assert!(
        summary["text"].as_str().unwrap().contains("Ana Ruiz"),
        "{summary}"
    );
    let done = turn(&mut chat, "b12", "Yes, book it", Some("confirm:yes")).await;
    let text = done["text"].as_str().unwrap();
    let code = text.split("code is ").nth(1).unwrap()[..8].to_owned();

    let cookie = app.staff("maria", "agent").await;
    let stored = app.appointment(&cookie, &code).await;
    assert_eq!(stored["name"], "Ana Ruiz");
    assert_eq!(stored["dob"], "1985-03-14");
    assert_eq!(stored["contact"], "text");
    assert_eq!(stored["booked"], true);
    let link = text.split("calendar: ").nth(1).unwrap().trim();
    let ics = reqwest::get(app.url(link))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        ics.contains("BEGIN:VEVENT") && ics.contains("DTSTART:") && !ics.contains("Ana Ruiz"),
        "{ics}"
    );
}

/// The clinic-time start of each slot offered in `reply`.
pub(crate) fn offered_starts(reply: &Value) -> Vec<jiff::Zoned> {
    let chicago = jiff::tz::TimeZone::get("America/Chicago").unwrap();
    choice_values(reply)
        .iter()
        .filter_map(|v| v.rsplit('.').next()?.parse::<i64>().ok())
        .map(|s| {
            jiff::Timestamp::from_second(s)
                .unwrap()
                .to_zoned(chicago.clone())
        })
        .collect()
}

/// "Monday at 3pm" offers Monday from 3 pm, not Monday's first times; "at
/// 10:30" is the morning, not the 10th of the month.
#[tokio::test]
async fn a_clock_time_offers_that_part_of_the_day() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "c1", "I need an appointment", None).await;
    turn(&mut chat, "c2", "Sick visit", Some("type:sick-visit")).await;
    turn(&mut chat, "c3", "First available", Some("provider:any")).await;
    // First, as a typed day stays in force for the turns after it.
    let morning = turn(&mut chat, "c4", "at 10:30 please", None).await;
    let starts = offered_starts(&morning);
    assert!(!starts.is_empty(), "{morning}");
    assert!(
        starts.iter().all(|s| (10..12).contains(&s.hour())),
        "{morning}"
    );
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48);
    assert!(
        starts[0].timestamp() < soon,
        "10:30 is the next morning, not the 10th of the month: {morning}"
    );
    let monday = turn(&mut chat, "c5", "monday at 3pm", None).await;
    let starts = offered_starts(&monday);
    assert!(!starts.is_empty(), "{monday}");
    for start in &starts {
        assert_eq!(start.weekday(), jiff::civil::Weekday::Monday, "{monday}");
        assert!(
            (15..17).contains(&start.hour()),
            "{start} for 3pm: {monday}"
        );
    }
    // Nothing in the morning from 3 pm on: the morning's times instead.
    let odd = turn(&mut chat, "c6", "tomorrow morning at 3", None).await;
    let starts = offered_starts(&odd);
    assert!(!starts.is_empty(), "{odd}");
    assert!(starts.iter().all(|s| s.hour() < 12), "{odd}");
}

#[tokio::test]
async fn never_mind_leaves_the_flow_and_side_questions_are_answered_mid_flow() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    turn(
        &mut chat,
        "a",
        "can I see Dr. Lee tomorrow afternoon?",
        None,
    )
    .await;
    // A question in the middle is answered, then the flow asks again.
    let answer = turn(&mut chat, "b", "Do you offer payment plans?", None).await;
    assert_eq!(answer["article"], "billing-payment-plans", "{answer}");
    assert!(
        chat.expect("reply").await["text"]
            .as_str()
            .unwrap()
            .contains("back to your appointment")
    );
    chat.expect("reply").await;
    let stopped = turn(&mut chat, "c", "never mind", None).await;
    assert!(
        stopped["text"]
            .as_str()
            .unwrap()
            .contains("Nothing was booked"),
        "{stopped}"
    );
}

#[tokio::test]
async fn cancelling_needs_the_code_and_birth_date_and_says_nothing_about_which_was_wrong() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let code = booked_code(&app, &cookie).await;
    let (mut chat, wrong) = cancel_in_chat(&app, &code, "01/01/1990").await;
    assert!(
        wrong["text"]
            .as_str()
            .unwrap()
            .contains("code and date of birth"),
        "{wrong}"
    );
    chat.expect("reply").await;
    turn(&mut chat, "c4", &code.to_lowercase(), None).await;
    let found = turn(&mut chat, "c5", "03/14/1985", None).await;
    assert_eq!(choice_values(&found)[0], "confirm:yes", "{found}");
    let done = turn(&mut chat, "c6", "Yes, cancel it", Some("confirm:yes")).await;
    assert!(
        done["text"].as_str().unwrap().contains("cancelled"),
        "{done}"
    );
    let stored = app.appointment(&cookie, &code).await;
    assert_eq!(stored["booked"], false);
}

/// A database that cannot count look-up attempts refuses the look-up
/// plainly: the patient hears it cannot be done right now (not "too many
/// tries", not "wrong code"), and nothing is cancelled.
#[tokio::test]
async fn a_look_up_the_database_cannot_count_is_refused_plainly() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let code = booked_code(&app, &cookie).await;
    // Attempts are counted in this table, on every server; without it
    // nothing can be counted.
    let drop = "DROP TABLE throttle_failures";
    execute_around(&app.database_url(), drop, drop, &[]).await;
    let (_chat, refused) = cancel_in_chat(&app, &code, "03/14/1985").await;
    assert!(
        refused["text"]
            .as_str()
            .unwrap()
            .contains("can't look up appointments right now"),
        "{refused}"
    );
    let stored = app.appointment(&cookie, &code).await;
    assert_eq!(stored["booked"], true);
}

#[tokio::test]
async fn the_api_lists_types_and_slots_books_refuses_a_taken_slot_and_cancels() {
    let app = spawn_app().await;
    let types: Vec<Value> = reqwest::get(app.url("/api/appointment-types"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(types[0]["id"], "sick-visit");
    assert_eq!(types[0]["duration_min"], 20);
    let slots: Vec<Value> = reqwest::get(app.url("/api/slots?type=sick-visit&days=3"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let start = slots[0]["start"].as_str().unwrap();
    assert!(
        start.ends_with("-06:00") || start.ends_with("-05:00"),
        "RFC 3339 with the clinic's offset: {start}"
    );
    assert_eq!(
        reqwest::get(app.url("/api/slots?type=nope"))
            .await
            .unwrap()
            .status(),
        400
    );

    let slot = slots[0]["id"].as_str().unwrap();
    let anonymous = reqwest::Client::new()
        .post(app.url("/api/appointments"))
        .json(&json!({"slot": slot}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let cookie = app.staff("maria", "agent").await;
    let first = book_via_api(&app, &cookie, slot).await;
    assert_eq!(first.status(), 201);
    let code = first.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = book_via_api(&app, &cookie, slot).await;
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert!(!body["alternatives"].as_array().unwrap().is_empty());
    let after: Vec<Value> = reqwest::get(app.url("/api/slots?type=sick-visit&days=3"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        after.iter().all(|s| s["id"] != slot),
        "a booked slot is no longer offered"
    );

    let delete = |c: &str| {
        reqwest::Client::new()
            .delete(app.url(&format!("/api/appointments/{c}")))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(delete(&code).await.unwrap().status(), 204);
    assert_eq!(delete(&code).await.unwrap().status(), 404);
    assert_eq!(
        book_via_api(&app, &cookie, slot).await.status(),
        201,
        "a cancelled slot can be booked again"
    );
}

#[tokio::test]
async fn many_concurrent_bookings_of_one_slot_exactly_one_wins() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let slot = first_slot(&app, "sick-visit").await;
    let attempts = (0..20).map(|_| book_via_api(&app, &cookie, &slot));
    let results = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn overlapping_appointment_types_cannot_double_book_a_provider() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    // A 20-minute sick visit with Dr. Lee...
    let slots: Vec<Value> =
        reqwest::get(app.url("/api/slots?type=sick-visit&days=3&provider=dr-lee"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let visit = &slots[0];
    assert_eq!(
        book_via_api(&app, &cookie, visit["id"].as_str().unwrap())
            .await
            .status(),
        201
    );
    // ...means no 10-minute flu shot with her that starts inside it.
    let shots: Vec<Value> =
        reqwest::get(app.url("/api/slots?type=flu-shot&days=3&provider=dr-lee"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let at = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let overlaps =
        |s: &Value| at(&s["start"]) < at(&visit["end"]) && at(&visit["start"]) < at(&s["end"]);
    assert!(
        !shots.iter().any(overlaps),
        "no overlapping shot is offered"
    );
    let start: i64 = visit["id"]
        .as_str()
        .unwrap()
        .rsplit('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let inside = format!("flu-shot.dr-lee.main.{}", start + 600);
    assert_eq!(book_via_api(&app, &cookie, &inside).await.status(), 409);
}

#[tokio::test]
async fn a_patient_moves_an_appointment_in_the_chat_and_the_old_time_is_freed() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let old_slot = first_slot(&app, "sick-visit").await;
    let booked: Value = book_via_api(&app, &cookie, &old_slot)
        .await
        .json()
        .await
        .unwrap();
    let old_code = booked["code"].as_str().unwrap().to_owned();

    let mut chat = app.chat().await;
    chat.start().await;
    turn(&mut chat, "r1", "I need to reschedule my appointment", None).await;
    turn(&mut chat, "r2", &old_code, None).await;
    let times = turn(&mut chat, "r3", "03/14/1985", None).await;
    let pick = choice_values(&times)
        .into_iter()
        .find(|v| v.starts_with("slot:") && v != "slot:later")
        .expect("open times offered");
    let confirm = turn(&mut chat, "r4", "that one", Some(&pick)).await;
    assert!(
        confirm["text"].as_str().unwrap().starts_with("Move your"),
        "{confirm}"
    );
    let done = turn(&mut chat, "r5", "Yes", Some("confirm:yes")).await;
    let new_code = done["text"]
        .as_str()
        .unwrap()
        .split("code is ")
        .nth(1)
        .unwrap()[..8]
        .to_owned();
    assert_ne!(new_code, old_code);

    let old: Value = app
        .get_as(&cookie, &format!("/api/appointments/{old_code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["booked"], false, "the old appointment is cancelled");
    let new: Value = app
        .get_as(&cookie, &format!("/api/appointments/{new_code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (new["booked"].as_bool(), new["name"].as_str()),
        (Some(true), Some("Ana Ruiz"))
    );
    assert_eq!(
        book_via_api(&app, &cookie, &old_slot).await.status(),
        201,
        "the old time is free again"
    );
}
