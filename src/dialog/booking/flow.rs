//! What the booking flow has gathered, and which question it waits on.

use jiff::civil::Date;

use super::super::contact::Recalled;
use super::super::when;
use crate::appointments::{self, Filter, SlotId};
use crate::clinic::Clinic;
use crate::lang::Lang;
use crate::patient::{BirthDate, Channel, Contact, Email, PatientName, PhoneNumber, Preference};
use crate::store::Appointment;
use crate::utterance::Utterance;

/// Who books: the conversation (recorded on the appointment) and the
/// patient's client address (for the daily limit).
#[derive(Debug, Clone, Default)]
pub struct Requester {
    pub conversation: Option<String>,
    pub client: Option<std::net::IpAddr>,
    /// The chat's language: the confirmation is sent in it.
    pub lang: Lang,
}

/// What the patient wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Book,
    Cancel,
    Reschedule,
}

/// The question the flow is waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Type,
    Provider,
    Slot,
    Name,
    Dob,
    /// The contact remembered from last time is offered: yes, or another.
    Recalled,
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
    pub(super) intent: Intent,
    pub(super) step: Step,
    pub(super) type_id: Option<String>,
    pub(super) filter: Filter,
    pub(super) from: Option<Date>,
    pub(super) slot: Option<SlotId>,
    pub(super) name: Option<PatientName>,
    pub(super) dob: Option<BirthDate>,
    pub(super) phone: Option<PhoneNumber>,
    pub(super) email: Option<Email>,
    pub(super) contact: Option<Channel>,
    /// How the patient asked to be reached last time, if they did.
    pub(super) recalled: Option<Recalled>,
    /// The contact is the remembered one: the bot shows only its end.
    pub(super) remembered: bool,
    pub(super) code: Option<String>,
    /// The appointment being cancelled or moved.
    pub(super) existing: Option<Appointment>,
    pub(super) failures: u8,
    /// Where "later times" continues from: just after the last time shown.
    pub(super) next_after: Option<jiff::Timestamp>,
}

impl Flow {
    pub(super) fn new(intent: Intent) -> Flow {
        Flow {
            intent,
            step: if intent == Intent::Book {
                Step::Type
            } else {
                Step::Code
            },
            type_id: None,
            filter: Filter::default(),
            from: None,
            slot: None,
            name: None,
            dob: None,
            phone: None,
            email: None,
            contact: None,
            recalled: None,
            remembered: false,
            code: None,
            existing: None,
            failures: 0,
            next_after: None,
        }
    }

    /// The steps whose answer books, cancels or looks up an appointment.
    pub fn may_write(&self) -> bool {
        matches!(
            self.step,
            Step::Confirm | Step::CodeDob | Step::ConfirmCancel
        )
    }

    /// Whether the answer awaited (the date of birth) leads to the contact
    /// question: the engine then looks up what is remembered first.
    pub fn asks_contact_next(&self) -> bool {
        self.step == Step::Dob
    }

    /// The flow, knowing how the patient asked to be reached last time.
    pub fn with_recalled(mut self, recalled: Option<Recalled>) -> Flow {
        self.recalled = recalled;
        self
    }

    /// To be reached as `reach` says (`remembered`: from last time).
    pub(super) fn reach_by(&mut self, reach: &Preference, remembered: bool) {
        match reach.contact() {
            Contact::Phone(p) => self.phone = Some(p.clone()),
            Contact::Email(e) => self.email = Some(e.clone()),
        }
        self.contact = Some(reach.channel());
        self.remembered = remembered;
    }

    /// The channel chosen with the number or address it uses.
    pub(super) fn reach(&self) -> Option<Preference> {
        let channel = self.contact?;
        let contact = match channel {
            Channel::Email => Contact::Email(self.email.clone()?),
            Channel::Phone | Channel::Text => Contact::Phone(self.phone.clone()?),
        };
        Preference::new(channel, contact).ok()
    }

    /// Whether the flow is asking which kind of appointment.
    pub fn wants_kind(&self) -> bool {
        self.step == Step::Type
    }

    /// What the flow has understood besides the kind: a provider, a day, a
    /// part of the day, an hour.
    pub(super) fn understood(&self, clinic: &Clinic, lang: Lang) -> Vec<String> {
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

    /// Keeps a day, part of the day or hour the patient's words name.
    pub(super) fn apply_preference(&mut self, said: &Utterance, clinic: &Clinic) {
        let p = when::parse_preference(said, when::today(&clinic.timezone));
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
}
