//! The engine around a flow, with the bundled articles and a calendar
//! double: a side question mid-booking, stopping, asking for a person, and
//! which turns may write.

use std::path::Path;
use std::sync::Arc;

use super::booking::double::{CODE, FakeCalendar};
use super::contact::double::FakeContacts;
use super::*;
use crate::knowledge::DecisionSettings;

fn engine() -> (Engine, Arc<FakeCalendar>) {
    let (engine, calendar, _) = engine_with(FakeContacts::default());
    (engine, calendar)
}

/// The engine with the bundled articles, a calendar double and `contacts`.
pub(super) fn engine_with(
    contacts: FakeContacts,
) -> (Engine, Arc<FakeCalendar>, Arc<FakeContacts>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let settings = DecisionSettings {
        answer_threshold: None,
        clarify_threshold: None,
        choice_gap: 0.3,
        max_choices: 3,
    };
    let knowledge = Knowledge::open_blocking(dir.clone(), settings).unwrap();
    let safety = SafetyHandle::new(crate::safety::Rules::load(&dir).unwrap());
    let calendar = Arc::new(FakeCalendar::new());
    let contacts = Arc::new(contacts);
    let engine = Engine::new(
        knowledge,
        calendar.clone(),
        contacts.clone(),
        safety,
        crate::semantic::Embedder::missing("not in unit tests"),
    );
    (engine, calendar, contacts)
}

pub(super) async fn turn(
    engine: &Engine,
    state: &mut DialogState,
    text: &str,
    choice: Option<&str>,
) -> Outcome {
    let said = Utterance::analyse(text);
    engine
        .respond(
            state,
            Turn {
                said: &said,
                choice,
            },
        )
        .await
}

pub(super) fn texts(o: &Outcome) -> Vec<&str> {
    o.replies.iter().map(|r| r.text.as_str()).collect()
}

#[tokio::test]
async fn a_side_question_is_answered_and_the_booking_goes_on() {
    let (engine, _) = engine();
    let mut state = DialogState::new(Lang::En);
    let o = turn(&engine, &mut state, "I'd like to book an appointment", None).await;
    assert!(texts(&o)[0].contains("What kind of appointment"));

    let o = turn(&engine, &mut state, "What are your hours?", None).await;
    let said = texts(&o);
    assert!(said.len() >= 3, "{said:?}");
    assert!(said.contains(&"Now, back to your appointment:"), "{said:?}");
    assert!(said.last().unwrap().contains("What kind of appointment"));
    // Still in the flow: a kind picked now goes on to the open times.
    let o = turn(&engine, &mut state, "flu shot", Some("type:flu-shot")).await;
    assert!(
        o.replies[0]
            .details
            .choices
            .iter()
            .any(|c| c.value.starts_with("slot:"))
    );
}

#[tokio::test]
async fn stopping_a_booking_changes_nothing() {
    let (engine, calendar) = engine();
    let mut state = DialogState::new(Lang::En);
    turn(&engine, &mut state, "I need to book an appointment", None).await;
    turn(&engine, &mut state, "flu shot", Some("type:flu-shot")).await;
    let o = turn(&engine, &mut state, "never mind", None).await;
    assert!(texts(&o)[0].contains("Nothing was booked or changed"));
    assert!(calendar.booked.lock().unwrap().is_empty());
    // The next message is a question again, not an answer to the flow.
    let o = turn(&engine, &mut state, "What are your hours?", None).await;
    assert!(!texts(&o).contains(&"Now, back to your appointment:"));
}

#[tokio::test]
async fn a_person_asked_for_mid_booking_is_booking_help() {
    let (engine, _) = engine();
    let mut state = DialogState::new(Lang::En);
    turn(&engine, &mut state, "can I book an appointment", None).await;
    let o = turn(
        &engine,
        &mut state,
        "Talk to a person",
        Some(CHOICE_HANDOFF),
    )
    .await;
    assert_eq!(o.action, Some(Action::Escalate(Reason::BookingHelp)));
}

#[tokio::test]
async fn only_the_confirming_turns_may_write() {
    let (engine, _) = engine();
    let mut state = DialogState::new(Lang::En);
    let answer = Utterance::analyse("1985-03-14");
    assert!(!state.turn_may_write(&answer));
    turn(&engine, &mut state, "I want to cancel my appointment", None).await;
    assert!(
        !state.turn_may_write(&answer),
        "asking for the code reads nothing"
    );
    turn(&engine, &mut state, CODE, None).await;
    assert!(
        state.turn_may_write(&answer),
        "the birth date is checked against the store"
    );
    // Asking to be reached another way is remembered: a write.
    let fresh = DialogState::new(Lang::En);
    assert!(fresh.turn_may_write(&Utterance::analyse("text me instead")));
    assert!(!fresh.turn_may_write(&Utterance::analyse("what are your hours")));
}
