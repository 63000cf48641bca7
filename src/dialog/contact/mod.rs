//! How the patient likes to be reached, remembered between visits: a flow
//! that needs a contact offers the remembered one instead of asking again,
//! a contact given in a flow is remembered, and "text me instead" (or
//! "mándame un correo") changes it at any time.
//!
//! The engine reaches what is remembered through [`ContactBook`], a small
//! interface it owns, as the booking flow reaches the scheduler through
//! `Calendar`: the server passes [`StoredContacts`] (the store), the unit
//! tests an in-memory double. It is keyed by conversation; which visitor
//! (and so which signed-in patient) that is, is the store's business.
//!
//! The bot never repeats a remembered number or address whole: it says
//! "the number ending 1234" or "a…@example.com", enough for the patient to
//! recognise it and not enough for the next person at a shared computer to
//! learn it.

#[cfg(test)]
pub(crate) mod double;
mod stored;
mod words;

pub use stored::StoredContacts;
pub use words::asks_to_switch;

use super::booking::Pending;
use super::text::t;
use super::{CHOICE_HANDOFF, DialogState, Engine, Outcome, Reply, Turn, intents};
use crate::lang::Lang;
use crate::patient::{Channel, Contact, Preference};
use crate::transcript::Choice;

/// Choice values of the offer of a remembered contact.
pub const CHOICE_SAME: &str = "contact:same";
pub const CHOICE_OTHER: &str = "contact:other";

/// What is remembered of how a patient likes to be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recalled {
    pub preference: Preference,
    /// The patient is signed in on the clinic's site: the same person as
    /// last time, not only the same browser. They are not asked again.
    pub signed_in: bool,
}

/// The remembered contacts could not be read or written just now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Down;

/// What the engine asks of wherever contacts are remembered.
pub trait ContactBook: Send + Sync {
    /// How the patient of `conversation` asked to be reached before.
    fn recall<'a>(&'a self, conversation: &'a str) -> Pending<'a, Result<Option<Recalled>, Down>>;

    /// Remembers `preference` for the patient of `conversation`, replacing
    /// what was there.
    fn remember<'a>(
        &'a self,
        conversation: &'a str,
        preference: &'a Preference,
    ) -> Pending<'a, Result<(), Down>>;
}

/// "text you at the number ending 1234": how the bot says a remembered
/// contact, as what it will do.
fn how(lang: Lang, p: &Preference) -> String {
    let at = at(lang, p.contact(), true);
    match (lang, p.channel()) {
        (Lang::En, Channel::Text) => format!("text you {at}"),
        (Lang::En, Channel::Phone) => format!("call you {at}"),
        (Lang::En, Channel::Email) => format!("email you {at}"),
        (Lang::Es, Channel::Text) => format!("enviarle mensajes de texto {at}"),
        (Lang::Es, Channel::Phone) => format!("llamarle {at}"),
        (Lang::Es, Channel::Email) => format!("escribirle {at}"),
    }
}

/// A contact as the bot shows it: whole when the patient typed it in this
/// chat, as a hint when it was `remembered`.
pub(super) fn shown(lang: Lang, contact: &Contact, remembered: bool) -> String {
    match (contact, remembered) {
        (_, false) => contact.as_str().to_owned(),
        (Contact::Phone(_), true) => match lang {
            Lang::En => format!("the number ending {}", contact.hint()),
            Lang::Es => format!("el número que termina en {}", contact.hint()),
        },
        (Contact::Email(_), true) => contact.hint(),
    }
}

/// "at 555-010-1234", "al número que termina en 1234", "a a…@example.com".
pub(super) fn at(lang: Lang, contact: &Contact, remembered: bool) -> String {
    let shown = shown(lang, contact, remembered);
    match (lang, contact) {
        (Lang::En, _) => format!("at {shown}"),
        (Lang::Es, Contact::Phone(_)) => match shown.strip_prefix("el ") {
            Some(rest) => format!("al {rest}"),
            None => format!("al {shown}"),
        },
        (Lang::Es, Contact::Email(_)) => format!("a {shown}"),
    }
}

/// The question offering the remembered contact, with "Yes" and "Use another".
pub(super) fn offer(lang: Lang, p: &Preference) -> Reply {
    let text = match lang {
        Lang::En => format!("Shall we {}, as last time?", how(lang, p)),
        Lang::Es => format!(
            "¿Quiere que volvamos a {}, como la última vez?",
            how(lang, p)
        ),
    };
    Reply::bot_with(
        text,
        vec![
            Choice::new(t(lang, "Yes", "Sí"), CHOICE_SAME),
            Choice::new(t(lang, "Use another", "Usar otro"), CHOICE_OTHER),
        ],
    )
}

/// Told a signed-in patient instead of asking: what will be used, and how
/// to change it.
pub(super) fn as_before(lang: Lang, p: &Preference) -> String {
    let (en, es) = match p.channel() {
        Channel::Text => ("call me instead", "llámame"),
        Channel::Phone | Channel::Email => ("text me instead", "mándame un mensaje"),
    };
    match lang {
        Lang::En => format!(
            "We'll {}, as last time. To change that, just say so (like \"{en}\").",
            how(lang, p)
        ),
        Lang::Es => format!(
            "Vamos a {}, como la última vez. Para cambiarlo, solo dígalo (por ejemplo \"{es}\").",
            how(lang, p)
        ),
    }
}

/// The question for a number or address the new channel needs.
pub(super) fn ask_for(lang: Lang, channel: Channel) -> &'static str {
    match channel {
        Channel::Text => t(
            lang,
            "Sure. What number should we text?",
            "Claro. ¿A qué número le enviamos los mensajes de texto?",
        ),
        Channel::Phone => t(
            lang,
            "Sure. What number should we call?",
            "Claro. ¿A qué número le llamamos?",
        ),
        Channel::Email => t(
            lang,
            "Sure. What email address should we use?",
            "Claro. ¿A qué correo electrónico le escribimos?",
        ),
    }
}

impl Engine {
    /// The contact remembered for this conversation's patient; none when
    /// nothing is, or when it cannot be read now (then the flow asks).
    pub(super) async fn recall(&self, state: &DialogState) -> Option<Recalled> {
        let conversation = state.conversation.as_deref()?;
        self.contacts.recall(conversation).await.unwrap_or(None)
    }

    /// Remembers `preference` for this conversation's patient; `false`
    /// when it could not be saved.
    pub(super) async fn remember(&self, state: &DialogState, preference: &Preference) -> bool {
        match state.conversation.as_deref() {
            Some(conversation) => self
                .contacts
                .remember(conversation, preference)
                .await
                .is_ok(),
            None => false,
        }
    }

    /// "text me instead": the remembered number by the new channel, the
    /// number or address given with the words, or a question for it.
    pub(super) async fn switch_to(
        &self,
        state: &mut DialogState,
        channel: Channel,
        turn: Turn<'_>,
    ) -> Outcome {
        let lang = state.lang;
        if let Some(given) = typed(channel, turn) {
            return self.keep(state, given).await;
        }
        let known = self.recall(state).await.map(|r| r.preference);
        if let Some(now) = known.as_ref().filter(|now| now.channel() == channel) {
            return Outcome::reply(Reply::bot(match lang {
                Lang::En => format!("That's how we reach you already: we'll {}.", how(lang, now)),
                Lang::Es => format!("Ya lo tenemos así: vamos a {}.", how(lang, now)),
            }));
        }
        match known.and_then(|now| now.by(channel)) {
            Some(next) => self.keep(state, next).await,
            None => {
                state.switching = Some(channel);
                Outcome::reply(Reply::bot(ask_for(lang, channel)))
            }
        }
    }

    /// The answer to "what number should we text?". `None` when the
    /// patient asked for something else instead (a person), which the
    /// engine then handles as any message.
    pub(super) async fn switching_answer(
        &self,
        state: &mut DialogState,
        channel: Channel,
        turn: Turn<'_>,
    ) -> Option<Outcome> {
        let (lang, said) = (state.lang, turn.said);
        if turn.choice == Some(CHOICE_HANDOFF) || intents::wants_person(said) {
            return None;
        }
        if turn.choice.is_none() && intents::wants_to_stop(said) {
            return Some(Outcome::reply(Reply::bot(t(
                lang,
                "OK, I've left it as it was.",
                "De acuerdo, lo dejé como estaba.",
            ))));
        }
        if let Some(given) = typed(channel, turn) {
            return Some(self.keep(state, given).await);
        }
        if let Some(other) = asks_to_switch(said).filter(|c| *c != channel) {
            return Some(self.switch_to(state, other, turn).await);
        }
        state.switching = Some(channel);
        let (en, es) = match channel {
            Channel::Email => (
                "That doesn't look like an email address. Please type it like name@example.com, or say \"never mind\".",
                "Eso no parece un correo electrónico. Escríbalo así: nombre@ejemplo.com, o diga \"olvídelo\".",
            ),
            Channel::Phone | Channel::Text => (
                "That doesn't look like a phone number. Please type it with the area code, like 555-010-1234, or say \"never mind\".",
                "Eso no parece un número de teléfono. Escríbalo con el código de área, por ejemplo 555-010-1234, o diga \"olvídelo\".",
            ),
        };
        Some(Outcome::reply(Reply::bot(t(lang, en, es))))
    }

    /// Saves the new preference and says so (or that it could not).
    async fn keep(&self, state: &mut DialogState, preference: Preference) -> Outcome {
        let lang = state.lang;
        if !self.remember(state, &preference).await {
            return Outcome::reply(Reply::bot(t(
                lang,
                "I couldn't save that just now. Please try again in a moment.",
                "No pude guardarlo en este momento. Intente de nuevo en un momento.",
            )));
        }
        Outcome::reply(Reply::bot(match lang {
            Lang::En => format!("Done: from now on we'll {}.", how(lang, &preference)),
            Lang::Es => format!("Listo: desde ahora vamos a {}.", how(lang, &preference)),
        }))
    }
}

/// A number or address for `channel` in the message, typed alone or in a
/// sentence ("text me at 555-010-1234").
fn typed(channel: Channel, turn: Turn<'_>) -> Option<Preference> {
    if turn.choice.is_some() {
        return None;
    }
    let said = turn.said;
    let contact = Contact::parse_for(channel, said.text())
        .ok()
        .or_else(|| Contact::find_in(said.text(), said.words()).map(|(_, c)| c))?;
    Preference::new(channel, contact).ok()
}

#[cfg(test)]
mod tests;
