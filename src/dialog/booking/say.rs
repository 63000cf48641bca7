//! What the bot says at each step: the questions, the open times offered,
//! the summary to confirm, and how an appointment is described.

use super::calendar::Calendar;
use super::flow::{Flow, Step};
use super::{KINDS_OFFERED, SEARCH_DAYS, SLOTS_SHOWN, choice};
use crate::appointments;
use crate::clinic::{AppointmentType, Clinic};
use crate::dialog::contact;
use crate::dialog::kinds::Heard;
use crate::dialog::text::t;
use crate::dialog::{CHOICE_HANDOFF, Outcome, Reply};
use crate::lang::Lang;
use crate::patient::Channel;
use crate::store::Appointment;
use crate::transcript::Choice;

impl Flow {
    /// Asks for the kind of appointment after a message that did not name
    /// one: what was understood first, then the closest kinds (or all of
    /// them when nothing ranks them) and a person.
    pub(super) fn ask_kind(
        self,
        s: &dyn Calendar,
        lang: Lang,
        heard: &Heard,
        missed: bool,
    ) -> (Option<Flow>, Outcome) {
        let clinic = s.clinic();
        let understood = self.understood(&clinic, lang);
        let mut text = String::new();
        if !understood.is_empty() {
            text.push_str(&match lang {
                Lang::En => format!("Got it: {}. ", understood.join(", ")),
                Lang::Es => format!("Entendido: {}. ", understood.join(", ")),
            });
        } else if missed {
            text.push_str(t(
                lang,
                "I couldn't tell which kind of appointment that is. ",
                "No pude saber qué tipo de cita es. ",
            ));
        }
        let ranked = !heard.closest.is_empty();
        text.push_str(match (ranked, lang) {
            (true, Lang::En) => "Which kind of appointment is it? These seem closest:",
            (true, Lang::Es) => "¿Qué tipo de cita es? Estas parecen las más cercanas:",
            (false, _) => t(
                lang,
                "Which kind of appointment is it?",
                "¿Qué tipo de cita es?",
            ),
        });
        let kinds: Vec<&AppointmentType> = if ranked {
            heard
                .closest
                .iter()
                .filter_map(|id| clinic.schedule.appointment_type(id))
                .take(KINDS_OFFERED)
                .collect()
        } else {
            clinic.schedule.types.iter().collect()
        };
        let mut choices: Vec<Choice> = kinds
            .into_iter()
            .map(|k| choice(type_name(k, lang), format!("type:{}", k.id)))
            .collect();
        if ranked && clinic.schedule.types.len() > KINDS_OFFERED {
            choices.push(choice(t(lang, "Something else", "Otro tipo"), "type:all"));
        }
        choices.push(choice(
            t(lang, "Talk to a person", "Hablar con una persona"),
            CHOICE_HANDOFF,
        ));
        let mut flow = self;
        flow.step = Step::Type;
        (Some(flow), Outcome::reply(Reply::bot_with(text, choices)))
    }

    /// Asks the current step's question (also used to re-ask after an
    /// interruption).
    pub async fn ask(self, s: &dyn Calendar, lang: Lang) -> (Option<Flow>, Outcome) {
        let clinic = s.clinic();
        let reply = match self.step {
            Step::Type => {
                let choices = clinic
                    .schedule
                    .types
                    .iter()
                    .map(|k| choice(type_name(k, lang), format!("type:{}", k.id)))
                    .collect();
                Reply::bot_with(
                    t(
                        lang,
                        "What kind of appointment do you need?",
                        "¿Qué tipo de cita necesita?",
                    ),
                    choices,
                )
            }
            Step::Provider => {
                let kind = self
                    .type_id
                    .as_deref()
                    .and_then(|id| clinic.schedule.appointment_type(id));
                let mut choices = vec![choice(
                    t(lang, "First available", "El primero disponible"),
                    "provider:any",
                )];
                for p in kind
                    .iter()
                    .flat_map(|k| k.providers.iter())
                    .filter_map(|p| clinic.schedule.provider(p))
                {
                    choices.push(choice(p.name.clone(), format!("provider:{}", p.id)));
                }
                Reply::bot_with(
                    t(
                        lang,
                        "Would you like a particular provider?",
                        "¿Prefiere a algún profesional en particular?",
                    ),
                    choices,
                )
            }
            Step::Slot => return self.offer_slots(s, lang, None).await,
            Step::Name => Reply::bot(t(
                lang,
                "What is the patient's full name?",
                "¿Cuál es el nombre completo del paciente?",
            )),
            Step::Dob => Reply::bot(t(
                lang,
                "What is the patient's date of birth? (for example 03/14/1985)",
                "¿Cuál es la fecha de nacimiento del paciente? (por ejemplo 14/03/1985)",
            )),
            // After "text me instead" with no number known: for that channel.
            Step::Contact => Reply::bot(match self.contact {
                Some(channel) => contact::ask_for(lang, channel),
                None => t(
                    lang,
                    "What phone number or email address can we reach you at?",
                    "¿A qué teléfono o correo electrónico le podemos contactar?",
                ),
            }),
            Step::Recalled => match &self.recalled {
                Some(r) => contact::offer(lang, &r.preference),
                None => Reply::bot(t(
                    lang,
                    "What phone number or email address can we reach you at?",
                    "¿A qué teléfono o correo electrónico le podemos contactar?",
                )),
            },
            Step::Channel => Reply::bot_with(
                t(
                    lang,
                    "Should we call or text that number?",
                    "¿Prefiere que le llamemos o le enviemos un mensaje de texto?",
                ),
                vec![
                    choice(t(lang, "Call", "Llamada"), "channel:phone"),
                    choice(t(lang, "Text", "Mensaje de texto"), "channel:text"),
                ],
            ),
            Step::Confirm => Reply::bot_with(
                self.summary(&clinic, lang),
                vec![
                    choice(t(lang, "Yes, book it", "Sí, reservar"), "confirm:yes"),
                    choice(
                        t(lang, "Pick another time", "Elegir otro horario"),
                        "confirm:other",
                    ),
                    choice(t(lang, "Cancel", "Cancelar"), "flow:stop"),
                ],
            ),
            Step::Code => Reply::bot(t(
                lang,
                "What is the confirmation code of the appointment? (8 letters and numbers)",
                "¿Cuál es el código de confirmación de la cita? (8 letras y números)",
            )),
            Step::CodeDob => Reply::bot(t(
                lang,
                "And the patient's date of birth?",
                "¿Y la fecha de nacimiento del paciente?",
            )),
            Step::ConfirmCancel => {
                let existing = self
                    .existing
                    .as_ref()
                    .map(|a| describe_existing(&clinic, a, lang))
                    .unwrap_or_default();
                Reply::bot_with(
                    match lang {
                        Lang::En => format!("I found your {existing}. Cancel it?"),
                        Lang::Es => format!("Encontré su {existing}. ¿La cancelo?"),
                    },
                    vec![
                        choice(t(lang, "Yes, cancel it", "Sí, cancelarla"), "confirm:yes"),
                        choice(t(lang, "No, keep it", "No, mantenerla"), "flow:stop"),
                    ],
                )
            }
        };
        (Some(self), Outcome::reply(reply))
    }

    pub(super) async fn offer_slots(
        mut self,
        s: &dyn Calendar,
        lang: Lang,
        lead: Option<&str>,
    ) -> (Option<Flow>, Outcome) {
        let clinic = s.clinic();
        let Some(type_id) = self.type_id.clone() else {
            self.step = Step::Type;
            return Box::pin(self.ask(s, lang)).await;
        };
        let mut found = s
            .open_slots(&type_id, self.from, SEARCH_DAYS, &self.filter, SLOTS_SHOWN)
            .await;
        if found.as_ref().is_ok_and(Vec::is_empty) && self.filter.from_hour.is_some() {
            // Nothing from the asked hour on: that part of the day, earlier.
            self.filter.from_hour = None;
            found = s
                .open_slots(&type_id, self.from, SEARCH_DAYS, &self.filter, SLOTS_SHOWN)
                .await;
        }
        let found = match found {
            Ok(found) => found,
            Err(_) => {
                return (
                    None,
                    Outcome::reply(Reply::bot(t(
                        lang,
                        "I can't look up open times right now. Please try again in a moment, or call us.",
                        "No puedo consultar los horarios en este momento. Intente de nuevo en un momento o llámenos.",
                    ))),
                );
            }
        };
        if found.is_empty() {
            let text = t(
                lang,
                "I don't see open times that match. You can type another day or time (like \"next Tuesday\"), or talk to a person.",
                "No veo horarios disponibles que coincidan. Puede escribir otro día u hora (como \"el martes\") o hablar con una persona.",
            );
            let choices = vec![
                choice(t(lang, "Any time", "Cualquier horario"), "slot:any"),
                choice(
                    t(lang, "Talk to a person", "Hablar con una persona"),
                    CHOICE_HANDOFF,
                ),
            ];
            return (Some(self), Outcome::reply(Reply::bot_with(text, choices)));
        }
        let mut choices: Vec<Choice> = found
            .iter()
            .map(|slot| {
                choice(
                    appointments::describe(&clinic, slot, lang),
                    format!("slot:{}", slot.id),
                )
            })
            .collect();
        choices.push(choice(t(lang, "Later times", "Más tarde"), "slot:later"));
        self.next_after = found.last().map(|slot| {
            slot.start
                .checked_add(jiff::SignedDuration::from_secs(1))
                .unwrap_or(slot.start)
        });
        let text = lead.map(str::to_owned).unwrap_or_else(|| {
            t(lang, "Here are the next open times. Pick one, or type a day or time that suits you (like \"tomorrow afternoon\").", "Estos son los próximos horarios disponibles. Elija uno o escriba el día u hora que le convenga (como \"mañana por la tarde\").").to_owned()
        });
        let mut flow = self;
        flow.step = Step::Slot;
        (Some(flow), Outcome::reply(Reply::bot_with(text, choices)))
    }

    pub(super) async fn reask(
        self,
        s: &dyn Calendar,
        lang: Lang,
        en: &str,
        es: &str,
    ) -> (Option<Flow>, Outcome) {
        let (flow, mut outcome) = self.ask(s, lang).await;
        outcome.replies.insert(0, Reply::bot(t(lang, en, es)));
        (flow, outcome)
    }

    pub(super) fn summary(&self, clinic: &Clinic, lang: Lang) -> String {
        let kind = self
            .type_id
            .as_deref()
            .and_then(|id| clinic.schedule.appointment_type(id))
            .map(|k| type_name(k, lang))
            .unwrap_or_default();
        let slot = self.slot.as_ref().and_then(|id| {
            let start = jiff::Timestamp::from_second(id.start).ok()?;
            let end = start;
            Some(appointments::describe(
                clinic,
                &appointments::Slot {
                    id: id.clone(),
                    start,
                    end,
                },
                lang,
            ))
        });
        let slot = slot.unwrap_or_default();
        if let Some(existing) = &self.existing {
            let old = describe_existing(clinic, existing, lang);
            return match lang {
                Lang::En => format!("Move your {old} to {slot}?"),
                Lang::Es => format!("¿Cambiar su {old} a {slot}?"),
            };
        }
        // A remembered contact is shown by its end only.
        let (reach, at) = match self.reach() {
            Some(p) => (
                contact::shown(lang, p.contact(), self.remembered),
                contact::at(lang, p.contact(), self.remembered),
            ),
            None => Default::default(),
        };
        let (how, reach) = match (lang, self.contact) {
            (Lang::En, Some(Channel::Text)) => ("text", reach),
            (Lang::En, Some(Channel::Email)) => ("email", reach),
            (Lang::En, _) => ("call", reach),
            (Lang::Es, Some(Channel::Text)) => ("mensaje de texto", at),
            (Lang::Es, Some(Channel::Email)) => ("correo", at),
            (Lang::Es, _) => ("llamada", at),
        };
        let name = self.name.as_ref().map(|n| n.as_str()).unwrap_or_default();
        let dob = self.dob.map(|d| d.to_string()).unwrap_or_default();
        match lang {
            Lang::En => format!(
                "Please check: {kind}, {slot}, for {name} (born {dob}). We'll {how} {reach} if anything changes. Book it?"
            ),
            Lang::Es => format!(
                "Revise por favor: {kind}, {slot}, para {name} (nacimiento {dob}). Si algo cambia le enviaremos {how} {reach}. ¿La reservo?"
            ),
        }
    }
}

/// Ends the flow with `en`/`es` and a "Talk to a person" button.
pub(super) fn ended_with_person(lang: Lang, en: &str, es: &str) -> (Option<Flow>, Outcome) {
    let reply = Reply::bot_with(
        t(lang, en, es),
        vec![choice(
            t(lang, "Talk to a person", "Hablar con una persona"),
            CHOICE_HANDOFF,
        )],
    );
    (None, Outcome::reply(reply))
}

/// Starts the next question with the kind understood from the patient's
/// words ("For a sick visit: ..."), so a wrong guess shows at once.
pub(super) fn say_kind(
    mut outcome: Outcome,
    clinic: &Clinic,
    heard: &Heard,
    lang: Lang,
) -> Outcome {
    let Some(kind) = heard
        .kind
        .as_deref()
        .and_then(|id| clinic.schedule.appointment_type(id))
    else {
        return outcome;
    };
    let name = type_name(kind, lang).to_lowercase();
    if let Some(first) = outcome.replies.first_mut() {
        first.text = match lang {
            Lang::En if name.starts_with(['a', 'e', 'i', 'o', 'u']) => {
                format!("For an {name}: {}", first.text)
            }
            Lang::En => format!("For a {name}: {}", first.text),
            Lang::Es => format!("Para {name}: {}", first.text),
        };
    }
    outcome
}

pub(super) fn describe_existing(clinic: &Clinic, a: &Appointment, lang: Lang) -> String {
    let kind = clinic
        .schedule
        .appointment_type(&a.type_id)
        .map(|k| type_name(k, lang))
        .unwrap_or_else(|| a.type_id.clone());
    let start = jiff::Timestamp::from_second(a.starts_at).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let when = appointments::when(clinic, start, lang);
    match lang {
        Lang::En => format!("{} on {when}", kind.to_lowercase()),
        Lang::Es => format!("cita de {} el {when}", kind.to_lowercase()),
    }
}

pub(super) fn type_name(k: &AppointmentType, lang: Lang) -> String {
    match (lang, &k.name_es) {
        (Lang::Es, Some(es)) => es.clone(),
        _ => k.name.clone(),
    }
}
