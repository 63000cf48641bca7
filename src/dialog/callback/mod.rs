//! The offline path: when no person can take the chat (outside hours, or no
//! agent online), the bot collects a callback request step by step, with
//! choices at every step and a clear re-ask on bad input. A contact
//! remembered from an earlier visit is offered instead of the channel
//! question (or, for a signed-in patient, used as it is); the one sent is
//! remembered for next time.
//!
//! - [`say`]: the questions and the summary.

mod say;
#[cfg(test)]
mod tests;

pub use self::say::offer;
use self::say::{ask_channel, ask_contact, ask_name, ask_window, reask, summary};
use super::contact::{self, CHOICE_OTHER, CHOICE_SAME, Recalled};
use super::intents::{self, SmallTalk};
use super::text::t;
use super::{Action, Outcome, Reply};
use crate::lang::Lang;
use crate::patient::{Channel, Contact, PatientName, Preference};
use crate::store::NewCallback;
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
    /// The contact remembered from last time is offered: yes, or another.
    Recalled {
        name: PatientName,
        preference: Preference,
    },
    Contact {
        name: PatientName,
        channel: Channel,
    },
    Window {
        name: PatientName,
        channel: Channel,
        contact: Contact,
        /// The contact was remembered, not typed in this chat.
        remembered: bool,
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
    /// The contact was remembered, not typed: the bot shows only its end.
    pub remembered: bool,
    /// The language of the chat: the messages about the request are
    /// written in the one the patient confirms in.
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

/// A flow's next step (`None` when it is over) and what to say.
type Next = (Option<Step>, Outcome);

const MAX_FIELD_CHARS: usize = 120;

/// One step of the flow. Returns the next step (`None` when the flow is
/// over) and what to say. `recalled` is the contact remembered from an
/// earlier visit; it matters only once the name is given.
pub fn step(
    lang: Lang,
    current: Step,
    said: &Utterance,
    picked: Option<&str>,
    recalled: Option<Recalled>,
) -> Next {
    if intents::wants_to_stop(said) || picked == Some("callback:no") {
        let reply = Reply::bot(t(
            lang,
            "No problem, I won't take a callback request. You can keep asking me questions here, or call us at the number on our website.",
            "De acuerdo, no tomaré la solicitud. Puede seguir haciéndome preguntas aquí o llamarnos al número de nuestro sitio web.",
        ));
        return (None, Outcome::reply(reply));
    }
    let text = said.text().trim();
    let yes = matches!(intents::small_talk(said), Some(SmallTalk::Yes));
    match current {
        Step::Offer => match picked {
            Some("callback:yes") => ask_name(lang),
            _ if yes => ask_name(lang),
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
            match recalled {
                // Signed in: the same person as last time, not asked again.
                Some(r) if r.signed_in => {
                    let lead = contact::as_before(lang, &r.preference);
                    ask_window(lang, name, r.preference, true, Some(lead))
                }
                Some(r) => {
                    let reply = contact::offer(lang, &r.preference);
                    let step = Step::Recalled {
                        name,
                        preference: r.preference,
                    };
                    (Some(step), Outcome::reply(reply))
                }
                None => ask_channel(lang, name),
            }
        }
        Step::Channel { name } => {
            // An address or number typed here says how, and where.
            if let Some(given) = typed(said, picked) {
                return ask_window(lang, name, given, false, None);
            }
            let channel = picked
                .and_then(|p| p.strip_prefix("channel:"))
                .and_then(|p| Channel::parse(p).ok())
                .or_else(|| Channel::from_words(said.words()));
            match channel {
                Some(channel) => ask_contact(lang, name, channel),
                None => reask(
                    lang,
                    Step::Channel { name },
                    "Please pick phone call, text message or email.",
                    "Elija llamada, mensaje de texto o correo electrónico.",
                ),
            }
        }
        Step::Recalled { name, preference } => {
            on_recalled(lang, name, preference, said, picked, yes)
        }
        Step::Contact { name, channel } => {
            let given = Contact::parse_for(channel, text)
                .ok()
                .and_then(|c| Preference::new(channel, c).ok());
            let Some(given) = given else {
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
            ask_window(lang, name, given, false, None)
        }
        Step::Window {
            name,
            channel,
            contact,
            remembered,
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
                            remembered,
                        },
                        "Please pick a time, or type one (for example \"after 3 pm\").",
                        "Elija un horario o escríbalo (por ejemplo \"después de las 3 pm\").",
                    );
                }
            };
            confirm(
                lang,
                Details {
                    name,
                    channel,
                    contact,
                    window,
                    remembered,
                    lang,
                },
            )
        }
        Step::Confirm(details) => {
            let switch = picked.is_none().then(|| contact::asks_to_switch(said));
            match (picked, switch.flatten()) {
                (Some("confirm:yes"), _) => done(lang, details),
                (Some("confirm:restart"), _) => ask_name(lang),
                // "Text me instead": the same number by text, or a new one.
                (None, Some(channel)) => {
                    let mut details = details;
                    if details.contact.fits(channel) {
                        details.channel = channel;
                        return confirm(lang, details);
                    }
                    ask_contact(lang, details.name, channel)
                }
                _ if yes => done(lang, details),
                _ => reask(
                    lang,
                    Step::Confirm(details),
                    "Please choose \"Yes, send it\", \"Start over\" or \"Cancel\".",
                    "Elija \"Sí, enviar\", \"Empezar de nuevo\" o \"Cancelar\".",
                ),
            }
        }
    }
}

/// The answer to "Shall we text you at the number ending 1234, as last
/// time?": yes, another, a new number or address, or another channel.
fn on_recalled(
    lang: Lang,
    name: PatientName,
    preference: Preference,
    said: &Utterance,
    picked: Option<&str>,
    yes: bool,
) -> Next {
    if let Some(given) = typed(said, picked) {
        return ask_window(lang, name, given, false, None);
    }
    let channel = picked
        .is_none()
        .then(|| contact::asks_to_switch(said).or_else(|| Channel::from_words(said.words())))
        .flatten();
    match (picked, channel) {
        (Some(CHOICE_SAME), _) => ask_window(lang, name, preference, true, None),
        (Some(CHOICE_OTHER), _) => ask_channel(lang, name),
        (None, Some(channel)) => match preference.by(channel) {
            Some(same) => ask_window(lang, name, same, true, None),
            None => ask_contact(lang, name, channel),
        },
        _ if yes => ask_window(lang, name, preference, true, None),
        _ if matches!(intents::small_talk(said), Some(SmallTalk::No)) => ask_channel(lang, name),
        _ => {
            let mut reply = contact::offer(lang, &preference);
            reply.text = format!(
                "{} {}",
                t(lang, "Please choose one.", "Elija una opción."),
                reply.text
            );
            (
                Some(Step::Recalled { name, preference }),
                Outcome::reply(reply),
            )
        }
    }
}

/// A number or address typed (not a button): with the channel it implies.
fn typed(said: &Utterance, picked: Option<&str>) -> Option<Preference> {
    if picked.is_some() {
        return None;
    }
    let (channel, contact) = Contact::find_in(said.text().trim(), said.words())?;
    Preference::new(channel, contact).ok()
}

/// Shows what was collected and asks to send it.
fn confirm(lang: Lang, details: Details) -> Next {
    let reply = Reply::bot_with(summary(lang, &details), say::confirm_choices(lang));
    (Some(Step::Confirm(details)), Outcome::reply(reply))
}

fn done(lang: Lang, details: Details) -> Next {
    let details = Details { lang, ..details };
    let reply = Reply::bot(t(
        lang,
        "Your callback request is in. Our front-desk team will contact you as you asked. If anything becomes urgent, call 911 or go to the nearest emergency room.",
        "Recibimos su solicitud. Nuestro equipo de recepción le contactará como lo pidió. Si algo se vuelve urgente, llame al 911 o vaya a la sala de emergencias más cercana.",
    ));
    // Remembered for next time, whatever flow asks.
    let settled = Preference::new(details.channel, details.contact.clone()).ok();
    let mut outcome = Outcome::reply(reply);
    outcome.action = Some(Action::SaveCallback(details));
    outcome.settled = settled;
    (None, outcome)
}
