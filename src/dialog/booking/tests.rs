//! The booking flow against a calendar double: every step's question, its
//! re-asks, and what reaches the calendar, without a database. The same
//! flows run end to end through the server in tests/api/booking.rs.

use super::double::{BORN, CODE, FakeCalendar};
use super::*;
use crate::appointments::{BookError, LookupError};
use crate::dialog::kinds::Heard;
use crate::dialog::{CHOICE_HANDOFF, Outcome};
use crate::lang::Lang;
use crate::patient::Channel;
use crate::utterance::Utterance;

/// A patient talking to one flow, as the engine would relay it.
struct Chat {
    calendar: FakeCalendar,
    flow: Option<Flow>,
    lang: Lang,
}

impl Chat {
    fn new(calendar: FakeCalendar) -> Chat {
        Chat {
            calendar,
            flow: None,
            lang: Lang::En,
        }
    }

    async fn start(&mut self, intent: Intent, text: &str) -> Outcome {
        let (flow, outcome) = Flow::start(
            &self.calendar,
            self.lang,
            intent,
            &Utterance::analyse(text),
            &Heard::default(),
        )
        .await;
        self.flow = flow;
        outcome
    }

    async fn say(&mut self, text: &str) -> Outcome {
        self.turn(text, None).await
    }

    async fn press(&mut self, value: &str) -> Outcome {
        self.turn(value, Some(value)).await
    }

    async fn turn(&mut self, text: &str, picked: Option<&str>) -> Outcome {
        let flow = self.flow.take().expect("the flow is over");
        let (flow, outcome) = flow
            .answer(
                &self.calendar,
                self.lang,
                &Utterance::analyse(text),
                picked,
                &Heard::default(),
                Requester::default(),
            )
            .await;
        self.flow = flow;
        outcome
    }

    fn at(&self, step: flow::Step) -> bool {
        self.flow.as_ref().is_some_and(|f| f.step == step)
    }
}

fn said(o: &Outcome) -> String {
    o.replies
        .iter()
        .map(|r| r.text.as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn choices(o: &Outcome) -> Vec<String> {
    o.replies
        .last()
        .map(|r| r.details.choices.iter().map(|c| c.value.clone()).collect())
        .unwrap_or_default()
}

fn first_slot(o: &Outcome) -> String {
    choices(o)
        .into_iter()
        .find(|c| c.starts_with("slot:") && c != "slot:later")
        .expect("an open time is offered")
}

/// Books a flu shot (one provider, so no provider question) up to the
/// summary, with `contact` as the way to reach the patient.
async fn up_to_contact(chat: &mut Chat) {
    chat.start(Intent::Book, "I need an appointment").await;
    let o = chat.press("type:flu-shot").await;
    let slot = first_slot(&o);
    let o = chat.press(&slot).await;
    assert!(said(&o).contains("full name"), "{}", said(&o));
    chat.say("Ana Ruiz").await;
    chat.say("03/14/1985").await;
}

#[tokio::test]
async fn a_booking_asks_each_question_and_books_what_was_confirmed() {
    let mut chat = Chat::new(FakeCalendar::new());
    let o = chat
        .start(Intent::Book, "I'd like to make an appointment")
        .await;
    assert!(said(&o).contains("What kind of appointment"));
    assert!(choices(&o).contains(&"type:sick-visit".to_owned()));

    let o = chat.press("type:sick-visit").await;
    assert!(said(&o).contains("particular provider"), "{}", said(&o));
    let o = chat.press("provider:dr-patel").await;
    let offered = choices(&o);
    assert_eq!(offered.len(), SLOTS_SHOWN + 1, "four times and later times");
    assert!(
        offered
            .iter()
            .all(|c| c == "slot:later" || c.contains(".dr-patel."))
    );

    let slot = first_slot(&o);
    chat.press(&slot).await;
    let o = chat.say("12345").await;
    assert!(said(&o).starts_with("Please type the patient's full name."));
    assert!(chat.at(flow::Step::Name));
    chat.say("  Ana Ruiz ").await;

    let o = chat.say("02/30/1985").await;
    assert!(said(&o).contains("That date doesn't exist"));
    let o = chat.say("01/01/2999").await;
    assert!(said(&o).contains("can't be in the future"));
    let o = chat.say("03/14/1985").await;
    assert!(said(&o).contains("phone number or email"));

    let o = chat.say("555").await;
    assert!(said(&o).contains("with area code"));
    let o = chat.say("555-010-1234").await;
    assert!(said(&o).contains("call or text"));
    let o = chat.say("a text please").await;
    let summary = said(&o);
    assert!(
        summary.contains("for Ana Ruiz (born 1985-03-14)"),
        "{summary}"
    );
    assert!(summary.contains("We'll text 555-010-1234"), "{summary}");
    assert!(
        chat.calendar.booked.lock().unwrap().is_empty(),
        "nothing before yes"
    );

    let o = chat.say("yes").await;
    assert!(said(&o).contains("Your confirmation code is NEWCODE1"));
    assert!(chat.flow.is_none());
    let booked = chat.calendar.booked.lock().unwrap();
    let (id, patient) = &booked[0];
    assert_eq!(format!("slot:{id}"), slot);
    assert_eq!(patient.name.as_str(), "Ana Ruiz");
    assert_eq!(patient.dob.to_string(), BORN);
    assert_eq!(patient.contact, Channel::Text);
    assert_eq!(patient.phone.as_ref().unwrap().as_str(), "555-010-1234");
    assert!(patient.email.is_none());
}

#[tokio::test]
async fn an_email_address_needs_no_channel_question() {
    let mut chat = Chat::new(FakeCalendar::new());
    up_to_contact(&mut chat).await;
    let o = chat.say("ana@example.com").await;
    assert!(
        said(&o).contains("We'll email ana@example.com"),
        "{}",
        said(&o)
    );
    chat.press("confirm:yes").await;
    let booked = chat.calendar.booked.lock().unwrap();
    assert_eq!(booked[0].1.contact, Channel::Email);
    assert!(booked[0].1.phone.is_none());
}

#[tokio::test]
async fn a_number_is_called_or_texted_never_emailed() {
    let mut chat = Chat::new(FakeCalendar::new());
    up_to_contact(&mut chat).await;
    chat.say("555-010-1234").await;
    let o = chat.say("by email").await;
    assert!(said(&o).starts_with("Please choose Call or Text."));
    let o = chat.press("channel:phone").await;
    assert!(said(&o).contains("We'll call 555-010-1234"));
}

#[tokio::test]
async fn a_time_taken_meanwhile_offers_the_next_ones() {
    let mut chat = Chat::new(FakeCalendar::new());
    up_to_contact(&mut chat).await;
    chat.say("555-010-1234").await;
    chat.press("channel:phone").await;
    *chat.calendar.refuse.lock().unwrap() = Some(BookError::Taken);
    let o = chat.press("confirm:yes").await;
    assert!(said(&o).contains("that time was just taken"));
    assert!(chat.at(flow::Step::Slot));
    assert!(chat.calendar.booked.lock().unwrap().is_empty());
    // The details are kept: a new time goes straight to the summary.
    let slot = first_slot(&o);
    chat.press(&slot).await;
    let o = chat.say("Ana Ruiz").await;
    assert!(said(&o).contains("date of birth"));
}

#[tokio::test]
async fn the_daily_limit_hands_over_to_a_person() {
    let mut chat = Chat::new(FakeCalendar::new());
    up_to_contact(&mut chat).await;
    chat.say("ana@example.com").await;
    *chat.calendar.refuse.lock().unwrap() = Some(BookError::Limit);
    let o = chat.say("yes").await;
    assert!(said(&o).contains("can't book more appointments from this chat today"));
    assert_eq!(choices(&o), vec![CHOICE_HANDOFF.to_owned()]);
    assert!(chat.flow.is_none());
}

#[tokio::test]
async fn open_times_that_cannot_be_read_end_the_flow_plainly() {
    let mut calendar = FakeCalendar::new();
    calendar.down = true;
    let mut chat = Chat::new(calendar);
    chat.start(Intent::Book, "I need an appointment").await;
    let o = chat.press("type:flu-shot").await;
    assert!(said(&o).contains("can't look up open times right now"));
    assert!(chat.flow.is_none());
}

#[tokio::test]
async fn later_times_continue_after_the_last_one_shown() {
    let mut chat = Chat::new(FakeCalendar::new());
    chat.start(Intent::Book, "I need an appointment").await;
    let first = choices(&chat.press("type:flu-shot").await);
    let later = choices(&chat.press("slot:later").await);
    assert_ne!(first[0], later[0]);
    assert!(later.iter().all(|c| !first[..SLOTS_SHOWN].contains(c)));
}

#[tokio::test]
async fn a_cancellation_needs_the_code_and_the_birth_date() {
    let mut chat = Chat::new(FakeCalendar::new());
    let o = chat.start(Intent::Cancel, "cancel my appointment").await;
    assert!(said(&o).contains("confirmation code"));
    let o = chat.say("abc").await;
    assert!(said(&o).contains("8 letters and numbers"));
    chat.say("k7m3 q9px").await;
    let o = chat.say("14 March 1985").await;
    assert!(said(&o).contains("I found your sick visit"), "{}", said(&o));
    assert!(chat.calendar.cancelled.lock().unwrap().is_empty());
    let o = chat.press("confirm:yes").await;
    assert!(said(&o).contains("Your appointment is cancelled"));
    assert_eq!(*chat.calendar.cancelled.lock().unwrap(), vec![7]);
}

#[tokio::test]
async fn three_wrong_pairs_suggest_a_person() {
    let mut chat = Chat::new(FakeCalendar::new());
    chat.start(Intent::Cancel, "cancel").await;
    for attempt in 1..=MAX_LOOKUP_FAILURES {
        chat.say(CODE).await;
        let o = chat.say("01/01/1990").await;
        if attempt < MAX_LOOKUP_FAILURES {
            assert!(said(&o).contains("couldn't find an appointment"));
            assert!(chat.at(flow::Step::Code));
        } else {
            assert!(said(&o).contains("A person can help"));
            assert_eq!(choices(&o), vec![CHOICE_HANDOFF.to_owned()]);
            assert!(chat.flow.is_none());
        }
    }
}

#[tokio::test]
async fn a_locked_or_unavailable_look_up_says_so() {
    for (refusal, words) in [
        (LookupError::TooManyTries, "too many tries"),
        (
            LookupError::Unavailable,
            "can't look up appointments right now",
        ),
    ] {
        let mut chat = Chat::new(FakeCalendar::new());
        chat.start(Intent::Cancel, "cancel").await;
        chat.say(CODE).await;
        *chat.calendar.lookup.lock().unwrap() = Some(refusal);
        let o = chat.say(BORN).await;
        assert!(said(&o).contains(words), "{}", said(&o));
        assert!(chat.flow.is_none());
    }
}

#[tokio::test]
async fn a_reschedule_moves_the_found_appointment() {
    let mut chat = Chat::new(FakeCalendar::new());
    chat.start(Intent::Reschedule, "move my appointment").await;
    chat.say(CODE).await;
    let o = chat.say(BORN).await;
    assert!(said(&o).starts_with("Found it. When would you like to move it to?"));
    let slot = first_slot(&o);
    assert!(
        slot.starts_with("slot:sick-visit."),
        "the same kind: {slot}"
    );
    let o = chat.press(&slot).await;
    assert!(
        said(&o).starts_with("Move your sick visit on"),
        "{}",
        said(&o)
    );
    chat.say("yes").await;
    let moved = chat.calendar.moved.lock().unwrap();
    assert_eq!(moved[0].0, 7);
    assert_eq!(format!("slot:{}", moved[0].1), slot);
    assert!(chat.calendar.booked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn spanish_questions_in_spanish() {
    let mut chat = Chat::new(FakeCalendar::new());
    chat.lang = Lang::Es;
    let o = chat.start(Intent::Book, "quiero una cita").await;
    assert!(said(&o).contains("¿Qué tipo de cita necesita?"));
    let o = chat.press("type:flu-shot").await;
    let slot = first_slot(&o);
    let o = chat.press(&slot).await;
    assert!(said(&o).contains("nombre completo"));
}
