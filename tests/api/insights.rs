//! The numbers supervisors see, from scripted conversations through the
//! real server: exact counts for each kind of conversation.

use serde_json::{Value, json};

use super::helpers::{Chat, TestApp, spawn_app, turn};

/// `GET /api/insights` as the holder of `cookie`.
async fn insights_as(app: &TestApp, cookie: &str) -> Value {
    app.get_as(cookie, "/api/insights")
        .await
        .json()
        .await
        .unwrap()
}

async fn started(app: &TestApp) -> Chat {
    let mut chat = app.chat().await;
    chat.start().await;
    chat
}

#[tokio::test]
async fn insights_count_each_kind_of_conversation_exactly() {
    let app = spawn_app().await;
    let maria = app.staff("maria", "agent").await;
    let mut agent = app.console(&maria).await;

    // A: self-served, answer marked helpful, rated 5.
    let mut a = started(&app).await;
    let answer = turn(&mut a, "a1", "Do you offer payment plans?", None).await;
    a.send_json(json!({"type": "feedback", "seq": answer["seq"], "helpful": true}))
        .await;
    a.expect("feedback_saved").await;
    a.send_json(json!({"type": "end"})).await;
    a.expect("ended").await;
    a.send_json(json!({"type": "rate", "score": 5})).await;
    a.expect("rated").await;

    // B: asks for a person, is claimed and helped, rates 2.
    let mut b = started(&app).await;
    turn(&mut b, "b1", "I want to talk to a person", None).await;
    let conversation = agent.only_waiting().await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent.until("claimed").await;
    agent.send_json(json!({"type": "say", "conversation": conversation, "id": "x", "text": "Hi, how can I help?"})).await;
    agent.until("ack").await;
    agent
        .send_json(
            json!({"type": "resolve", "conversation": conversation, "disposition": "answered"}),
        )
        .await;
    agent.until("released").await;
    b.send_json(json!({"type": "rate", "score": 2})).await;
    b.until("rated").await;

    // C: "none of these", then leaves while waiting.
    let mut c = started(&app).await;
    turn(&mut c, "c1", "appointment", None).await;
    turn(&mut c, "c2", "None of these", Some("none")).await;
    c.send_json(json!({"type": "end"})).await;
    c.until("ended").await;
    // D: two misses. E: frustrated. F: emergency. G: wants a person mid-booking.
    let mut d = started(&app).await;
    turn(&mut d, "d1", "what is the capital of France", None).await;
    turn(&mut d, "d2", "who won the football game last night", None).await;
    let mut e = started(&app).await;
    turn(&mut e, "e1", "this is useless", None).await;
    let mut f = started(&app).await;
    turn(&mut f, "f1", "I can't breathe", None).await;
    let mut g = started(&app).await;
    turn(&mut g, "g1", "I need an appointment", None).await;
    turn(&mut g, "g2", "can I talk to a real person", None).await;

    let supervisor = app.staff("sue", "supervisor").await;
    let report: Value = insights_as(&app, &supervisor).await;
    assert_eq!(report["conversations"], 7, "{report:#}");
    assert_eq!(report["self_service_rate"], 0.143);
    for reason in [
        "patient_request",
        "low_confidence",
        "repeated_misses",
        "frustration",
        "emergency",
        "booking_help",
    ] {
        assert_eq!(
            report["escalations"]["by_reason"][reason]["count"], 1,
            "{reason}: {report:#}"
        );
    }
    assert_eq!(report["escalations"]["offline"], 0);
    assert_eq!(report["queue"]["queued"], 6);
    assert_eq!(report["queue"]["claimed"], 1);
    assert_eq!(report["queue"]["abandoned_rate"], 0.167);
    assert!(report["queue"]["wait_s"]["p50"].is_number());
    assert!(report["queue"]["first_response_s"]["p50"].is_number());
    assert_eq!(report["queue"]["per_agent"][0]["agent"], "maria");
    assert_eq!(report["satisfaction"]["ratings"], 2);
    assert_eq!(report["satisfaction"]["csat"], 0.5);
    assert_eq!(
        report["satisfaction"]["distribution"],
        json!([0, 1, 0, 0, 1])
    );
    assert_eq!(report["satisfaction"]["helpful"], 1);
    let answers = report["knowledge"]["answers"].as_array().unwrap();
    let plans = answers
        .iter()
        .find(|x| x["article"] == "billing-payment-plans")
        .expect("the answer is counted");
    assert_eq!(
        (plans["served"].as_i64(), plans["helpful"].as_i64()),
        (Some(1), Some(1))
    );
    let unanswered: usize = report["knowledge"]["unanswered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(unanswered, 3, "{:#}", report["knowledge"]["unanswered"]);
    assert_eq!(report["daily"][0]["conversations"], 7);

    // Editors see the knowledge part only; agents see nothing.
    let editor = app.staff("ed", "editor").await;
    let theirs: Value = insights_as(&app, &editor).await;
    assert!(theirs.get("conversations").is_none() && theirs["knowledge"]["answers"].is_array());
    assert_eq!(app.get_as(&maria, "/api/insights").await.status(), 403);
    let csv = app
        .get_as(&supervisor, "/api/insights?format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("date,conversations,self_served,escalated,ratings,csat\n"),
        "{csv}"
    );
    // The role split holds for every format.
    assert_eq!(
        app.get_as(&editor, "/api/insights?format=csv")
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_as(&supervisor, "/api/insights?format=xml")
            .await
            .status(),
        400
    );
    let too_long = app
        .get_as(&supervisor, "/api/insights?from=2024-01-01&to=2026-01-01")
        .await;
    assert_eq!(too_long.status(), 400);
    assert!(too_long.text().await.unwrap().contains("366"));
    assert_eq!(theirs["knowledge"]["unanswered_total"], 3, "{theirs:#}");
    assert_eq!(theirs["knowledge"]["unanswered_limit"], 5000);
}

/// What editors read of patients' unanswered questions: grouped, with
/// introduced names, ages, dates in words and health words replaced.
#[tokio::test]
async fn editors_see_unanswered_questions_without_names_ages_or_health_words() {
    let app = spawn_app().await;
    let mut chat = started(&app).await;
    turn(
        &mut chat,
        "u1",
        "hi my name is Rosa Delgado, my son is 7 years old, do you have a piano in the lobby",
        None,
    )
    .await;
    let mut other = started(&app).await;
    turn(
        &mut other,
        "u2",
        "me llamo Rosa y tomo metformin, ¿tienen piano?",
        None,
    )
    .await;
    let editor = app.staff("ed", "editor").await;
    let theirs: Value = insights_as(&app, &editor).await;
    let shown = theirs["knowledge"]["unanswered"].to_string();
    assert!(shown.contains("piano"), "{shown}");
    for gone in ["Rosa", "Delgado", "7 years", "metformin"] {
        assert!(!shown.contains(gone), "{gone} shown to an editor: {shown}");
    }
}

/// A condition the built-in list does not know is replaced once an editor
/// adds it to the knowledge base's `health-words.txt`, without a restart.
#[tokio::test]
async fn the_knowledge_bases_own_health_words_are_replaced_at_once() {
    let kb = tempfile::tempdir().unwrap();
    super::helpers::copy_dir(&super::helpers::knowledge_dir(), kb.path());
    let dir = kb.path().to_path_buf();
    let app = super::helpers::spawn_app_with(|s| s.data.knowledge = dir).await;
    let mut chat = started(&app).await;
    turn(&mut chat, "u1", "does the piano room help my eczema", None).await;
    let editor = app.staff("ed", "editor").await;
    let unanswered = |v: Value| v["knowledge"]["unanswered"].to_string();
    let before = unanswered(insights_as(&app, &editor).await);
    assert!(before.contains("eczema"), "{before}");

    let mut reloads = app.knowledge.subscribe_reloads();
    reloads.borrow_and_update();
    std::fs::write(
        kb.path().join("health-words.txt"),
        "# conditions our articles mention\neczema, psoriasis\n",
    )
    .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(15), reloads.changed())
        .await
        .expect("reloaded in time")
        .unwrap();
    let after = unanswered(insights_as(&app, &editor).await);
    assert!(!after.contains("eczema"), "{after}");
    assert!(
        after.contains("piano") && after.contains("[health]"),
        "{after}"
    );
}

#[tokio::test]
async fn metrics_are_off_by_default_and_need_the_token_when_on() {
    let off = spawn_app().await;
    assert_eq!(
        reqwest::get(off.url("/metrics")).await.unwrap().status(),
        404
    );

    let app = super::helpers::spawn_app_with(|s| s.metrics_token = Some("scrape-me".into())).await;
    assert_eq!(
        reqwest::get(app.url("/metrics")).await.unwrap().status(),
        401
    );
    let mut chat = started(&app).await;
    turn(&mut chat, "m1", "Do you offer payment plans?", None).await;
    let text = super::helpers::scrape_metrics(app.addr, "scrape-me").await;
    assert!(text.contains("frontdesk_chat_connections 1"), "{text}");
    assert!(text.contains("frontdesk_messages_total 1"), "{text}");
    assert!(
        text.contains("frontdesk_bot_reply_seconds_count 1"),
        "{text}"
    );
    assert!(text.contains("frontdesk_queue_length 0"), "{text}");
}

#[tokio::test]
async fn an_editor_turns_unanswered_questions_into_a_draft_that_does_not_go_live() {
    let kb = tempfile::tempdir().unwrap();
    super::helpers::copy_dir(&super::helpers::knowledge_dir(), kb.path());
    let dir = kb.path().to_path_buf();
    let app = super::helpers::spawn_app_with(|s| s.data.knowledge = dir).await;
    let editor = app.staff("ed", "editor").await;
    let draft = |label: &str| {
        reqwest::Client::new()
            .post(app.url("/api/insights/drafts"))
            .header("cookie", &editor)
            .json(&json!({"label": label, "examples": ["do you validate parking", "parking \"validation\""]}))
            .send()
    };
    let created = draft("parking validation").await.unwrap();
    assert_eq!(created.status(), 201);
    let path = kb.path().join("drafts/parking-validation.md.draft");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("title = \"do you validate parking\""),
        "{text}"
    );
    assert_eq!(draft("parking validation").await.unwrap().status(), 409);
    // A dangling link where a draft would go is not followed: nothing is
    // written where it points.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted.txt");
    std::os::unix::fs::symlink(&target, kb.path().join("drafts/lost-cards.md.draft")).unwrap();
    assert_eq!(draft("lost cards").await.unwrap().status(), 409);
    assert!(!target.exists(), "the link was followed");
    // Ten at once with one name: exactly one is written.
    let racing: Vec<_> = (0..10).map(|_| draft("same time")).collect();
    let statuses: Vec<u16> = futures_util::future::join_all(racing)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        9,
        "{statuses:?}"
    );
    // The draft is not an article: the knowledge base stays clean.
    let out = app
        .cli(&["knowledge", "check", kb.path().to_str().unwrap()], "")
        .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let agent = app.staff("maria", "agent").await;
    let refused = reqwest::Client::new()
        .post(app.url("/api/insights/drafts"))
        .header("cookie", &agent)
        .json(&json!({"label": "x", "examples": ["y"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

/// A patient who opens the chat and presses "Talk to a person" without
/// typing wanted a person: the conversation counts, and not as self-served.
/// One who opens the widget and leaves does not count.
#[tokio::test]
async fn a_handoff_without_typing_counts_as_a_conversation() {
    let app = spawn_app().await;
    let mut pressed = started(&app).await;
    pressed.send_json(json!({"type": "handoff"})).await;
    pressed.until("reply").await;
    let _idle = started(&app).await;
    let supervisor = app.staff("sam", "supervisor").await;
    let report: Value = insights_as(&app, &supervisor).await;
    assert_eq!(report["conversations"], 1, "{report:#}");
    assert_eq!(report["self_service_rate"], 0.0, "{report:#}");
}
