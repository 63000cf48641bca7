//! Two servers on one PostgreSQL database, a patient on one and agents on
//! the other: the queue, claims, messages, typing and presence cross
//! between them through the database (`LISTEN`/`NOTIFY`). SQLite is one
//! node's database, so these run on PostgreSQL only.

use std::time::Duration;

use serde_json::{Value, json};

use super::helpers::{TestApp, ask_for_person, claim_race, only_on_postgres, spawn_app};

/// Waits until `node` lists `agent` as online: the other node's console
/// has been heard of here.
async fn until_online_on(node: &TestApp, admin: &str, agent: &str) {
    for _ in 0..100 {
        let agents: Vec<Value> = node
            .get_as(admin, "/api/agents")
            .await
            .json()
            .await
            .unwrap();
        if agents
            .iter()
            .any(|a| a["name"] == agent && a["online"] == true)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{agent} never showed as online on the other node");
}

#[tokio::test]
async fn a_patient_on_one_node_and_an_agent_on_the_other_talk() {
    if !only_on_postgres("one SQLite file has one node; there is nothing to relay") {
        return;
    }
    let one = spawn_app().await;
    let two = one.second_node().await;
    let admin = one.login_admin().await;
    let mut agent = two.console(&one.staff("nadia", "agent").await).await;
    assert!(agent.queue_of(0).await.is_empty());
    // Presence is cluster-wide: the first node counts the agent on the
    // second, so the patient is queued rather than offered a callback.
    until_online_on(&one, &admin, "nadia").await;

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
    let agent = two.console(&one.staff("omar", "agent").await).await;
    until_online_on(&one, &admin, "omar").await;
    drop(agent);
    two.stop().await;
    // Nobody is online anywhere: the first node stops counting omar.
    let mut gone = false;
    for _ in 0..100 {
        let agents: Vec<Value> = one
            .get_as(&admin, "/api/agents")
            .await
            .json()
            .await
            .unwrap();
        if agents.iter().all(|a| a["online"] == false) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the stopped node's agent still counts as online");
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
