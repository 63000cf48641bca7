//! Safety first: a message that may mean danger gets guidance at once,
//! whatever the chat was doing, and goes to the top of the queue.

use serde_json::{Value, json};

use super::helpers::spawn_app;

#[tokio::test]
async fn an_emergency_gets_911_guidance_at_once_and_no_faq_answer() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    chat.say("e1", "my dad has chest pian and is sweating")
        .await;
    let reply = chat.expect("reply").await;
    assert_eq!(reply["from"], "system");
    assert!(reply["text"].as_str().unwrap().contains("911"), "{reply}");
    assert!(reply.get("article").is_none());
    // Nothing else follows: the next frame is the next message's ack.
    assert_eq!(chat.say("e2", "ok").await, 4);
}

#[tokio::test]
async fn a_crisis_gets_the_crisis_line_in_the_patients_language() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.send_json(json!({"type": "start", "lang": "es"})).await;
    chat.expect("started").await;
    chat.say("c1", "ya no quiero vivir").await;
    let reply = chat.expect("reply").await;
    assert!(reply["text"].as_str().unwrap().contains("988"), "{reply}");
    assert!(reply["text"].as_str().unwrap().contains("Llame"), "{reply}");
}

#[tokio::test]
async fn an_emergency_jumps_the_queue_flagged_urgent() {
    let app = spawn_app().await;
    let mut agent = app.console(&app.staff("maria", "agent").await).await;
    let mut first = app.chat().await;
    first.start().await;
    first.say("a", "I want to talk to a person").await;
    first.until("queued").await;
    agent.queue_of(1).await;

    let mut urgent = app.chat().await;
    urgent.start().await;
    urgent.say("b", "I can't breathe").await;
    assert!(
        urgent.expect("reply").await["text"]
            .as_str()
            .unwrap()
            .contains("911")
    );
    assert!(
        urgent.expect("reply").await["text"]
            .as_str()
            .unwrap()
            .contains("urgent")
    );
    assert_eq!(urgent.until("queued").await["position"], 1);
    let items = agent.queue_of(2).await;
    assert_eq!(items[0]["reason"], "emergency");
    assert_eq!(items[0]["priority"], "urgent");
    assert_eq!(items[1]["reason"], "patient_request");
    assert_eq!(first.until("queued").await["position"], 2);
}

#[tokio::test]
async fn an_emergency_mid_booking_is_handled_and_the_flow_goes_on() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    chat.start().await;
    chat.say("b1", "I need an appointment").await;
    chat.expect("reply").await;
    chat.say("b2", "my throat is closing up").await;
    assert!(
        chat.expect("reply").await["text"]
            .as_str()
            .unwrap()
            .contains("911")
    );
    chat.send_json(
        json!({"type": "say", "id": "b3", "text": "Sick visit", "choice": "type:sick-visit"}),
    )
    .await;
    chat.expect("ack").await;
    let next = chat.expect("reply").await;
    assert_eq!(
        next["choices"][0]["value"], "provider:any",
        "the booking flow resumed: {next}"
    );
}

#[tokio::test]
async fn the_agent_holding_the_chat_is_alerted() {
    let app = spawn_app().await;
    let mut agent = app.console(&app.staff("lee", "agent").await).await;
    let mut patient = app.chat().await;
    patient.start().await;
    patient.say("p1", "can I talk to someone please").await;
    let conversation = agent.only_waiting().await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent.until("claimed").await;
    patient.until("agent_joined").await;
    patient
        .say("p2", "i think im having a stroke, my face is drooping")
        .await;
    assert!(
        patient.until("reply").await["text"]
            .as_str()
            .unwrap()
            .contains("911")
    );
    let alert = agent.until("alert").await;
    assert_eq!(alert["conversation"], conversation.as_str());
    assert_eq!(alert["category"], "stroke");
}

#[tokio::test]
async fn the_answer_command_reports_emergencies() {
    let app = spawn_app().await;
    let out = app
        .cli(
            &["answer"],
            "I took too many pills\nDo you offer payment plans?\n",
        )
        .await;
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["decision"], "emergency");
    assert_eq!(lines[0]["category"], "overdose_poisoning");
    assert_eq!(lines[1]["decision"], "answer");
}
