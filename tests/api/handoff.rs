//! Live-agent handoff end to end: a patient socket, agent console sockets,
//! the real server and database.

use serde_json::{Value, json};

use super::helpers::{Chat, Closed, Console, ask_for_person, claim_race, spawn_app};

/// A patient who asked for a person and an agent who claimed them; returns
/// the patient's resume token and the conversation id.
async fn claimed_chat(patient: &mut Chat, agent: &mut Console) -> (String, String) {
    let token = ask_for_person(patient).await;
    let conversation = agent.only_waiting().await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent.until("claimed").await;
    patient.until("agent_joined").await;
    (token, conversation)
}

#[tokio::test]
async fn a_patient_escalates_an_agent_claims_and_they_talk() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let mut agent = app.console(&cookie).await;
    assert!(agent.queue_of(0).await.is_empty());

    let mut patient = app.chat().await;
    ask_for_person(&mut patient).await;
    let queued = patient.expect("queued").await;
    assert_eq!(queued["position"], 1);
    assert_eq!(
        queued["estimated_wait_s"],
        Value::Null,
        "no history: the wait is unknown"
    );

    let items = agent.queue_of(1).await;
    assert_eq!(items[0]["reason"], "patient_request");
    assert_eq!(items[0]["position"], 1);
    let conversation = items[0]["conversation"].as_str().unwrap().to_owned();

    // A message while waiting is stored and reaches the agent with the chat.
    patient.say("p2", "it's about my bill").await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    let claimed = agent.until("claimed").await;
    let texts: Vec<&str> = claimed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"it's about my bill"), "{texts:?}");
    assert_eq!(claimed["context"]["reason"], "patient_request");
    assert_eq!(
        claimed["context"]["questions"][0],
        "I want to talk to a real person"
    );
    assert_eq!(patient.until("agent_joined").await["name"], "maria");

    agent.send_json(json!({"type": "say", "conversation": conversation, "id": "a1", "text": "Hi, I'm Maria. How can I help?"})).await;
    let ack = agent.until("ack").await;
    assert_eq!(ack["id"], "a1");
    let reply = patient.until("reply").await;
    assert_eq!(reply["from"], "agent");
    assert_eq!(reply["text"], "Hi, I'm Maria. How can I help?");
    assert_eq!(reply["seq"], ack["seq"]);

    patient.say("p3", "I was charged twice").await;
    let message = agent.until("message").await;
    assert_eq!(message["conversation"], conversation.as_str());
    assert_eq!(message["from"], "patient");
    assert_eq!(message["text"], "I was charged twice");
}

#[tokio::test]
async fn a_reconnecting_patient_keeps_their_agent() {
    let app = spawn_app().await;
    let cookie = app.staff("lee", "agent").await;
    let mut agent = app.console(&cookie).await;
    let mut patient = app.chat().await;
    let (token, _) = claimed_chat(&mut patient, &mut agent).await;
    drop(patient);

    let mut back = app.chat().await;
    back.resume(&token).await;
    assert_eq!(back.expect("agent_joined").await["name"], "lee");
    back.say("again", "sorry, my wifi dropped").await;
    assert_eq!(
        agent.until("message").await["text"],
        "sorry, my wifi dropped"
    );
}

#[tokio::test]
async fn two_agents_racing_for_one_chat_exactly_one_wins() {
    let app = spawn_app().await;
    let mut a = app.console(&app.staff("ana", "agent").await).await;
    let mut b = app.console(&app.staff("ben", "agent").await).await;
    let mut patient = app.chat().await;
    ask_for_person(&mut patient).await;
    let conversation = a.only_waiting().await;
    b.queue_of(1).await;
    claim_race(&mut a, &mut b, &conversation).await;
}

#[tokio::test]
async fn resolving_hands_the_patient_back_to_the_bot() {
    let app = spawn_app().await;
    let mut agent = app.console(&app.staff("sam", "agent").await).await;
    let mut patient = app.chat().await;
    let (_, conversation) = claimed_chat(&mut patient, &mut agent).await;
    agent
        .send_json(
            json!({"type": "resolve", "conversation": conversation, "disposition": "answered"}),
        )
        .await;
    assert_eq!(agent.until("released").await["why"], "resolved");
    patient.until("agent_left").await;
    patient.say("p9", "thanks!").await;
    assert_eq!(patient.until("reply").await["from"], "bot");
}

#[tokio::test]
async fn with_no_agent_online_the_patient_leaves_a_callback_request() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    chat.send_json(json!({"type": "handoff"})).await;
    let offer = chat.expect("reply").await;
    assert!(
        offer["text"].as_str().unwrap().contains("callback"),
        "{offer}"
    );
    let steps: [(&str, Option<&str>); 5] = [
        ("Yes, call me back", Some("callback:yes")),
        ("Rosa Diaz", None),
        ("Text message", Some("channel:text")),
        ("555-010-4477", None),
        ("Weekday mornings", Some("window:mornings")),
    ];
    for (i, (text, choice)) in steps.iter().enumerate() {
        let mut frame = json!({"type": "say", "id": format!("cb{i}"), "text": text});
        if let Some(c) = choice {
            frame["choice"] = json!(c);
        }
        chat.send_json(frame).await;
        chat.expect("ack").await;
        chat.expect("reply").await;
    }
    chat.send_json(
        json!({"type": "say", "id": "cb9", "text": "Yes, send it", "choice": "confirm:yes"}),
    )
    .await;
    chat.expect("ack").await;
    assert!(
        chat.expect("reply").await["text"]
            .as_str()
            .unwrap()
            .contains("callback request is in")
    );

    let cookie = app.staff("kim", "agent").await;
    let list = app.callbacks(&cookie).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "Rosa Diaz");
    assert_eq!(list[0]["channel"], "text");
    assert_eq!(list[0]["contact"], "555-010-4477");
}

/// "Text me at 555-…" answers both "how" and "where" in one message.
#[tokio::test]
async fn a_callback_takes_the_number_and_the_channel_from_one_sentence() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    chat.send_json(json!({"type": "handoff"})).await;
    chat.expect("reply").await;
    let steps: [(&str, Option<&str>); 3] = [
        ("Yes, call me back", Some("callback:yes")),
        ("Rosa Diaz", None),
        ("you can text me at (555) 010-4477", None),
    ];
    let mut last = Value::Null;
    for (i, (text, choice)) in steps.iter().enumerate() {
        let mut frame = json!({"type": "say", "id": format!("cs{i}"), "text": text});
        if let Some(c) = choice {
            frame["choice"] = json!(c);
        }
        chat.send_json(frame).await;
        chat.expect("ack").await;
        last = chat.expect("reply").await;
    }
    assert!(
        last["text"]
            .as_str()
            .unwrap()
            .contains("good time to reach you"),
        "{last}"
    );
    chat.send_json(json!({"type": "say", "id": "cs8", "text": "after 3 pm"}))
        .await;
    chat.expect("ack").await;
    let summary = chat.expect("reply").await;
    let text = summary["text"].as_str().unwrap();
    assert!(text.contains("(555) 010-4477"), "{summary}");
    assert!(text.to_lowercase().contains("text"), "{summary}");
}

#[tokio::test]
async fn consoles_need_a_live_session_and_a_chat_role() {
    let app = spawn_app().await;
    let anonymous = super::helpers::Ws::console(app.addr, "frontdesk_session=st_bogus").await;
    match anonymous {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let editor = app.staff("eddie", "editor").await;
    match super::helpers::Ws::console(app.addr, &editor).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    // Signing out closes the open console. Before that, a binary frame is
    // refused with an error frame, and the console stays open.
    let cookie = app.staff("lou", "agent").await;
    let mut console = app.console(&cookie).await;
    console
        .send_raw(tokio_tungstenite::tungstenite::Message::Binary(
            vec![0, 1].into(),
        ))
        .await
        .unwrap();
    assert_eq!(console.until("error").await["code"], "binary_frame");
    reqwest::Client::new()
        .post(app.url("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(console.closed().await, Closed::Code(4001));
}

#[tokio::test]
async fn transcripts_are_readable_only_by_who_may() {
    let app = spawn_app().await;
    let maria = app.staff("maria", "agent").await;
    let other = app.staff("otto", "agent").await;
    let supervisor = app.staff("sue", "supervisor").await;
    let editor = app.staff("ed", "editor").await;
    let mut agent = app.console(&maria).await;
    let mut patient = app.chat().await;
    let (_, conversation) = claimed_chat(&mut patient, &mut agent).await;

    let path = format!("/api/conversations/{conversation}");
    assert_eq!(app.get_as(&maria, &path).await.status(), 200);
    assert_eq!(app.get_as(&supervisor, &path).await.status(), 200);
    assert_eq!(app.get_as(&other, &path).await.status(), 403);
    assert_eq!(app.get_as(&editor, &path).await.status(), 403);
    let listed: Vec<Value> = app
        .get_as(&maria, "/api/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let none: Vec<Value> = app
        .get_as(&other, "/api/conversations")
        .await
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn typing_shows_on_both_sides() {
    let app = spawn_app().await;
    let mut agent = app.console(&app.staff("tia", "agent").await).await;
    let mut patient = app.chat().await;
    let (_, conversation) = claimed_chat(&mut patient, &mut agent).await;
    patient.send_json(json!({"type": "typing"})).await;
    let typing = agent.until("typing").await;
    assert_eq!(
        (typing["conversation"].as_str(), typing["from"].as_str()),
        (Some(conversation.as_str()), Some("patient"))
    );
    agent
        .send_json(json!({"type": "typing", "conversation": conversation}))
        .await;
    assert_eq!(patient.until("typing").await["from"], "agent");
}

/// A burst of typing frames reaches the agent as one event, not a flood
/// (the rest of the burst is dropped, and no frame of it is refused).
#[tokio::test]
async fn a_burst_of_typing_reaches_the_agent_once() {
    let app = spawn_app().await;
    let mut agent = app.console(&app.staff("tia", "agent").await).await;
    let mut patient = app.chat().await;
    claimed_chat(&mut patient, &mut agent).await;
    for _ in 0..50 {
        patient.send_json(json!({"type": "typing"})).await;
    }
    patient.say("after", "here is my question").await;
    let mut typing = 0;
    loop {
        let event = agent.recv().await;
        match event["type"].as_str() {
            Some("typing") => typing += 1,
            Some("message") => break,
            _ => {}
        }
    }
    assert_eq!(typing, 1);
}

/// An agent's message id as long as ids may be, equal to one the patient
/// used: the agent's message is stored and delivered, not taken for a
/// resend of the patient's.
#[tokio::test]
async fn an_agents_longest_id_never_collides_with_the_patients() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let mut agent = app.console(&cookie).await;
    let mut patient = app.chat().await;
    let (_, conversation) = claimed_chat(&mut patient, &mut agent).await;
    let long_id = "z".repeat(64);
    patient.say(&long_id, "my card was charged twice").await;
    agent.until("message").await;
    agent
        .send_json(json!({"type": "say", "conversation": conversation, "id": long_id, "text": "I see both charges; refunding one now."}))
        .await;
    assert_eq!(agent.until("ack").await["id"], long_id.as_str());
    let heard = patient.until("reply").await;
    assert_eq!(heard["from"], "agent", "{heard}");
    assert!(
        heard["text"].as_str().unwrap().contains("refunding"),
        "{heard}"
    );
}
