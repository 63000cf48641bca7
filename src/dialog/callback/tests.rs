//! The callback flow step by step: everything collected, then confirmed;
//! leaving at any step; a remembered contact offered, or used as it is.

use super::*;

fn said(text: &str) -> Utterance {
    Utterance::analyse(text)
}

#[test]
fn the_flow_collects_everything_then_asks_to_confirm() {
    let lang = Lang::En;
    let (s, _) = step(
        lang,
        Step::Offer,
        &said("Yes, call me back"),
        Some("callback:yes"),
        None,
    );
    let (s, _) = step(lang, s.unwrap(), &said("Ana Ruiz"), None, None);
    let (s, _) = step(
        lang,
        s.unwrap(),
        &said("Text message"),
        Some("channel:text"),
        None,
    );
    let (s, o) = step(lang, s.unwrap(), &said("555"), None, None);
    assert!(
        matches!(s, Some(Step::Contact { .. })),
        "bad numbers are asked again"
    );
    assert!(o.replies[0].text.contains("phone number"));
    let (s, _) = step(lang, s.unwrap(), &said("555-010-1234"), None, None);
    let (s, o) = step(
        lang,
        s.unwrap(),
        &said("Weekday mornings"),
        Some("window:mornings"),
        None,
    );
    assert!(o.replies[0].text.contains("Ana Ruiz"));
    let (s, o) = step(
        lang,
        s.unwrap(),
        &said("Yes, send it"),
        Some("confirm:yes"),
        None,
    );
    assert!(s.is_none());
    match o.action {
        Some(Action::SaveCallback(d)) => {
            assert_eq!(d.channel, Channel::Text);
            assert_eq!(d.contact.as_str(), "555-010-1234");
        }
        other => panic!("expected a callback, got {other:?}"),
    }
}

#[test]
fn never_mind_leaves_the_flow_at_any_step() {
    let (s, o) = step(Lang::Es, Step::Name, &said("olvídelo"), None, None);
    assert!(s.is_none() && o.action.is_none());
}

fn remembered(signed_in: bool) -> Recalled {
    let phone = crate::patient::PhoneNumber::parse("555-010-4477").unwrap();
    Recalled {
        preference: Preference::new(Channel::Text, Contact::Phone(phone)).unwrap(),
        signed_in,
    }
}

/// Runs the flow from the name on, with `recalled` remembered.
fn after_name(lang: Lang, recalled: Recalled) -> (Option<Step>, Outcome) {
    step(lang, Step::Name, &said("Ana Ruiz"), None, Some(recalled))
}

#[test]
fn a_returning_visitor_is_offered_the_remembered_contact() {
    let (s, o) = after_name(Lang::En, remembered(false));
    let offer = &o.replies[0];
    assert_eq!(
        offer.text,
        "Shall we text you at the number ending 4477, as last time?"
    );
    let values: Vec<&str> = offer
        .details
        .choices
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(values, [CHOICE_SAME, CHOICE_OTHER]);
    // One press, and the flow goes on to the time.
    let (s, o) = step(Lang::En, s.unwrap(), &said("Yes"), Some(CHOICE_SAME), None);
    assert!(o.replies[0].text.contains("good time to reach you"));
    let (s, o) = step(
        Lang::En,
        s.unwrap(),
        &said("Any time"),
        Some("window:any"),
        None,
    );
    let summary = &o.replies[0].text;
    assert!(
        summary.contains("by a text message at the number ending 4477"),
        "{summary}"
    );
    assert!(
        !summary.contains("555"),
        "the bot does not repeat it whole: {summary}"
    );
    let (_, o) = step(
        Lang::En,
        s.unwrap(),
        &said("Yes, send it"),
        Some("confirm:yes"),
        None,
    );
    match o.action {
        Some(Action::SaveCallback(d)) => assert_eq!(d.contact.as_str(), "555-010-4477"),
        other => panic!("expected a callback, got {other:?}"),
    }
}

#[test]
fn another_contact_can_be_given_instead_of_the_remembered_one() {
    let (s, _) = after_name(Lang::En, remembered(false));
    let (s, o) = step(
        Lang::En,
        s.unwrap(),
        &said("Use another"),
        Some(CHOICE_OTHER),
        None,
    );
    assert!(matches!(s, Some(Step::Channel { .. })), "{o:?}");
    // Or typed straight away, or another channel for the same number.
    let (s, _) = after_name(Lang::En, remembered(false));
    let (s, _) = step(Lang::En, s.unwrap(), &said("ana@example.org"), None, None);
    assert!(matches!(
        s,
        Some(Step::Window {
            channel: Channel::Email,
            remembered: false,
            ..
        })
    ));
    let (s, _) = after_name(Lang::En, remembered(false));
    let (s, _) = step(
        Lang::En,
        s.unwrap(),
        &said("no, call me instead"),
        None,
        None,
    );
    assert!(matches!(
        s,
        Some(Step::Window {
            channel: Channel::Phone,
            remembered: true,
            ..
        })
    ));
}

#[test]
fn a_signed_in_patient_is_not_asked_for_the_channel_again() {
    let (s, o) = after_name(Lang::Es, remembered(true));
    let said_first = &o.replies[0].text;
    assert!(
        said_first.starts_with("Vamos a enviarle mensajes de texto al número que termina en 4477"),
        "{said_first}"
    );
    assert!(
        said_first.contains("¿Cuándo es un buen momento"),
        "{said_first}"
    );
    assert!(matches!(
        s,
        Some(Step::Window {
            channel: Channel::Text,
            remembered: true,
            ..
        })
    ));
}

#[test]
fn text_me_instead_at_the_summary_changes_the_channel() {
    let (s, _) = after_name(Lang::En, remembered(true));
    let (s, _) = step(Lang::En, s.unwrap(), &said("after 3 pm"), None, None);
    let (s, o) = step(Lang::En, s.unwrap(), &said("call me instead"), None, None);
    assert!(
        o.replies[0]
            .text
            .contains("by a phone call at the number ending 4477"),
        "{o:?}"
    );
    // E-mail needs an address: asked for.
    let (s, o) = step(Lang::En, s.unwrap(), &said("email me instead"), None, None);
    assert!(
        matches!(
            s,
            Some(Step::Contact {
                channel: Channel::Email,
                ..
            })
        ),
        "{o:?}"
    );
}
