//! The booking flow: book, cancel or reschedule an appointment in the chat,
//! one question at a time, with choices at every step, free text accepted,
//! and a clear re-ask on bad input.

use jiff::civil::Date;

use super::kinds::Heard;
use super::text::t;
use super::when::{self, DateProblem};
use super::{Outcome, Reply, callback::valid_contact};
use crate::appointments::{self, BookError, Filter, LookupError, Patient, Scheduler, SlotId};
use crate::lang::Lang;
use crate::normalize;
use crate::store::{Appointment, Channel};
use crate::transcript::Choice;
use crate::utterance::Utterance;

/// Who books: the conversation (recorded on the appointment) and the
/// patient's client address (for the daily limit).
#[derive(Debug, Clone, Default)]
pub struct Requester {
    pub conversation: Option<String>,
    pub client: Option<std::net::IpAddr>,
}

/// What the patient wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Book,
    Cancel,
    Reschedule,
}

/// The question the flow is waiting on.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Type,
    Provider,
    Slot,
    Name,
    Dob,
    Contact,
    Channel,
    Confirm,
    Code,
    CodeDob,
    ConfirmCancel,
}

/// Everything gathered so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    intent: Intent,
    step: Step,
    type_id: Option<String>,
    filter: Filter,
    from: Option<Date>,
    slot: Option<SlotId>,
    name: Option<String>,
    dob: Option<Date>,
    phone: Option<String>,
    email: Option<String>,
    contact: Option<Channel>,
    code: Option<String>,
    /// The appointment being cancelled or moved.
    existing: Option<Appointment>,
    failures: u8,
    /// Where "later times" continues from: just after the last time shown.
    next_after: Option<jiff::Timestamp>,
}

impl Flow {
    /// The steps whose answer books, cancels or looks up an appointment.
    pub fn may_write(&self) -> bool {
        matches!(
            self.step,
            Step::Confirm | Step::CodeDob | Step::ConfirmCancel
        )
    }

    /// Whether the flow is asking which kind of appointment.
    pub fn wants_kind(&self) -> bool {
        self.step == Step::Type
    }
}

/// Open times offered per message.
const SLOTS_SHOWN: usize = 4;
/// Days searched for open times.
const SEARCH_DAYS: u32 = 21;
/// Kinds of appointment offered after a message that named none.
const KINDS_OFFERED: usize = 3;
/// Wrong code/birth-date pairs before the flow suggests a person.
const MAX_LOOKUP_FAILURES: u8 = 3;

fn choice(label: impl Into<String>, value: impl Into<String>) -> Choice {
    Choice {
        label: label.into(),
        value: value.into(),
    }
}

impl Flow {
    /// Starts a flow from the patient's words ("can I see Dr. Lee next week").
    pub async fn start(
        s: &Scheduler,
        lang: Lang,
        intent: Intent,
        said: &Utterance,
        heard: &Heard,
    ) -> (Option<Flow>, Outcome) {
        let clinic = s.clinic();
        let mut flow = Flow {
            intent,
            step: Step::Type,
            type_id: None,
            filter: Filter::default(),
            from: None,
            slot: None,
            name: None,
            dob: None,
            phone: None,
            email: None,
            contact: None,
            code: None,
            existing: None,
            failures: 0,
            next_after: None,
        };
        if intent != Intent::Book {
            flow.step = Step::Code;
            return flow.ask(s, lang).await;
        }
        flow.type_id = heard.kind.clone();
        flow.filter.provider = match_provider(&clinic.schedule, said);
        flow.apply_preference(said, &when::today(&clinic.timezone));
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

    /// Asks for the kind of appointment after a message that did not name
    /// one: what was understood first, then the closest kinds (or all of
    /// them when nothing ranks them) and a person.
    fn ask_kind(
        self,
        s: &Scheduler,
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
        let kinds: Vec<&crate::clinic::AppointmentType> = if ranked {
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
            super::CHOICE_HANDOFF,
        ));
        let mut flow = self;
        flow.step = Step::Type;
        (Some(flow), Outcome::reply(Reply::bot_with(text, choices)))
    }

    /// What the flow has understood besides the kind: a provider, a day, a
    /// part of the day, an hour.
    fn understood(&self, clinic: &crate::clinic::Clinic, lang: Lang) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(p) = self
            .filter
            .provider
            .as_deref()
            .and_then(|id| clinic.schedule.provider(id))
        {
            parts.push(match lang {
                Lang::En => format!("with {}", p.name),
                Lang::Es => format!("con {}", p.name),
            });
        }
        if let Some(from) = self.from {
            let day = appointments::day(from, lang);
            parts.push(match (self.filter.weekday.is_some(), lang) {
                (true, _) => day,
                (false, Lang::En) => format!("from {day}"),
                (false, Lang::Es) => format!("desde el {day}"),
            });
        }
        if let Some(part) = self.filter.part_of_day {
            use crate::appointments::PartOfDay;
            parts.push(
                match (part, lang) {
                    (PartOfDay::Morning, Lang::En) => "in the morning",
                    (PartOfDay::Afternoon, Lang::En) => "in the afternoon",
                    (PartOfDay::Evening, Lang::En) => "in the evening",
                    (PartOfDay::Morning, Lang::Es) => "por la mañana",
                    (PartOfDay::Afternoon, Lang::Es) => "por la tarde",
                    (PartOfDay::Evening, Lang::Es) => "por la noche",
                }
                .to_owned(),
            );
        }
        if let Some(hour) = self.filter.from_hour {
            parts.push(match lang {
                Lang::En => format!("from {}:00", hour),
                Lang::Es => format!("desde las {}:00", hour),
            });
        }
        parts
    }

    fn apply_preference(&mut self, said: &Utterance, today: &Date) {
        let p = when::parse_preference(said, *today);
        if p.is_empty() {
            return;
        }
        self.filter.part_of_day = p.part_of_day.or(self.filter.part_of_day);
        // An hour belongs to the words it came with ("Monday at 3pm").
        self.filter.from_hour = p.hour;
        self.filter.weekday = None;
        self.filter.after = None;
        self.from = p.on.or(p.from).or(self.from);
        if p.on.is_some() {
            self.filter.weekday = p.on.map(|d| d.weekday());
        }
    }

    /// Skips steps that need no question, then asks the next one.
    async fn advance(mut self, s: &Scheduler, lang: Lang) -> (Option<Flow>, Outcome) {
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

    /// Asks the current step's question (also used to re-ask after an
    /// interruption).
    pub async fn ask(self, s: &Scheduler, lang: Lang) -> (Option<Flow>, Outcome) {
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
            Step::Contact => Reply::bot(t(
                lang,
                "What phone number or email address can we reach you at?",
                "¿A qué teléfono o correo electrónico le podemos contactar?",
            )),
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

    async fn offer_slots(
        mut self,
        s: &Scheduler,
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
                    super::CHOICE_HANDOFF,
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

    /// Handles the patient's answer to the current question.
    pub async fn answer(
        mut self,
        s: &Scheduler,
        lang: Lang,
        said: &Utterance,
        picked: Option<&str>,
        heard: &Heard,
        who: Requester,
    ) -> (Option<Flow>, Outcome) {
        let clinic = s.clinic();
        let text = said.text().trim();
        match self.step {
            Step::Type => {
                let pressed = picked.and_then(|p| p.strip_prefix("type:"));
                if pressed == Some("all") {
                    return self.ask_kind(s, lang, &Heard::default(), false);
                }
                let id = match pressed {
                    Some(id) => Some(id.to_owned()),
                    None => heard.kind.clone(),
                };
                // Whatever else the message said is kept ("next Tuesday
                // morning", "with Dr. Lee").
                if picked.is_none() {
                    if let Some(p) = match_provider(&clinic.schedule, said) {
                        self.filter.provider = Some(p);
                    }
                    self.apply_preference(said, &when::today(&clinic.timezone));
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
            Step::Provider => {
                let pick = picked
                    .and_then(|p| p.strip_prefix("provider:"))
                    .map(str::to_owned);
                match pick.as_deref() {
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
                    self.apply_preference(said, &when::today(&clinic.timezone));
                }
                self.step = Step::Slot;
                self.ask(s, lang).await
            }
            Step::Slot => match picked.and_then(|p| p.strip_prefix("slot:")) {
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
                    self.apply_preference(said, &when::today(&clinic.timezone));
                    if (self.from, self.filter.clone()) == before {
                        let lead = t(
                            lang,
                            "Sorry, I didn't catch a day or time there. Pick one of these, or type something like \"next Tuesday morning\".",
                            "Perdón, no entendí el día u hora. Elija uno de estos o escriba algo como \"el martes por la mañana\".",
                        );
                        return self.offer_slots(s, lang, Some(lead)).await;
                    }
                    self.offer_slots(s, lang, None).await
                }
            },
            Step::Name => {
                if text.is_empty()
                    || text.chars().count() > 120
                    || !text.chars().any(char::is_alphabetic)
                {
                    return self
                        .reask(
                            s,
                            lang,
                            "Please type the patient's full name.",
                            "Escriba el nombre completo del paciente.",
                        )
                        .await;
                }
                self.name = Some(text.to_owned());
                self.step = Step::Dob;
                self.ask(s, lang).await
            }
            Step::Dob | Step::CodeDob => match when::parse_birth_date(said, lang) {
                Ok(dob) if self.step == Step::Dob => {
                    self.dob = Some(dob);
                    self.step = Step::Contact;
                    self.ask(s, lang).await
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
            },
            Step::Contact => {
                if let Some(email) = valid_contact(Channel::Email, text) {
                    self.email = Some(email);
                    self.contact = Some(Channel::Email);
                    self.step = Step::Confirm;
                } else if let Some(phone) = valid_contact(Channel::Phone, text) {
                    self.phone = Some(phone);
                    self.step = Step::Channel;
                } else {
                    return self.reask(s, lang, "Please type a phone number with area code (like 555-010-1234) or an email address.", "Escriba un teléfono con código de área (como 555-010-1234) o un correo electrónico.").await;
                }
                self.ask(s, lang).await
            }
            Step::Channel => {
                let lower = text.to_lowercase();
                self.contact = match picked {
                    Some("channel:phone") => Some(Channel::Phone),
                    Some("channel:text") => Some(Channel::Text),
                    _ if lower.contains("text")
                        || lower.contains("mensaje")
                        || lower.contains("sms") =>
                    {
                        Some(Channel::Text)
                    }
                    _ if lower.contains("call") || lower.contains("llam") => Some(Channel::Phone),
                    _ => {
                        return self
                            .reask(
                                s,
                                lang,
                                "Please choose Call or Text.",
                                "Elija Llamada o Mensaje de texto.",
                            )
                            .await;
                    }
                };
                self.step = Step::Confirm;
                self.ask(s, lang).await
            }
            Step::Confirm => match picked {
                Some("confirm:yes") => self.book(s, lang, who).await,
                Some("confirm:other") => {
                    self.filter.after = None;
                    self.offer_slots(s, lang, None).await
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
            },
            Step::Code => {
                let code = appointments::normalize_code(text);
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

    async fn reask(self, s: &Scheduler, lang: Lang, en: &str, es: &str) -> (Option<Flow>, Outcome) {
        let (flow, mut outcome) = self.ask(s, lang).await;
        outcome.replies.insert(0, Reply::bot(t(lang, en, es)));
        (flow, outcome)
    }

    async fn look_up(mut self, s: &Scheduler, lang: Lang, dob: Date) -> (Option<Flow>, Outcome) {
        let code = self.code.clone().unwrap_or_default();
        match s.find(&code, dob).await {
            Err(LookupError::TooManyTries) => (
                None,
                Outcome::reply(Reply::bot(t(
                    lang,
                    "There have been too many tries for that code. Please call the front desk, or ask to talk to a person.",
                    "Hubo demasiados intentos con ese código. Llame a recepción o pida hablar con una persona.",
                ))),
            ),
            Err(LookupError::Unavailable) => (
                None,
                Outcome::reply(Reply::bot(t(
                    lang,
                    "I can't look up appointments right now. Please try again in a moment, or ask to talk to a person.",
                    "No puedo buscar citas en este momento. Intente de nuevo en un momento o pida hablar con una persona.",
                ))),
            ),
            Ok(None) => {
                self.failures += 1;
                if self.failures >= MAX_LOOKUP_FAILURES {
                    return ended_with_person(
                        lang,
                        "I still can't find an appointment with that code and date of birth. A person can help.",
                        "Sigo sin encontrar una cita con ese código y fecha de nacimiento. Una persona le puede ayudar.",
                    );
                }
                self.step = Step::Code;
                self.code = None;
                self.reask(s, lang, "I couldn't find an appointment with that code and date of birth. Please check both and try again.", "No encontré una cita con ese código y fecha de nacimiento. Revise ambos e intente de nuevo.").await
            }
            Ok(Some(found)) => {
                self.type_id = Some(found.type_id.clone());
                self.existing = Some(found);
                if self.intent == Intent::Cancel {
                    self.step = Step::ConfirmCancel;
                    self.ask(s, lang).await
                } else {
                    self.step = Step::Slot;
                    self.offer_slots(
                        s,
                        lang,
                        Some(t(
                            lang,
                            "Found it. When would you like to move it to?",
                            "La encontré. ¿Para cuándo la quiere cambiar?",
                        )),
                    )
                    .await
                }
            }
        }
    }

    async fn cancel(self, s: &Scheduler, lang: Lang) -> (Option<Flow>, Outcome) {
        let Some(existing) = &self.existing else {
            return (None, Outcome::default());
        };
        let text = match s.cancel(existing).await {
            Ok(()) => t(
                lang,
                "Your appointment is cancelled. If you'd like a new one, just ask.",
                "Su cita está cancelada. Si quiere una nueva, solo pídalo.",
            ),
            Err(_) => t(
                lang,
                "I couldn't cancel that appointment just now. Please try again, or call the front desk.",
                "No pude cancelar la cita en este momento. Intente de nuevo o llame a recepción.",
            ),
        };
        (None, Outcome::reply(Reply::bot(text)))
    }

    async fn book(mut self, s: &Scheduler, lang: Lang, who: Requester) -> (Option<Flow>, Outcome) {
        let Some(slot) = self.slot.clone() else {
            self.step = Step::Slot;
            return self.ask(s, lang).await;
        };
        let result = match &self.existing {
            Some(existing) => s.reschedule(existing, &slot).await,
            None => {
                let patient = Patient {
                    name: self.name.clone().unwrap_or_default(),
                    dob: self.dob.unwrap_or_default(),
                    phone: self.phone.clone(),
                    email: self.email.clone(),
                    contact: self.contact.unwrap_or(Channel::Phone),
                };
                s.book_from_chat(&slot, &patient, who.conversation, who.client)
                    .await
            }
        };
        match result {
            Ok(booked) => {
                let clinic = s.clinic();
                let when = appointments::describe(&clinic, &booked.slot, lang);
                let link = format!("/calendar/{}-{}.ics", booked.code, booked.ics_token);
                let (text, html) = match lang {
                    Lang::En => (
                        format!(
                            "You're booked: {when}. Your confirmation code is {}. Keep it to cancel or reschedule. Add it to your calendar: {link}",
                            booked.code
                        ),
                        format!(
                            "<p>You're booked: {when}.</p><p>Your confirmation code is <strong>{}</strong>. Keep it to cancel or reschedule.</p><p><a href=\"{link}\" target=\"_blank\" rel=\"noopener noreferrer\">Add to calendar</a></p>",
                            booked.code
                        ),
                    ),
                    Lang::Es => (
                        format!(
                            "Su cita está reservada: {when}. Su código de confirmación es {}. Guárdelo para cancelar o cambiar la cita. Agréguela a su calendario: {link}",
                            booked.code
                        ),
                        format!(
                            "<p>Su cita está reservada: {when}.</p><p>Su código de confirmación es <strong>{}</strong>. Guárdelo para cancelar o cambiar la cita.</p><p><a href=\"{link}\" target=\"_blank\" rel=\"noopener noreferrer\">Agregar al calendario</a></p>",
                            booked.code
                        ),
                    ),
                };
                let mut reply = Reply::bot(text);
                reply.details.html = Some(html);
                (None, Outcome::reply(reply))
            }
            Err(BookError::Taken | BookError::NotOffered) => {
                self.slot = None;
                self.filter.after = None;
                let lead = t(
                    lang,
                    "Sorry, that time was just taken. Here are the next open times:",
                    "Lo siento, ese horario se acaba de ocupar. Estos son los próximos disponibles:",
                );
                self.offer_slots(s, lang, Some(lead)).await
            }
            Err(BookError::Limit) => ended_with_person(
                lang,
                "I can't book more appointments from this chat today. Someone from our front desk can help you with this one.",
                "No puedo reservar más citas desde este chat hoy. Alguien de nuestra recepción le puede ayudar con esta.",
            ),
            Err(_) => (
                Some(self),
                Outcome::reply(Reply::bot(t(
                    lang,
                    "I couldn't save the booking just now. Please try \"Yes, book it\" again in a moment.",
                    "No pude guardar la reserva. Intente \"Sí, reservar\" de nuevo en un momento.",
                ))),
            ),
        }
    }

    fn summary(&self, clinic: &crate::clinic::Clinic, lang: Lang) -> String {
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
        let reach = match (self.contact, &self.phone, &self.email) {
            (Some(Channel::Email), _, Some(e)) => e.clone(),
            (_, Some(p), _) => p.clone(),
            _ => String::new(),
        };
        let how = match (lang, self.contact) {
            (Lang::En, Some(Channel::Text)) => "text",
            (Lang::En, Some(Channel::Email)) => "email",
            (Lang::En, _) => "call",
            (Lang::Es, Some(Channel::Text)) => "mensaje de texto a",
            (Lang::Es, Some(Channel::Email)) => "correo a",
            (Lang::Es, _) => "llamada a",
        };
        let name = self.name.clone().unwrap_or_default();
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
fn ended_with_person(lang: Lang, en: &str, es: &str) -> (Option<Flow>, Outcome) {
    let reply = Reply::bot_with(
        t(lang, en, es),
        vec![choice(
            t(lang, "Talk to a person", "Hablar con una persona"),
            super::CHOICE_HANDOFF,
        )],
    );
    (None, Outcome::reply(reply))
}

/// Starts the next question with the kind understood from the patient's
/// words ("For a sick visit: ..."), so a wrong guess shows at once.
fn say_kind(
    mut outcome: Outcome,
    clinic: &crate::clinic::Clinic,
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

fn describe_existing(clinic: &crate::clinic::Clinic, a: &Appointment, lang: Lang) -> String {
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

fn type_name(k: &crate::clinic::AppointmentType, lang: Lang) -> String {
    match (lang, &k.name_es) {
        (Lang::Es, Some(es)) => es.clone(),
        _ => k.name.clone(),
    }
}

fn is_yes(said: &Utterance) -> bool {
    let words = said.first_words(6);
    !words.is_empty()
        && words.iter().all(|w| {
            [
                "yes", "yeah", "yep", "sure", "ok", "okay", "please", "si", "claro", "book", "it",
                "reservar", "confirm",
            ]
            .contains(&w.as_str())
        })
}

/// "Whoever is free first", "no preference", "me da igual".
fn no_preference(said: &Utterance) -> bool {
    let words: Vec<String> = said
        .first_words(12)
        .iter()
        .map(|w| w.replace(['\'', '\u{2019}'], ""))
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    [
        "any",
        "anyone",
        "anybody",
        "whoever",
        "cualquier",
        "cualquiera",
        "igual",
        "primero",
    ]
    .iter()
    .any(|w| has(w))
        || (has("no") && (has("preference") || has("preferencia") || has("importa")))
        || ((has("doesnt") || has("dont")) && (has("matter") || has("care")))
        || (has("first") && (has("available") || has("free") || has("open")))
}

/// A provider named in free text ("Dr. Lee", "Patel").
fn match_provider(schedule: &crate::clinic::Schedule, said: &Utterance) -> Option<String> {
    let words = said.words();
    schedule.providers.iter().find_map(|p| {
        let names: Vec<String> = normalize::words(&p.name)
            .filter(|w| w.len() > 2 && !["dr", "np", "md"].contains(&w.as_str()))
            .collect();
        names
            .iter()
            .any(|n| words.contains(n))
            .then(|| p.id.clone())
    })
}
