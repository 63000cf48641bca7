//! The step machine: how a flow starts from the patient's first words, and
//! what each answer to the current question does.

use super::calendar::Calendar;
use super::flow::{Flow, Intent, Requester, Step};
use super::matching::{is_yes, match_provider, no_preference};
use super::say::say_kind;
use crate::appointments::{self, Filter, SlotId};
use crate::dialog::Outcome;
use crate::dialog::contact::asks_to_switch;
use crate::dialog::kinds::Heard;
use crate::dialog::when;
use crate::lang::Lang;
use crate::patient::{DateProblem, PatientName};
use crate::utterance::Utterance;

/// A flow's next state and what to say: `None` when the flow is over.
type Next = (Option<Flow>, Outcome);

impl Flow {
    /// Starts a flow from the patient's words ("can I see Dr. Lee next week").
    pub async fn start(
        s: &dyn Calendar,
        lang: Lang,
        intent: Intent,
        said: &Utterance,
        heard: &Heard,
    ) -> Next {
        let clinic = s.clinic();
        let mut flow = Flow::new(intent);
        if intent != Intent::Book {
            return flow.ask(s, lang).await;
        }
        flow.type_id = heard.kind.clone();
        flow.filter.provider = match_provider(&clinic.schedule, said);
        flow.apply_preference(said, &clinic);
        if flow.type_id.is_some() {
            flow.step = Step::Provider;
            let (flow, outcome) = flow.advance(s, lang).await;
            return (flow, say_kind(outcome, &clinic, heard, lang));
        }
        // Said something, but not which kind: say what was heard, offer the
        // closest kinds.
        let heard_any = flow.filter.provider.is_some() || flow.from.is_some();
        if heard_any || !heard.closest.is_empty() {
            return flow.ask_kind(s, lang, heard, false);
        }
        flow.advance(s, lang).await
    }

    /// Skips steps that need no question, then asks the next one.
    async fn advance(mut self, s: &dyn Calendar, lang: Lang) -> Next {
        let clinic = s.clinic();
        if self.step == Step::Provider {
            let offered_by = self
                .type_id
                .as_deref()
                .and_then(|id| clinic.schedule.appointment_type(id))
                .map(|t| t.providers.len())
                .unwrap_or(0);
            if self.filter.provider.is_some() || offered_by <= 1 {
                self.step = Step::Slot;
            }
        }
        self.ask(s, lang).await
    }

    /// Handles the patient's answer to the current question.
    pub async fn answer(
        self,
        s: &dyn Calendar,
        lang: Lang,
        said: &Utterance,
        picked: Option<&str>,
        heard: &Heard,
        who: Requester,
    ) -> Next {
        match self.step {
            Step::Type => self.on_type(s, lang, said, picked, heard).await,
            Step::Provider => self.on_provider(s, lang, said, picked).await,
            Step::Slot => self.on_slot(s, lang, said, picked).await,
            Step::Name => self.on_name(s, lang, said).await,
            Step::Dob | Step::CodeDob => self.on_birth_date(s, lang, said).await,
            Step::Recalled => self.on_recalled(s, lang, said, picked).await,
            Step::Contact => self.on_contact(s, lang, said).await,
            Step::Channel => self.on_channel(s, lang, said, picked).await,
            Step::Confirm => self.on_confirm(s, lang, said, picked, who).await,
            Step::Code => self.on_code(s, lang, said).await,
            Step::ConfirmCancel => match picked {
                Some("confirm:yes") => self.cancel(s, lang).await,
                _ if is_yes(said) => self.cancel(s, lang).await,
                _ => {
                    self.reask(
                        s,
                        lang,
                        "Please choose \"Yes, cancel it\" or \"No, keep it\".",
                        "Elija \"Sí, cancelarla\" o \"No, mantenerla\".",
                    )
                    .await
                }
            },
        }
    }

    /// The answer to the summary: book, another time, or "text me instead".
    async fn on_confirm(
        self,
        s: &dyn Calendar,
        lang: Lang,
        said: &Utterance,
        picked: Option<&str>,
        who: Requester,
    ) -> Next {
        if picked.is_none()
            && let Some(channel) = asks_to_switch(said)
        {
            return self.switch(s, lang, channel).await;
        }
        match picked {
            Some("confirm:yes") => self.book(s, lang, who).await,
            Some("confirm:other") => {
                let mut flow = self;
                flow.filter.after = None;
                flow.offer_slots(s, lang, None).await
            }
            _ if is_yes(said) => self.book(s, lang, who).await,
            _ => {
                self.reask(
                    s,
                    lang,
                    "Please choose \"Yes, book it\", \"Pick another time\" or \"Cancel\".",
                    "Elija \"Sí, reservar\", \"Elegir otro horario\" o \"Cancelar\".",
                )
                .await
            }
        }
    }

    async fn on_type(
        mut self,
        s: &dyn Calendar,
        lang: Lang,
        said: &Utterance,
        picked: Option<&str>,
        heard: &Heard,
    ) -> Next {
        let clinic = s.clinic();
        let pressed = picked.and_then(|p| p.strip_prefix("type:"));
        if pressed == Some("all") {
            return self.ask_kind(s, lang, &Heard::default(), false);
        }
        let id = match pressed {
            Some(id) => Some(id.to_owned()),
            None => heard.kind.clone(),
        };
        // Whatever else the message said is kept ("next Tuesday morning",
        // "with Dr. Lee").
        if picked.is_none() {
            if let Some(p) = match_provider(&clinic.schedule, said) {
                self.filter.provider = Some(p);
            }
            self.apply_preference(said, &clinic);
        }
        match id.filter(|id| clinic.schedule.appointment_type(id).is_some()) {
            Some(id) => {
                self.type_id = Some(id);
                self.step = Step::Provider;
                let (flow, outcome) = self.advance(s, lang).await;
                match pressed {
                    Some(_) => (flow, outcome),
                    None => (flow, say_kind(outcome, &clinic, heard, lang)),
                }
            }
            None => self.ask_kind(s, lang, heard, true),
        }
    }

    async fn on_provider(
        mut self,
        s: &dyn Calendar,
        lang: Lang,
        said: &Utterance,
        picked: Option<&str>,
    ) -> Next {
        let clinic = s.clinic();
        match picked.and_then(|p| p.strip_prefix("provider:")) {
            Some("any") => self.filter.provider = None,
            Some(id) if clinic.schedule.provider(id).is_some() => {
                self.filter.provider = Some(id.to_owned())
            }
            _ => match match_provider(&clinic.schedule, said) {
                Some(p) => self.filter.provider = Some(p),
                None if no_preference(said) => self.filter.provider = None,
                None => {
                    return self
                        .reask(
                            s,
                            lang,
                            "I didn't find a provider by that name here. These are the ones who offer this visit:",
                            "No encontré a un profesional con ese nombre. Estos son quienes ofrecen esta consulta:",
                        )
                        .await;
                }
            },
        }
        // A day or time said with the provider is kept.
        if picked.is_none() {
            self.apply_preference(said, &clinic);
        }
        self.step = Step::Slot;
        self.ask(s, lang).await
    }

    async fn on_slot(
        mut self,
        s: &dyn Calendar,
        lang: Lang,
        said: &Utterance,
        picked: Option<&str>,
    ) -> Next {
        match picked.and_then(|p| p.strip_prefix("slot:")) {
            Some("later") => {
                self.filter.after = self.next_after;
                self.offer_slots(s, lang, None).await
            }
            Some("any") => {
                self.filter = Filter {
                    provider: self.filter.provider.clone(),
                    ..Filter::default()
                };
                self.from = None;
                self.offer_slots(s, lang, None).await
            }
            Some(id) => match id.parse::<SlotId>() {
                Ok(slot) => {
                    self.slot = Some(slot);
                    self.step = if self.existing.is_some() {
                        Step::Confirm
                    } else {
                        Step::Name
                    };
                    self.ask(s, lang).await
                }
                Err(_) => self.offer_slots(s, lang, None).await,
            },
            None => {
                let before = (self.from, self.filter.clone());
                self.apply_preference(said, &s.clinic());
                if (self.from, self.filter.clone()) == before {
                    let lead = crate::dialog::text::t(
                        lang,
                        "Sorry, I didn't catch a day or time there. Pick one of these, or type something like \"next Tuesday morning\".",
                        "Perdón, no entendí el día u hora. Elija uno de estos o escriba algo como \"el martes por la mañana\".",
                    );
                    return self.offer_slots(s, lang, Some(lead)).await;
                }
                self.offer_slots(s, lang, None).await
            }
        }
    }

    async fn on_name(mut self, s: &dyn Calendar, lang: Lang, said: &Utterance) -> Next {
        let Ok(name) = PatientName::parse(said.text()) else {
            return self
                .reask(
                    s,
                    lang,
                    "Please type the patient's full name.",
                    "Escriba el nombre completo del paciente.",
                )
                .await;
        };
        self.name = Some(name);
        self.step = Step::Dob;
        self.ask(s, lang).await
    }

    /// A date of birth: for a booking, or to look up a code.
    async fn on_birth_date(mut self, s: &dyn Calendar, lang: Lang, said: &Utterance) -> Next {
        match when::parse_birth_date(said, lang) {
            Ok(dob) if self.step == Step::Dob => {
                self.dob = Some(dob);
                self.ask_how_to_reach(s, lang).await
            }
            Ok(dob) => self.look_up(s, lang, dob).await,
            Err(problem) => {
                let (en, es) = match problem {
                    DateProblem::Impossible => (
                        "That date doesn't exist. Please check the day and month.",
                        "Esa fecha no existe. Revise el día y el mes.",
                    ),
                    DateProblem::InTheFuture => (
                        "A date of birth can't be in the future. Please check the year.",
                        "La fecha de nacimiento no puede estar en el futuro. Revise el año.",
                    ),
                    DateProblem::TooLongAgo => (
                        "Please check the year of that date.",
                        "Revise el año de esa fecha.",
                    ),
                    DateProblem::Unreadable => (
                        "I couldn't read that date. Please type it like 03/14/1985.",
                        "No pude leer esa fecha. Escríbala así: 14/03/1985.",
                    ),
                };
                self.reask(s, lang, en, es).await
            }
        }
    }

    async fn on_code(mut self, s: &dyn Calendar, lang: Lang, said: &Utterance) -> Next {
        let code = appointments::normalize_code(said.text().trim());
        if code.len() != 8 {
            return self
                .reask(
                    s,
                    lang,
                    "The code has 8 letters and numbers, like K7M3Q9PX.",
                    "El código tiene 8 letras y números, como K7M3Q9PX.",
                )
                .await;
        }
        self.code = Some(code);
        self.step = Step::CodeDob;
        self.ask(s, lang).await
    }
}
