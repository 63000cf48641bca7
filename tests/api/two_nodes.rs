//! Two servers on one PostgreSQL database, a patient on one and agents on
//! the other: the queue, claims, messages, typing and presence cross
//! between them through the database (`LISTEN`/`NOTIFY`). SQLite is one
//! node's database, so these run on PostgreSQL only.

use serde_json::json;

use frontdesk::queue::PRESENCE_TTL;

use super::helpers::{
    Chat, EVENT_TIMEOUT, ServerProcess, Ws, ask_for_person, claim_race, only_on_postgres, run_cli,
    sign_in, spawn_app, until_listed,
};

#[tokio::test]
async fn a_patient_on_one_node_and_an_agent_on_the_other_talk() {
    if !only_on_postgres("one SQLite file has one node; there is nothing to relay") {
        return;
    }
    let one = spawn_app().await;
    let two = one.second_node().await;
    // The same articles on both: /health shows the same digest.
    let digests: Vec<serde_json::Value> =
        health_digests(&[one.url("/health"), two.url("/health")]).await;
    assert_eq!(digests[0], digests[1]);
    assert!(digests[0].is_string(), "{digests:?}");
    let admin = one.login_admin().await;
    let mut agent = two.console(&one.staff("nadia", "agent").await).await;
    assert!(agent.queue_of(0).await.is_empty());
    // Presence is cluster-wide: the first node counts the agent on the
    // second, so the patient is queued rather than offered a callback.
    until_listed(one.addr, &admin, "nadia", true, EVENT_TIMEOUT).await;

    let mut patient = one.chat().await;
    ask_for_person(&mut patient).await;
    assert_eq!(patient.expect("queued").await["position"], 1);
    let items = agent.queue_of(1).await;
    assert_eq!(items[0]["reason"], "patient_request");
    assert_eq!(items[0]["preview"], "I want to talk to a real person");
    let conversation = items[0]["conversation"].as_str().unwrap().to_owned();

    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent.until("claimed").await;
    assert_eq!(patient.until("agent_joined").await["name"], "nadia");

    agent
        .send_json(json!({"type": "say", "conversation": conversation, "id": "a1", "text": "Hello, this is Nadia."}))
        .await;
    let ack = agent.until("ack").await;
    let reply = patient.until("reply").await;
    assert_eq!(
        (&reply["from"], &reply["text"], &reply["seq"]),
        (
            &json!("agent"),
            &json!("Hello, this is Nadia."),
            &ack["seq"]
        )
    );

    patient
        .say("p2", "My prescription refill was not sent")
        .await;
    let message = agent.until("message").await;
    assert_eq!(message["conversation"], conversation.as_str());
    assert_eq!(message["text"], "My prescription refill was not sent");

    patient.send_json(json!({"type": "typing"})).await;
    assert_eq!(agent.until("typing").await["from"], "patient");
    agent
        .send_json(json!({"type": "typing", "conversation": conversation}))
        .await;
    assert_eq!(patient.until("typing").await["from"], "agent");

    // A safety rule fires in the chat on the first node: the patient gets
    // the guidance there, and the agent on the second node the alert.
    patient
        .say("p3", "i think im having a stroke, my face is drooping")
        .await;
    assert!(
        patient.until("reply").await["text"]
            .as_str()
            .unwrap()
            .contains("911")
    );
    let alert = agent.until("alert").await;
    assert_eq!(
        (&alert["conversation"], &alert["category"]),
        (&json!(conversation), &json!("stroke"))
    );

    // Resolved on the second node: the patient on the first is back with
    // the bot.
    agent
        .send_json(json!({"type": "resolve", "conversation": conversation}))
        .await;
    patient.until("agent_left").await;
}

#[tokio::test]
async fn two_agents_on_two_nodes_race_and_exactly_one_wins() {
    if !only_on_postgres("one SQLite file has one node; there is nothing to relay") {
        return;
    }
    let one = spawn_app().await;
    let two = one.second_node().await;
    let mut a = one.console(&one.staff("amir", "agent").await).await;
    let mut b = two.console(&one.staff("bea", "agent").await).await;
    let mut patient = two.chat().await;
    ask_for_person(&mut patient).await;
    let conversation = a.only_waiting().await;
    b.queue_of(1).await;
    let winner = claim_race(&mut a, &mut b, &conversation).await;
    // Both queues are empty again, and the patient hears of the winner.
    a.queue_of(0).await;
    b.queue_of(0).await;
    let joined = patient.until("agent_joined").await;
    assert_eq!(joined["name"], ["amir", "bea"][winner]);
}

#[tokio::test]
async fn a_node_that_stops_takes_its_agents_presence_with_it() {
    if !only_on_postgres("one SQLite file has one node; there is nothing to relay") {
        return;
    }
    let one = spawn_app().await;
    let mut two = one.second_node().await;
    let admin = one.login_admin().await;
    let _console = two.console(&one.staff("omar", "agent").await).await;
    until_listed(one.addr, &admin, "omar", true, EVENT_TIMEOUT).await;
    // Stopped with omar's console still open.
    two.stop().await;
    // The stopped node said so on its way out: omar is offline at once,
    // not after the heartbeat's expiry.
    until_listed(one.addr, &admin, "omar", false, EVENT_TIMEOUT).await;
    // So a patient who asks for a person is offered a callback, not an
    // endless queue.
    let mut patient = one.chat().await;
    patient.start().await;
    patient.send_json(json!({"type": "handoff"})).await;
    let offer = patient.expect("reply").await;
    assert!(
        offer["text"].as_str().unwrap().contains("callback"),
        "{offer}"
    );
}

/// An agent account made with the real command line; returns its cookie.
async fn agent(dir: &std::path::Path, node: &ServerProcess, name: &str) -> String {
    let password = format!("{name}-long-password");
    let out = run_cli(
        dir,
        &["agent", "add", name, "--role", "agent"],
        &format!("{password}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sign_in(node.addr, name, &password).await
}

/// kill -9 of the node that holds both the patient and the agent, mid-chat:
/// both reconnect to the other node (resume token, session cookie), nothing
/// acknowledged is lost, the agent keeps the chat; the dead node's agents
/// stop counting as online there within seconds; and the audit log both
/// wrote to verifies.
#[tokio::test]
async fn when_a_node_is_killed_the_chat_carries_on_on_the_other() {
    if !only_on_postgres("one SQLite file has one node; there is nothing to fail over to") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut a = ServerProcess::start(dir.path(), &[]);
    let printed = a.wait_for_line(|l| l.contains("created the console account"));
    let admin_password = printed[1].trim().to_owned();
    let b = ServerProcess::start(dir.path(), &[]);
    let kim = agent(dir.path(), &a, "kim").await;
    let lou = agent(dir.path(), &a, "lou").await;
    let admin_on_b = sign_in(b.addr, "admin", &admin_password).await;

    let mut agent_on_a = Ws::console(a.addr, &kim).await.unwrap();
    let _lou_on_a = Ws::console(a.addr, &lou).await.unwrap();
    // Kim's second console, on b, shows when b has heard of the claim.
    let mut watch_on_b = Ws::console(b.addr, &kim).await.unwrap();
    let mut patient = Chat::connect(a.addr, None).await.unwrap();
    let token = ask_for_person(&mut patient).await;
    let conversation = agent_on_a.only_waiting().await;
    watch_on_b.queue_of(1).await;
    agent_on_a
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent_on_a.until("claimed").await;
    patient.until("agent_joined").await;
    patient.say("p2", "I was double billed in March").await;
    agent_on_a
        .send_json(json!({"type": "say", "conversation": conversation, "id": "a1", "text": "Let me look at that."}))
        .await;
    agent_on_a.until("ack").await;
    watch_on_b.queue_of(0).await;

    a.kill_hard();

    // The patient resumes on b and finds every acknowledged message.
    let mut patient = Chat::connect(b.addr, None).await.unwrap();
    let started = patient.resume(&token).await;
    let texts: Vec<&str> = started["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"I was double billed in March"), "{texts:?}");
    assert!(texts.contains(&"Let me look at that."), "{texts:?}");
    assert_eq!(patient.expect("agent_joined").await["name"], "kim");

    // Kim's console reconnects to b with the same cookie and still holds
    // the chat; the queue is as it was (empty).
    let mut agent_on_b = Ws::console(b.addr, &kim).await.unwrap();
    let claimed = agent_on_b.until("claimed").await;
    assert_eq!(claimed["conversation"], conversation.as_str());
    assert!(agent_on_b.queue_of(0).await.is_empty());
    patient.say("p3", "Are you still there?").await;
    assert_eq!(
        agent_on_b.until("message").await["text"],
        "Are you still there?"
    );
    agent_on_b
        .send_json(json!({"type": "say", "conversation": conversation, "id": "a2", "text": "Yes, still here."}))
        .await;
    assert_eq!(patient.until("reply").await["text"], "Yes, still here.");

    // Lou's console died with a: b stops counting lou once a's heartbeat
    // is overdue.
    until_listed(b.addr, &admin_on_b, "lou", false, PRESENCE_TTL * 3).await;

    // Both nodes wrote to the audit log (claims, transcript views): one
    // valid chain.
    let verified = run_cli(dir.path(), &["audit", "verify"], "");
    assert!(
        verified.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
}

/// The knowledge digest each `/health` URL reports.
async fn health_digests(urls: &[String]) -> Vec<serde_json::Value> {
    let mut digests = Vec::new();
    for url in urls {
        let health: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        digests.push(health["knowledge"]["digest"].clone());
    }
    digests
}
