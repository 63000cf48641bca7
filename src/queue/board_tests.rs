//! The board's rules on their own: no sockets, no lock, no runtime.

use std::time::{Duration, Instant};

use super::*;
use crate::queue::notice::NodeId;

fn waiting(reason: Reason, waited_s: u64) -> Waiting {
    Waiting {
        conversation: ConversationId::generate(),
        reason,
        lang: Lang::En,
        waited: Duration::from_secs(waited_s),
        preview: None,
    }
}

fn order(board: &Board) -> Vec<String> {
    board
        .queue_items()
        .into_iter()
        .map(|i| i.conversation)
        .collect()
}

#[test]
fn urgent_first_then_who_waited_longest() {
    let mut board = Board::default();
    let now = Instant::now();
    let late = waiting(Reason::PatientRequest, 10);
    let early = waiting(Reason::LowConfidence, 60);
    let urgent = waiting(Reason::Emergency, 0);
    assert_eq!(board.enqueue(late.clone(), now), 1);
    assert_eq!(
        board.enqueue(early.clone(), now),
        1,
        "restored with a longer wait"
    );
    assert_eq!(board.enqueue(urgent.clone(), now), 1);
    assert_eq!(
        order(&board),
        [urgent, early, late].map(|w| w.conversation.to_string())
    );
}

#[test]
fn a_claim_holds_the_chat_until_confirmed_put_back_or_forgotten() {
    let mut board = Board::default();
    let now = Instant::now();
    let (a, b) = (
        waiting(Reason::PatientRequest, 0),
        waiting(Reason::PatientRequest, 0),
    );
    board.enqueue(a.clone(), now);
    board.enqueue(b.clone(), now);
    let held = board.reserve(&a.conversation, StaffId(1), "ana").unwrap();
    assert_eq!(
        board.reserve(&a.conversation, StaffId(2), "ben").err(),
        Some(ClaimError::AlreadyClaimed)
    );
    assert_eq!(board.assigned_to(&a.conversation), Some(StaffId(1)));
    // Put back: first in line again, nobody holds it.
    assert!(board.put_back(held));
    assert_eq!(order(&board)[0], a.conversation.to_string());
    assert_eq!(board.assigned_to(&a.conversation), None);
    // Forgotten (someone else won in the database): gone from the queue
    // and from this board's holders.
    let held = board.reserve(&a.conversation, StaffId(1), "ana").unwrap();
    assert!(board.forget(&held));
    assert_eq!(board.handoff(&a.conversation), Handoff::Bot);
    assert_eq!(
        board
            .reserve(&ConversationId::generate(), StaffId(1), "ana")
            .err(),
        Some(ClaimError::NotQueued)
    );
}

#[test]
fn transfer_and_release_say_what_they_changed() {
    let mut board = Board::default();
    let w = waiting(Reason::PatientRequest, 0);
    board.enqueue(w.clone(), Instant::now());
    let released = board.release(&w.conversation);
    assert!(released.dequeued && released.agent.is_none());
    board.assign(&w.conversation, StaffId(3), "cy".into());
    assert_eq!(
        board.transfer(&w.conversation, StaffId(4), "di"),
        Some(StaffId(3))
    );
    assert_eq!(
        board.held_by(StaffId(4)),
        std::slice::from_ref(&w.conversation)
    );
    let released = board.release(&w.conversation);
    assert!(!released.dequeued && released.agent == Some(StaffId(4)));
    let nothing = board.release(&w.conversation);
    assert!(!nothing.dequeued && nothing.agent.is_none());
    assert_eq!(board.transfer(&w.conversation, StaffId(4), "di"), None);
}

#[test]
fn presence_counts_consoles_here_and_fresh_word_from_other_nodes() {
    let mut board = Board::default();
    board.console_opened(StaffId(1), "ana");
    board.console_opened(StaffId(1), "ana");
    board.console_closed(StaffId(1));
    assert_eq!(board.online(), 1, "one console of two still open");
    board.set_status(StaffId(1), AgentStatus::Away);
    assert_eq!(board.online(), 0);
    assert_eq!(board.presence(), [(StaffId(1), AgentStatus::Away)]);
    board.console_closed(StaffId(1));
    assert_eq!(board.status_of(StaffId(1)), AgentStatus::Offline);
    // The chosen status outlives a reconnect.
    board.console_opened(StaffId(1), "ana");
    assert_eq!(board.status_of(StaffId(1)), AgentStatus::Away);

    board.heard_presence(NodeId::generate(), vec![(StaffId(2), AgentStatus::Online)]);
    assert!(board.is_online(StaffId(2)));
    assert_eq!(board.online(), 1);
    board.expire_presence();
    assert_eq!(board.online(), 1, "heard just now: still fresh");
}

#[test]
fn estimates_follow_the_place_and_the_agents_online() {
    let mut board = Board::default();
    let now = Instant::now();
    // Two claims that waited a minute teach the estimate.
    for _ in 0..2 {
        let w = waiting(Reason::PatientRequest, 60);
        board.enqueue(w.clone(), now);
        let held = board.reserve(&w.conversation, StaffId(1), "ana").unwrap();
        board.confirm(&held);
        board.release(&w.conversation);
    }
    let (first, second) = (
        waiting(Reason::PatientRequest, 0),
        waiting(Reason::PatientRequest, 0),
    );
    board.enqueue(first, now);
    board.enqueue(second, now);
    board.console_opened(StaffId(1), "ana");
    let places: Vec<_> = board.places().map(|(_, p, e)| (p, e)).collect();
    assert_eq!(places.len(), 2);
    assert_eq!((places[0].0, places[1].0), (1, 2));
    let (one, two) = (places[0].1.unwrap(), places[1].1.unwrap());
    assert!(two > one, "further back waits longer: {one} vs {two}");
}

#[test]
fn replacing_from_the_database_names_what_may_have_missed_a_message() {
    let mut board = Board::default();
    let now = Instant::now();
    let (before, after, waits) = (
        ConversationId::generate(),
        ConversationId::generate(),
        waiting(Reason::PatientRequest, 5),
    );
    board.assign(&before, StaffId(1), "ana".into());
    let replaced = board.replace(
        vec![waits.clone()],
        vec![(after.clone(), StaffId(2), "ben".into())],
        now,
    );
    assert_eq!(
        replaced.chats,
        [before.clone(), after.clone()].into_iter().collect()
    );
    assert_eq!(
        replaced.agents,
        [StaffId(1), StaffId(2)].into_iter().collect()
    );
    assert_eq!(board.assigned_to(&before), None);
    assert_eq!(board.assigned_to(&after), Some(StaffId(2)));
    assert_eq!(order(&board), [waits.conversation.to_string()]);
}
