//! How the patient will be reached about the booking: the contact
//! remembered from last time (offered, or for a signed-in patient used as
//! it is), a number or address typed, call or text, and "text me instead"
//! at the summary.

use super::calendar::Calendar;
use super::flow::{Flow, Step};
use super::matching::is_yes;
use crate::dialog::Outcome;
use crate::dialog::Reply;
use crate::dialog::contact::{self, CHOICE_OTHER, CHOICE_SAME};
use crate::dialog::intents::{self, SmallTalk};
use crate::lang::Lang;
use crate::patient::{Channel, Contact, Email, PhoneNumber, Preference};
use crate::utterance::Utterance;

/// A flow's next state and what to say: `None` when the flow is over.
type Next = (Option<Flow>, Outcome);

impl Flow {
    /// After the date of birth: the remembered contact, offered or (signed
    /// in) used as it is, or the contact question.
    pub(super) async fn ask_how_to_reach(mut self, s: &dyn Calendar, lang: Lang) -> Next {
        match self.recalled.clone() {
            Some(r) if r.signed_in => {
                self.reach_by(&r.preference, true);
                self.step = Step::Confirm;
                let (flow, mut outcome) = self.ask(s, lang).await;
                let note = Reply::bot(contact::as_before(lang, &r.preference));
                outcome.replies.insert(0, note);
                (flow, outcome)
            }
            Some(_) => self.ask_at(Step::Recalled, s, lang).await,
            None => self.ask_at(Step::Contact, s, lang).await,
        }
    }

    /// The answer to "Shall we text you at the number ending 1234, as last
    /// time?".
    pub(super) async fn on_recalled(
        self,
        s: &dyn Calendar,
        lang: Lang,
        said: &Utterance,
        picked: Option<&str>,
    ) -> Next {
        if self.recalled.is_none() {
            return self.ask_at(Step::Contact, s, lang).await;
        }
        let text = said.text().trim();
        if picked.is_none() && (Email::parse(text).is_ok() || PhoneNumber::parse(text).is_ok()) {
            return self.on_contact(s, lang, said).await;
        }
        let channel = picked
            .is_none()
            .then(|| contact::asks_to_switch(said).or_else(|| Channel::from_words(said.words())))
            .flatten();
        match (picked, channel) {
            (Some(CHOICE_SAME), _) => self.confirm_with_last(s, lang).await,
            (Some(CHOICE_OTHER), _) => self.ask_at(Step::Contact, s, lang).await,
            (None, Some(channel)) => self.switch(s, lang, channel).await,
            _ if is_yes(said) => self.confirm_with_last(s, lang).await,
            _ if matches!(intents::small_talk(said), Some(SmallTalk::No)) => {
                self.ask_at(Step::Contact, s, lang).await
            }
            _ => {
                self.reask(s, lang, "Please choose one.", "Elija una opción.")
                    .await
            }
        }
    }

    async fn confirm_with_last(mut self, s: &dyn Calendar, lang: Lang) -> Next {
        if let Some(r) = self.recalled.clone() {
            self.reach_by(&r.preference, true);
        }
        self.ask_at(Step::Confirm, s, lang).await
    }

    /// Moves to `step` and asks its question.
    async fn ask_at(mut self, step: Step, s: &dyn Calendar, lang: Lang) -> Next {
        self.step = step;
        self.ask(s, lang).await
    }

    /// "Text me instead": the number or address already known, by the new
    /// channel, or a question for one.
    pub(super) async fn switch(mut self, s: &dyn Calendar, lang: Lang, channel: Channel) -> Next {
        // A number or address given in this chat first, then last time's.
        let given = match channel {
            Channel::Email => self.email.clone().map(Contact::Email),
            Channel::Phone | Channel::Text => self.phone.clone().map(Contact::Phone),
        };
        let given = given.and_then(|c| Preference::new(channel, c).ok());
        let last = self
            .recalled
            .as_ref()
            .and_then(|r| r.preference.by(channel));
        match (given, last) {
            (Some(reach), _) => {
                let remembered = self.remembered;
                self.reach_by(&reach, remembered);
                self.step = Step::Confirm;
            }
            (None, Some(reach)) => {
                self.reach_by(&reach, true);
                self.step = Step::Confirm;
            }
            (None, None) => {
                self.contact = Some(channel);
                self.step = Step::Contact;
            }
        }
        self.ask(s, lang).await
    }

    pub(super) async fn on_contact(
        mut self,
        s: &dyn Calendar,
        lang: Lang,
        said: &Utterance,
    ) -> Next {
        let text = said.text();
        self.remembered = false;
        if let Ok(email) = Email::parse(text) {
            self.email = Some(email);
            self.contact = Some(Channel::Email);
            self.step = Step::Confirm;
        } else if let Ok(phone) = PhoneNumber::parse(text) {
            self.phone = Some(phone);
            // Asked for a number to call or text ("text me instead"):
            // that is said already.
            self.step = match self.contact {
                Some(Channel::Phone | Channel::Text) => Step::Confirm,
                _ => Step::Channel,
            };
        } else {
            return self
                .reask(
                    s,
                    lang,
                    "Please type a phone number with area code (like 555-010-1234) or an email address.",
                    "Escriba un teléfono con código de área (como 555-010-1234) o un correo electrónico.",
                )
                .await;
        }
        self.ask(s, lang).await
    }

    /// Call or text the number given (e-mail came with an address).
    pub(super) async fn on_channel(
        mut self,
        s: &dyn Calendar,
        lang: Lang,
        said: &Utterance,
        picked: Option<&str>,
    ) -> Next {
        let channel = picked
            .and_then(|p| p.strip_prefix("channel:"))
            .and_then(|p| Channel::parse(p).ok())
            .or_else(|| Channel::from_words(said.words()));
        match channel {
            Some(channel @ (Channel::Phone | Channel::Text)) => {
                self.contact = Some(channel);
                self.step = Step::Confirm;
                self.ask(s, lang).await
            }
            _ => {
                self.reask(
                    s,
                    lang,
                    "Please choose Call or Text.",
                    "Elija Llamada o Mensaje de texto.",
                )
                .await
            }
        }
    }
}
