//! The calls that change or read appointments: look up by code, cancel,
//! book or move. Each turns the calendar's answer into what the patient is
//! told next.

use super::MAX_LOOKUP_FAILURES;
use super::calendar::Calendar;
use super::flow::{Flow, Intent, Requester, Step};
use super::say::ended_with_person;
use crate::appointments::{self, BookError, LookupError};
use crate::dialog::text::t;
use crate::dialog::{Outcome, Reply};
use crate::lang::Lang;
use crate::patient::{BirthDate, Channel, Patient};

impl Flow {
    pub(super) async fn look_up(
        mut self,
        s: &dyn Calendar,
        lang: Lang,
        dob: BirthDate,
    ) -> (Option<Flow>, Outcome) {
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

    pub(super) async fn cancel(self, s: &dyn Calendar, lang: Lang) -> (Option<Flow>, Outcome) {
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

    pub(super) async fn book(
        mut self,
        s: &dyn Calendar,
        lang: Lang,
        who: Requester,
    ) -> (Option<Flow>, Outcome) {
        let Some(slot) = self.slot.clone() else {
            self.step = Step::Slot;
            return self.ask(s, lang).await;
        };
        let result = match &self.existing {
            Some(existing) => s.reschedule(existing, &slot).await,
            None => {
                let (Some(name), Some(dob)) = (self.name.clone(), self.dob) else {
                    self.step = Step::Name;
                    return self.ask(s, lang).await;
                };
                let patient = Patient {
                    name,
                    dob,
                    phone: self.phone.clone(),
                    email: self.email.clone(),
                    contact: self.contact.unwrap_or(Channel::Phone),
                };
                s.book(&slot, &patient, who).await
            }
        };
        match result {
            Ok(booked) => {
                // A new booking's contact is remembered for next time.
                let settled = self.existing.is_none().then(|| self.reach()).flatten();
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
                let mut outcome = Outcome::reply(reply);
                outcome.settled = settled;
                (None, outcome)
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
}
