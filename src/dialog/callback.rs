//! The offline path: when no person can take the chat (outside hours, or no
//! agent online), the bot collects a callback request step by step, with
//! choices at every step and a clear re-ask on bad input.

use super::intents;
use super::text::t;
use super::{Action, Outcome, Reply};
use crate::lang::Lang;
use crate::patient::{Channel, Contact, PatientName};
use crate::store::NewCallback;
use crate::transcript::Choice;
use crate::utterance::Utterance;

/// Why no person could take the chat now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    AfterHours,
    NoAgents,
}

/// Where the patient is in the callback flow.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Offer,
    Name,
    Channel {
        name: PatientName,
    },
    Contact {
        name: PatientName,
        channel: Channel,
    },
    Window {
        name: PatientName,
        channel: Channel,
        contact: Contact,
    },
    Confirm(Details),
}

/// Everything collected, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    pub name: PatientName,
    pub channel: Channel,
    pub contact: Contact,
    pub window: String,
    /// The language of the chat: the messages about the request are
    /// written in it.
    pub lang: Lang,
}

impl Details {
    pub fn into_callback(self, conversation: crate::ids::ConversationId) -> NewCallback {
        NewCallback {
            conversation,
            name: self.name,
            channel: self.channel,
            contact: self.contact,
            window: self.window,
            lang: self.lang,
        }
    }
}

const MAX_FIELD_CHARS: usize = 120;

fn choice(label: &str, value: &str) -> Choice {
    Choice {
        label: label.to_owned(),
        value: value.to_owned(),
    }
}

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
        choice(
            t(lang, "Yes, call me back", "Sí, que me llamen"),
            "callback:yes",
        ),
        choice(t(lang, "No, thanks", "No, gracias"), "callback:no"),
    ];
    (Step::Offer, Reply::bot_with(text, choices))
}

/// One step of the flow. Returns the next step (`None` when the flow is
/// over) and what to say.
pub fn step(
    lang: Lang,
    current: Step,
    said: &Utterance,
    picked: Option<&str>,
) -> (Option<Step>, Outcome) {
    if intents::wants_to_stop(said) || picked == Some("callback:no") {
        let reply = Reply::bot(t(
            lang,
            "No problem, I won't take a callback request. You can keep asking me questions here, or call us at the number on our website.",
            "De acuerdo, no tomaré la solicitud. Puede seguir haciéndome preguntas aquí o llamarnos al número de nuestro sitio web.",
        ));
        return (None, Outcome::reply(reply));
    }
    let text = said.text().trim();
    match current {
        Step::Offer => match picked {
            Some("callback:yes") => ask_name(lang),
            _ if matches!(intents::small_talk(said), Some(intents::SmallTalk::Yes)) => {
                ask_name(lang)
            }
            _ => {
                let (step, reply) = offer(lang, Unavailable::NoAgents);
                (Some(step), Outcome::reply(reply))
            }
        },
        Step::Name => {
            let Ok(name) = PatientName::parse(text) else {
                return reask(
                    lang,
                    Step::Name,
                    "Please type the name we should ask for.",
                    "Escriba el nombre por el que debemos preguntar.",
                );
            };
            let reply = Reply::bot_with(
                t(
                    lang,
                    "Thanks. How should we contact you?",
                    "Gracias. ¿Cómo prefiere que le contactemos?",
                ),
                vec![
                    choice(t(lang, "Phone call", "Llamada"), "channel:phone"),
                    choice(t(lang, "Text message", "Mensaje de texto"), "channel:text"),
                    choice(t(lang, "Email", "Correo electrónico"), "channel:email"),
                ],
            );
            (Some(Step::Channel { name }), Outcome::reply(reply))
        }
        Step::Channel { name } => {
            // An address or number typed here says how, and where.
            if picked.is_none()
                && let Some((channel, contact)) = Contact::find_in(text, said.words())
            {
                return ask_window(lang, name, channel, contact);
            }
            let channel = picked
                .and_then(|p| p.strip_prefix("channel:"))
                .and_then(|p| Channel::parse(p).ok())
                .or_else(|| Channel::from_words(said.words()));
            let Some(channel) = channel else {
                return reask(
                    lang,
                    Step::Channel { name },
                    "Please pick phone call, text message or email.",
                    "Elija llamada, mensaje de texto o correo electrónico.",
                );
            };
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
        Step::Contact { name, channel } => {
            let Ok(contact) = Contact::parse_for(channel, text) else {
                let (en, es) = match channel {
                    Channel::Email => (
                        "That doesn't look like an email address. Please type it like name@example.com.",
                        "Eso no parece un correo electrónico. Escríbalo así: nombre@ejemplo.com.",
                    ),
                    _ => (
                        "That doesn't look like a phone number. Please type it with the area code, like 555-010-1234.",
                        "Eso no parece un número de teléfono. Escríbalo con el código de área, por ejemplo 555-010-1234.",
                    ),
                };
                return reask(lang, Step::Contact { name, channel }, en, es);
            };
            ask_window(lang, name, channel, contact)
        }
        Step::Window {
            name,
            channel,
            contact,
        } => {
            let window = match picked.and_then(|p| p.strip_prefix("window:")) {
                Some("mornings") => t(lang, "Weekday mornings", "Mañanas entre semana").to_owned(),
                Some("afternoons") => {
                    t(lang, "Weekday afternoons", "Tardes entre semana").to_owned()
                }
                Some("any") => t(lang, "Any time", "Cualquier hora").to_owned(),
                _ if !text.is_empty() && text.chars().count() <= MAX_FIELD_CHARS => text.to_owned(),
                _ => {
                    return reask(
                        lang,
                        Step::Window {
                            name,
                            channel,
                            contact,
                        },
                        "Please pick a time, or type one (for example \"after 3 pm\").",
                        "Elija un horario o escríbalo (por ejemplo \"después de las 3 pm\").",
                    );
                }
            };
            let details = Details {
                name,
                channel,
                contact,
                window,
                lang,
            };
            let summary = summary(lang, &details);
            let reply = Reply::bot_with(
                summary,
                vec![
                    choice(t(lang, "Yes, send it", "Sí, enviar"), "confirm:yes"),
                    choice(t(lang, "Start over", "Empezar de nuevo"), "confirm:restart"),
                    choice(t(lang, "Cancel", "Cancelar"), "callback:no"),
                ],
            );
            (Some(Step::Confirm(details)), Outcome::reply(reply))
        }
        // In the language the patient confirms in.
        Step::Confirm(details) => match picked {
            Some("confirm:yes") => done(lang, Details { lang, ..details }),
            _ if matches!(intents::small_talk(said), Some(intents::SmallTalk::Yes)) => {
                done(lang, Details { lang, ..details })
            }
            Some("confirm:restart") => ask_name(lang),
            _ => reask(
                lang,
                Step::Confirm(details),
                "Please choose \"Yes, send it\", \"Start over\" or \"Cancel\".",
                "Elija \"Sí, enviar\", \"Empezar de nuevo\" o \"Cancelar\".",
            ),
        },
    }
}

/// Asks when to call back, with what was collected.
fn ask_window(
    lang: Lang,
    name: PatientName,
    channel: Channel,
    contact: Contact,
) -> (Option<Step>, Outcome) {
    let reply = Reply::bot_with(
        t(
            lang,
            "When is a good time to reach you?",
            "¿Cuándo es un buen momento para contactarle?",
        ),
        vec![
            choice(
                t(lang, "Weekday mornings", "Mañanas entre semana"),
                "window:mornings",
            ),
            choice(
                t(lang, "Weekday afternoons", "Tardes entre semana"),
                "window:afternoons",
            ),
            choice(t(lang, "Any time", "Cualquier hora"), "window:any"),
        ],
    );
    (
        Some(Step::Window {
            name,
            channel,
            contact,
        }),
        Outcome::reply(reply),
    )
}

fn ask_name(lang: Lang) -> (Option<Step>, Outcome) {
    let reply = Reply::bot(t(
        lang,
        "What name should we ask for?",
        "¿Por qué nombre debemos preguntar?",
    ));
    (Some(Step::Name), Outcome::reply(reply))
}

fn reask(lang: Lang, step: Step, en: &str, es: &str) -> (Option<Step>, Outcome) {
    (Some(step), Outcome::reply(Reply::bot(t(lang, en, es))))
}

fn done(lang: Lang, details: Details) -> (Option<Step>, Outcome) {
    let reply = Reply::bot(t(
        lang,
        "Your callback request is in. Our front-desk team will contact you as you asked. If anything becomes urgent, call 911 or go to the nearest emergency room.",
        "Recibimos su solicitud. Nuestro equipo de recepción le contactará como lo pidió. Si algo se vuelve urgente, llame al 911 o vaya a la sala de emergencias más cercana.",
    ));
    (
        None,
        Outcome {
            replies: vec![reply],
            action: Some(Action::SaveCallback(details)),
            unanswered: None,
        },
    )
}

fn summary(lang: Lang, d: &Details) -> String {
    let how = match (lang, d.channel) {
        (Lang::En, Channel::Phone) => "a phone call",
        (Lang::En, Channel::Text) => "a text message",
        (Lang::En, Channel::Email) => "an email",
        (Lang::Es, Channel::Phone) => "una llamada",
        (Lang::Es, Channel::Text) => "un mensaje de texto",
        (Lang::Es, Channel::Email) => "un correo electrónico",
    };
    match lang {
        Lang::En => format!(
            "Please check: we'll contact {} by {} at {}, {}. Shall I send this request?",
            d.name.as_str(),
            how,
            d.contact.as_str(),
            d.window.to_lowercase()
        ),
        Lang::Es => format!(
            "Revise por favor: contactaremos a {} por {} al {}, {}. ¿Envío la solicitud?",
            d.name.as_str(),
            how,
            d.contact.as_str(),
            d.window.to_lowercase()
        ),
    }
}

#[cfg(test)]
mod tests {
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
        );
        let (s, _) = step(lang, s.unwrap(), &said("Ana Ruiz"), None);
        let (s, _) = step(
            lang,
            s.unwrap(),
            &said("Text message"),
            Some("channel:text"),
        );
        let (s, o) = step(lang, s.unwrap(), &said("555"), None);
        assert!(
            matches!(s, Some(Step::Contact { .. })),
            "bad numbers are asked again"
        );
        assert!(o.replies[0].text.contains("phone number"));
        let (s, _) = step(lang, s.unwrap(), &said("555-010-1234"), None);
        let (s, o) = step(
            lang,
            s.unwrap(),
            &said("Weekday mornings"),
            Some("window:mornings"),
        );
        assert!(o.replies[0].text.contains("Ana Ruiz"));
        let (s, o) = step(lang, s.unwrap(), &said("Yes, send it"), Some("confirm:yes"));
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
        let (s, o) = step(Lang::Es, Step::Name, &said("olvídelo"), None);
        assert!(s.is_none() && o.action.is_none());
    }
}
