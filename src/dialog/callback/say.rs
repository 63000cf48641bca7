//! What the callback flow says: the offer, each question with its choices,
//! and the summary to confirm.

use super::{Details, Next, Step, Unavailable};
use crate::dialog::contact;
use crate::dialog::text::t;
use crate::dialog::{Outcome, Reply};
use crate::lang::Lang;
use crate::patient::{Channel, PatientName, Preference};
use crate::transcript::Choice;

/// The first message of the offline path.
pub fn offer(lang: Lang, why: Unavailable) -> (Step, Reply) {
    let text = match why {
        Unavailable::AfterHours => t(
            lang,
            "Our front-desk team is away right now. I can take a callback request, and someone will reach out during business hours. Would you like that?",
            "Nuestro equipo de recepción no está disponible en este momento. Puedo tomar una solicitud para que le devuelvan la llamada en horario de atención. ¿Le gustaría?",
        ),
        Unavailable::NoAgents => t(
            lang,
            "No one from our front-desk team is free to chat right now. I can take a callback request so someone contacts you as soon as possible. Would you like that?",
            "En este momento no hay nadie de recepción disponible para chatear. Puedo tomar una solicitud para que alguien le contacte lo antes posible. ¿Le gustaría?",
        ),
    };
    let choices = vec![
        Choice::new(
            t(lang, "Yes, call me back", "Sí, que me llamen"),
            "callback:yes",
        ),
        Choice::new(t(lang, "No, thanks", "No, gracias"), "callback:no"),
    ];
    (Step::Offer, Reply::bot_with(text, choices))
}

pub(super) fn ask_name(lang: Lang) -> Next {
    let reply = Reply::bot(t(
        lang,
        "What name should we ask for?",
        "¿Por qué nombre debemos preguntar?",
    ));
    (Some(Step::Name), Outcome::reply(reply))
}

/// How to reach the patient: call, text or e-mail.
pub(super) fn ask_channel(lang: Lang, name: PatientName) -> Next {
    let reply = Reply::bot_with(
        t(
            lang,
            "Thanks. How should we contact you?",
            "Gracias. ¿Cómo prefiere que le contactemos?",
        ),
        vec![
            Choice::new(t(lang, "Phone call", "Llamada"), "channel:phone"),
            Choice::new(t(lang, "Text message", "Mensaje de texto"), "channel:text"),
            Choice::new(t(lang, "Email", "Correo electrónico"), "channel:email"),
        ],
    );
    (Some(Step::Channel { name }), Outcome::reply(reply))
}

/// The number or address `channel` needs.
pub(super) fn ask_contact(lang: Lang, name: PatientName, channel: Channel) -> Next {
    let ask = match channel {
        Channel::Email => t(
            lang,
            "What email address should we use?",
            "¿A qué correo electrónico le escribimos?",
        ),
        _ => t(
            lang,
            "What phone number should we use?",
            "¿A qué número de teléfono le contactamos?",
        ),
    };
    (
        Some(Step::Contact { name, channel }),
        Outcome::reply(Reply::bot(ask)),
    )
}

/// Asks when to call back, with what was collected (after `lead`, when
/// there is something to say first).
pub(super) fn ask_window(
    lang: Lang,
    name: PatientName,
    reach: Preference,
    remembered: bool,
    lead: Option<String>,
) -> Next {
    let question = t(
        lang,
        "When is a good time to reach you?",
        "¿Cuándo es un buen momento para contactarle?",
    );
    let text = match lead {
        Some(lead) => format!("{lead} {question}"),
        None => question.to_owned(),
    };
    let reply = Reply::bot_with(
        text,
        vec![
            Choice::new(
                t(lang, "Weekday mornings", "Mañanas entre semana"),
                "window:mornings",
            ),
            Choice::new(
                t(lang, "Weekday afternoons", "Tardes entre semana"),
                "window:afternoons",
            ),
            Choice::new(t(lang, "Any time", "Cualquier hora"), "window:any"),
        ],
    );
    let step = Step::Window {
        name,
        channel: reach.channel(),
        contact: reach.contact().clone(),
        remembered,
    };
    (Some(step), Outcome::reply(reply))
}

pub(super) fn reask(lang: Lang, step: Step, en: &str, es: &str) -> Next {
    (Some(step), Outcome::reply(Reply::bot(t(lang, en, es))))
}

pub(super) fn confirm_choices(lang: Lang) -> Vec<Choice> {
    vec![
        Choice::new(t(lang, "Yes, send it", "Sí, enviar"), "confirm:yes"),
        Choice::new(t(lang, "Start over", "Empezar de nuevo"), "confirm:restart"),
        Choice::new(t(lang, "Cancel", "Cancelar"), "callback:no"),
    ]
}

pub(super) fn summary(lang: Lang, d: &Details) -> String {
    let how = match (lang, d.channel) {
        (Lang::En, Channel::Phone) => "a phone call",
        (Lang::En, Channel::Text) => "a text message",
        (Lang::En, Channel::Email) => "an email",
        (Lang::Es, Channel::Phone) => "una llamada",
        (Lang::Es, Channel::Text) => "un mensaje de texto",
        (Lang::Es, Channel::Email) => "un correo electrónico",
    };
    let at = contact::at(lang, &d.contact, d.remembered);
    match lang {
        Lang::En => format!(
            "Please check: we'll contact {} by {} {}, {}. Shall I send this request?",
            d.name.as_str(),
            how,
            at,
            d.window.to_lowercase()
        ),
        Lang::Es => format!(
            "Revise por favor: contactaremos a {} por {} {}, {}. ¿Envío la solicitud?",
            d.name.as_str(),
            how,
            at,
            d.window.to_lowercase()
        ),
    }
}
