//! The hub: what each socket hears when the board changes, here and from
//! other nodes, and what goes to the relay. (The rules alone are in
//! `board_tests.rs`.)

use std::sync::Arc;
use std::time::Duration;

use super::*;

fn waiting(reason: Reason) -> Waiting {
    Waiting {
        conversation: ConversationId::generate(),
        reason,
        lang: Lang::En,
        waited: Duration::ZERO,
        preview: None,
    }
}

#[test]
fn exactly_one_of_two_claims_wins() {
    let hub = Hub::new();
    let w = waiting(Reason::PatientRequest);
    hub.enqueue(w.clone());
    let results: Vec<_> = std::thread::scope(|scope| {
        let claims: Vec<_> = [1, 2]
            .map(|id| {
                let hub = hub.clone();
                let c = w.conversation.clone();
                scope.spawn(move || hub.claim(&c, StaffId(id), "agent"))
            })
            .into_iter()
            .collect();
        claims.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.contains(&Err(ClaimError::AlreadyClaimed)));
    assert!(matches!(
        hub.handoff(&w.conversation),
        Handoff::Assigned { .. }
    ));
    assert_eq!(
        hub.claim(&ConversationId::generate(), StaffId(1), "x"),
        Err(ClaimError::NotQueued)
    );
}

#[tokio::test]
async fn waiting_patients_hear_their_position_and_the_agent_who_joins() {
    let hub = Hub::new();
    let first = waiting(Reason::PatientRequest);
    let second = waiting(Reason::PatientRequest);
    let mut link = hub.connect_patient(&second.conversation);
    hub.enqueue(first.clone());
    hub.enqueue(second.clone());
    assert_eq!(
        link.events.recv().await,
        Some(PatientEvent::Queued {
            position: 2,
            estimated_wait_s: None
        })
    );
    hub.claim(&first.conversation, StaffId(1), "Maria").unwrap();
    match link.events.recv().await {
        Some(PatientEvent::Queued {
            position: 1,
            estimated_wait_s: Some(_),
        }) => {}
        other => panic!("expected position 1 with an estimate, got {other:?}"),
    }
    hub.claim(&second.conversation, StaffId(1), "Maria")
        .unwrap();
    assert_eq!(
        link.events.recv().await,
        Some(PatientEvent::AgentJoined {
            name: "Maria".into()
        })
    );
}

#[tokio::test]
async fn agents_see_the_queue_on_connect_and_on_every_change() {
    let hub = Hub::new();
    let mut agent = hub.connect_agent(StaffId(7), "Lee");
    assert_eq!(agent.events.recv().await, Some(AgentEvent::Queue(vec![])));
    assert_eq!(hub.agents_online(), 1);
    let w = waiting(Reason::RepeatedMisses);
    hub.enqueue(w.clone());
    match agent.events.recv().await {
        Some(AgentEvent::Queue(items)) => {
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].reason, Reason::RepeatedMisses);
        }
        other => panic!("expected a queue, got {other:?}"),
    }
    drop(agent);
    assert_eq!(hub.agents_online(), 0);
}

#[tokio::test]
async fn a_reserved_claim_put_back_keeps_its_place_and_tells_the_patient_nothing() {
    let hub = Hub::new();
    let first = waiting(Reason::PatientRequest);
    let second = waiting(Reason::PatientRequest);
    hub.enqueue(first.clone());
    hub.enqueue(second.clone());
    let mut link = hub.connect_patient(&first.conversation);
    let held = hub
        .reserve(&first.conversation, StaffId(1), "Maria")
        .unwrap();
    // Held: nobody else can claim it.
    assert_eq!(
        hub.claim(&first.conversation, StaffId(2), "Lee"),
        Err(ClaimError::AlreadyClaimed)
    );
    hub.put_back(held);
    let order: Vec<_> = hub.queue().into_iter().map(|q| q.conversation).collect();
    assert_eq!(
        order,
        [
            first.conversation.to_string(),
            second.conversation.to_string()
        ]
    );
    // The patient heard positions, never an agent joining.
    while let Ok(event) = link.events.try_recv() {
        assert!(
            !matches!(event, PatientEvent::AgentJoined { .. }),
            "{event:?}"
        );
    }
    // Released while held (the patient left): nothing comes back.
    let held = hub
        .reserve(&first.conversation, StaffId(1), "Maria")
        .unwrap();
    hub.release(&first.conversation, "patient_ended");
    hub.put_back(held);
    assert_eq!(hub.queue().len(), 1);
}

/// A hub wired to a relay, as on PostgreSQL: what it hands on.
fn relayed() -> (Arc<Hub>, tokio::sync::mpsc::Receiver<notice::Notice>) {
    let hub = Hub::new();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    hub.relay_to(tx);
    (hub, rx)
}

fn drained(rx: &mut tokio::sync::mpsc::Receiver<notice::Notice>) -> Vec<notice::Notice> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

#[test]
fn changes_made_here_go_to_the_relay_and_heard_ones_do_not_echo() {
    use notice::Notice;
    let (hub, mut rx) = relayed();
    let w = waiting(Reason::PatientRequest);
    let c = w.conversation.clone();
    hub.enqueue(w.clone());
    hub.claim(&c, StaffId(4), "ana").unwrap();
    hub.release(&c, "resolved");
    assert_eq!(
        drained(&mut rx),
        [
            Notice::Queued {
                conversation: c.clone()
            },
            Notice::Claimed {
                conversation: c.clone(),
                agent: StaffId(4)
            },
            Notice::Released {
                conversation: c.clone(),
                why: "resolved"
            },
        ]
    );
    // The same changes heard from another node go no further.
    hub.heard_queued(w);
    hub.heard_claimed(&c, StaffId(4), "ana".into());
    hub.heard_released(&c, "resolved");
    hub.heard_presence(notice::NodeId::generate(), vec![]);
    // Nor does the end of a chat that was only ever with the bot.
    hub.release(&ConversationId::generate(), "patient_ended");
    assert_eq!(drained(&mut rx), []);
}

#[tokio::test]
async fn a_claim_on_another_node_reaches_the_patient_here() {
    let hub = Hub::new();
    let w = waiting(Reason::PatientRequest);
    let mut link = hub.connect_patient(&w.conversation);
    hub.heard_queued(w.clone());
    assert_eq!(
        link.events.recv().await,
        Some(PatientEvent::Queued {
            position: 1,
            estimated_wait_s: None
        })
    );
    hub.heard_claimed(&w.conversation, StaffId(9), "bea".into());
    assert_eq!(
        link.events.recv().await,
        Some(PatientEvent::AgentJoined { name: "bea".into() })
    );
    assert!(hub.queue().is_empty());
    assert_eq!(hub.assigned_to(&w.conversation), Some(StaffId(9)));
}

#[test]
fn agents_on_other_nodes_count_once_until_their_node_says_otherwise() {
    let hub = Hub::new();
    let (one, two) = (notice::NodeId::generate(), notice::NodeId::generate());
    let _here = hub.connect_agent(StaffId(1), "ana");
    assert_eq!(hub.agents_online(), 1);
    hub.heard_presence(one, vec![(StaffId(2), AgentStatus::Online)]);
    // Ana with a second console on another node is still one agent.
    hub.heard_presence(
        two,
        vec![
            (StaffId(1), AgentStatus::Online),
            (StaffId(3), AgentStatus::Away),
        ],
    );
    assert_eq!(hub.agents_online(), 2);
    assert!(hub.is_online(StaffId(2)));
    assert_eq!(hub.status_of(StaffId(3)), AgentStatus::Away);
    hub.heard_presence(one, vec![]);
    assert_eq!(hub.agents_online(), 1);
    assert!(!hub.is_online(StaffId(2)));
}

#[tokio::test]
async fn a_resync_reloads_the_queue_and_cuts_off_only_chats_with_agents() {
    let hub = Hub::new();
    let (still, claimed) = (
        waiting(Reason::PatientRequest),
        waiting(Reason::LowConfidence),
    );
    hub.enqueue(still.clone());
    hub.enqueue(claimed.clone());
    let mut waits = hub.connect_patient(&still.conversation);
    let mut was_claimed = hub.connect_patient(&claimed.conversation);
    let mut idle_agent = hub.connect_agent(StaffId(1), "ana");
    let mut busy_agent = hub.connect_agent(StaffId(5), "cy");
    // What the database says after the outage: `claimed` went to cy
    // meanwhile, and an urgent chat arrived.
    let urgent = waiting(Reason::Emergency);
    hub.resync(
        vec![urgent.clone(), still.clone()],
        vec![(claimed.conversation.clone(), StaffId(5), "cy".into())],
    );
    let order: Vec<String> = hub.queue().into_iter().map(|i| i.conversation).collect();
    assert_eq!(
        order,
        [urgent.conversation, still.conversation].map(|c| c.to_string())
    );
    assert_eq!(hub.assigned_to(&claimed.conversation), Some(StaffId(5)));
    // The chat with an agent and that agent's console are cut off (their
    // clients reconnect and load what they missed)...
    while was_claimed.events.recv().await.is_some() {}
    while busy_agent.events.recv().await.is_some() {}
    // ...the waiting patient hears its new place and the idle agent the
    // new queue, on the sockets they have.
    let mut last = None;
    while let Ok(e) = waits.events.try_recv() {
        last = Some(e);
    }
    assert_eq!(
        last,
        Some(PatientEvent::Queued {
            position: 2,
            estimated_wait_s: None
        })
    );
    let mut last = None;
    while let Ok(e) = idle_agent.events.try_recv() {
        last = Some(e);
    }
    assert!(
        matches!(&last, Some(AgentEvent::Queue(items)) if items.len() == 2),
        "{last:?}"
    );
}
