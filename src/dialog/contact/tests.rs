//! The engine with a remembered contact (an in-memory contact book): a
//! flow offers it instead of asking, a signed-in patient is not asked, a
//! contact given is remembered, and "text me instead" or "mándame un
//! correo" changes it, in English and Spanish.

use super::double::FakeContacts;
use super::*;
use crate::dialog::tests::{engine_with, texts, turn};
use crate::dialog::{Action, Unavailable};
use crate::ids::ConversationId;
use crate::patient::PhoneNumber;

fn texted(number: &str, signed_in: bool) -> FakeContacts {
    let phone = PhoneNumber::parse(number).unwrap();
    let preference = Preference::new(Channel::Text, Contact::Phone(phone)).unwrap();
    FakeContacts {
        remembered: std::sync::Mutex::new(Some(Recalled {
            preference,
            signed_in,
        })),
        ..FakeContacts::default()
    }
}

fn chat(lang: Lang) -> DialogState {
    DialogState::for_conversation(lang, &ConversationId::generate())
}

fn saved(contacts: &FakeContacts) -> Vec<(Channel, String)> {
    let saved = contacts.saved.lock().unwrap();
    saved
        .iter()
        .map(|p| (p.channel(), p.contact().as_str().to_owned()))
        .collect()
}

/// The offline path up to the answer after the name.
async fn callback_to_name(engine: &Engine, state: &mut DialogState) -> Outcome {
    engine.offline(state, Unavailable::NoAgents);
    turn(engine, state, "Yes, call me back", Some("callback:yes")).await;
    turn(engine, state, "Ana Ruiz", None).await
}

#[tokio::test]
async fn a_callback_offers_the_remembered_contact_and_remembers_the_one_sent() {
    let (engine, _, contacts) = engine_with(texted("555-010-4477", false));
    let mut state = chat(Lang::En);
    let o = callback_to_name(&engine, &mut state).await;
    assert_eq!(
        texts(&o),
        ["Shall we text you at the number ending 4477, as last time?"]
    );
    turn(&engine, &mut state, "Yes", Some(CHOICE_SAME)).await;
    turn(&engine, &mut state, "Any time", Some("window:any")).await;
    assert!(saved(&contacts).is_empty(), "nothing before it is sent");
    let o = turn(&engine, &mut state, "Yes, send it", Some("confirm:yes")).await;
    assert!(matches!(o.action, Some(Action::SaveCallback(_))));
    assert_eq!(saved(&contacts), [(Channel::Text, "555-010-4477".into())]);
}

#[tokio::test]
async fn a_contact_given_the_first_time_is_remembered() {
    let (engine, _, contacts) = engine_with(FakeContacts::default());
    let mut state = chat(Lang::En);
    let o = callback_to_name(&engine, &mut state).await;
    assert!(texts(&o)[0].contains("How should we contact you?"));
    turn(&engine, &mut state, "email me at ana@example.org", None).await;
    turn(&engine, &mut state, "Any time", Some("window:any")).await;
    turn(&engine, &mut state, "yes", None).await;
    assert_eq!(
        saved(&contacts),
        [(Channel::Email, "ana@example.org".into())]
    );
    // The next flow offers it.
    let mut next = chat(Lang::En);
    let o = callback_to_name(&engine, &mut next).await;
    assert_eq!(
        texts(&o),
        ["Shall we email you at a…@example.org, as last time?"]
    );
}

#[tokio::test]
async fn text_me_instead_changes_what_the_next_flow_uses() {
    let (engine, _, contacts) = engine_with(texted("555-010-4477", false));
    let mut state = chat(Lang::En);
    let o = turn(&engine, &mut state, "call me instead", None).await;
    assert_eq!(
        texts(&o),
        ["Done: from now on we'll call you at the number ending 4477."]
    );
    let o = turn(&engine, &mut state, "call me instead", None).await;
    assert!(texts(&o)[0].starts_with("That's how we reach you already"));
    // E-mail needs an address: asked for, then kept.
    let o = turn(&engine, &mut state, "Can you email me instead?", None).await;
    assert_eq!(texts(&o), ["Sure. What email address should we use?"]);
    let o = turn(&engine, &mut state, "ana@example", None).await;
    assert!(texts(&o)[0].starts_with("That doesn't look like an email address"));
    let o = turn(&engine, &mut state, "ana@example.org", None).await;
    assert_eq!(
        texts(&o),
        ["Done: from now on we'll email you at a…@example.org."]
    );
    assert_eq!(
        saved(&contacts),
        [
            (Channel::Phone, "555-010-4477".into()),
            (Channel::Email, "ana@example.org".into())
        ]
    );
    let o = callback_to_name(&engine, &mut chat(Lang::En)).await;
    assert!(texts(&o)[0].starts_with("Shall we email you"), "{o:?}");
}

#[tokio::test]
async fn spanish_words_change_it_too() {
    let (engine, _, contacts) = engine_with(texted("555-010-4477", false));
    let mut state = chat(Lang::Es);
    let o = turn(&engine, &mut state, "llámame", None).await;
    assert_eq!(
        texts(&o),
        ["Listo: desde ahora vamos a llamarle al número que termina en 4477."]
    );
    let o = turn(&engine, &mut state, "mándame un correo", None).await;
    assert_eq!(
        texts(&o),
        ["Claro. ¿A qué correo electrónico le escribimos?"]
    );
    let o = turn(&engine, &mut state, "ana@example.org", None).await;
    assert_eq!(
        texts(&o),
        ["Listo: desde ahora vamos a escribirle a a…@example.org."]
    );
    let o = turn(&engine, &mut state, "mándame un mensaje", None).await;
    assert!(texts(&o)[0].starts_with("Claro. ¿A qué número"), "{o:?}");
    let o = turn(&engine, &mut state, "olvídelo", None).await;
    assert_eq!(texts(&o), ["De acuerdo, lo dejé como estaba."]);
    assert_eq!(saved(&contacts).len(), 2);
}

/// A booking up to the answer after the date of birth.
async fn booking_to_birth_date(engine: &Engine, state: &mut DialogState) -> Outcome {
    turn(engine, state, "I need an appointment", None).await;
    let o = turn(engine, state, "flu shot", Some("type:flu-shot")).await;
    let slot = o.replies[0]
        .details
        .choices
        .iter()
        .find(|c| c.value.starts_with("slot:") && c.value != "slot:later")
        .map(|c| c.value.clone())
        .unwrap();
    turn(engine, state, "that one", Some(&slot)).await;
    turn(engine, state, "Ana Ruiz", None).await;
    turn(engine, state, "03/14/1985", None).await
}

#[tokio::test]
async fn a_booking_offers_the_remembered_contact_and_a_signed_in_patient_only_confirms() {
    let (engine, calendar, contacts) = engine_with(texted("555-010-4477", false));
    let mut state = chat(Lang::En);
    let o = booking_to_birth_date(&engine, &mut state).await;
    assert_eq!(
        texts(&o),
        ["Shall we text you at the number ending 4477, as last time?"]
    );
    let o = turn(&engine, &mut state, "yes", None).await;
    assert!(
        texts(&o)[0].contains("We'll text the number ending 4477 if anything changes"),
        "{o:?}"
    );
    turn(&engine, &mut state, "yes", None).await;
    let booked = calendar.booked.lock().unwrap().pop().unwrap().1;
    assert_eq!(booked.contact, Channel::Text);
    assert_eq!(booked.phone.unwrap().as_str(), "555-010-4477");
    assert_eq!(saved(&contacts), [(Channel::Text, "555-010-4477".into())]);

    let (engine, calendar, _) = engine_with(texted("555-010-4477", true));
    let mut state = chat(Lang::En);
    let o = booking_to_birth_date(&engine, &mut state).await;
    let said = texts(&o);
    assert!(said[0].starts_with("We'll text you at the number ending 4477, as last time."));
    assert!(said[1].contains("Book it?"), "{said:?}");
    // "Call me instead" at the summary: the same number, called.
    let o = turn(&engine, &mut state, "call me instead", None).await;
    assert!(
        texts(&o)[0].contains("We'll call the number ending 4477"),
        "{o:?}"
    );
    turn(&engine, &mut state, "Yes, book it", Some("confirm:yes")).await;
    let booked = calendar.booked.lock().unwrap().pop().unwrap().1;
    assert_eq!(booked.contact, Channel::Phone);
}

#[tokio::test]
async fn when_nothing_can_be_remembered_the_flows_ask_as_before() {
    let contacts = FakeContacts {
        down: true,
        ..texted("555-010-4477", true)
    };
    let (engine, _, _) = engine_with(contacts);
    let mut state = chat(Lang::En);
    let o = callback_to_name(&engine, &mut state).await;
    assert!(texts(&o)[0].contains("How should we contact you?"));
    let o = turn(&engine, &mut chat(Lang::En), "text me instead", None).await;
    assert_eq!(texts(&o), ["Sure. What number should we text?"]);
    let mut state = chat(Lang::En);
    turn(&engine, &mut state, "text me instead", None).await;
    let o = turn(&engine, &mut state, "555-010-9999", None).await;
    assert!(texts(&o)[0].starts_with("I couldn't save that just now"));
}

#[test]
fn a_remembered_contact_is_said_by_its_end_only() {
    let phone = PhoneNumber::parse("555-010-1234").unwrap();
    let p = Preference::new(Channel::Text, Contact::Phone(phone)).unwrap();
    let offered = offer(Lang::En, &p).text;
    assert!(!offered.contains("555"), "{offered}");
    let es = offer(Lang::Es, &p).text;
    assert!(es.contains("al número que termina en 1234"), "{es}");
    let mail = Contact::Email(crate::patient::Email::parse("ana@example.com").unwrap());
    assert_eq!(at(Lang::Es, &mail, true), "a a…@example.com");
    assert_eq!(at(Lang::En, &mail, false), "at ana@example.com");
}
