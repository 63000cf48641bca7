//! Appointment booking: open slots from the clinic schedule, booking,
//! cancelling and rescheduling, for the chat flow and the console API alike.
//! The database, not this module, guarantees that no provider is booked
//! twice at once.

pub mod api;
pub mod burst;
pub mod ics;
pub mod slots;
mod words;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use crate::clinic::{Clinic, ClinicHandle};
use crate::lang::Lang;
use crate::patient::{BirthDate, Email, Patient, PhoneNumber};
use crate::staff::throttle::SharedThrottle;
use crate::store::{
    Appointment, ChannelsOn, MessageKind, NewAppointment, NewOutbound, Store, StoreError, Writer,
};

pub use slots::{Filter, PartOfDay, Slot, SlotId};
pub use words::{day, describe, when};

/// Where a booking came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Chat,
    Agent(i64),
}

/// Why a booking did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("that time was just taken")]
    Taken,
    #[error("that time is not open for booking")]
    NotOffered,
    #[error("no such appointment")]
    NotFound,
    /// The chat's daily booking limit for this visitor, contact or address.
    #[error("the daily booking limit in the chat is reached")]
    Limit,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for BookError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => BookError::Taken,
            StoreError::NotFound => BookError::NotFound,
            other => BookError::Store(other),
        }
    }
}

/// A successful booking.
#[derive(Debug, Clone)]
pub struct Booked {
    pub code: String,
    pub slot: Slot,
    pub ics_token: String,
}

/// Why an appointment could not be looked up by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// The code failed too often in the window: locked for a while.
    TooManyTries,
    /// The database could not count the attempt.
    Unavailable,
}

pub struct Scheduler {
    clinic: ClinicHandle,
    store: Store,
    writer: Writer,
    lookups: SharedThrottle,
    limits: ChatBookingLimits,
    /// Chat bookings from each client address in the last day.
    by_address: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, Vec<Timestamp>>>,
    /// Chat bookings refused by a limit since start (for /metrics).
    limited: std::sync::atomic::AtomicU64,
    /// Many chat bookings in a short time: supervisors are alerted.
    bursts: burst::BurstWatch,
    /// A booking writes its confirmation to the outbox in the channel its
    /// patient chose, when that channel is on.
    confirm_by: ChannelsOn,
}

/// Bookings one chat visitor, one phone number or e-mail address, and one
/// client address may make in the chat per 24 hours. Staff bookings through
/// the API are not limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatBookingLimits {
    pub per_visitor: u32,
    pub per_contact: u32,
    pub per_address: u32,
    /// Chat bookings and refused attempts within 10 minutes that alert
    /// supervisors; 0 turns the alert off.
    pub burst: u32,
}

impl Default for ChatBookingLimits {
    fn default() -> Self {
        ChatBookingLimits {
            per_visitor: 3,
            per_contact: 3,
            per_address: 10,
            burst: 20,
        }
    }
}

/// Client addresses remembered for the address limit.
const MAX_ADDRESSES: usize = 10_000;

/// Code alphabet: no 0/O, 1/I/L look-alikes.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;

impl Scheduler {
    pub fn new(clinic: ClinicHandle, store: Store, writer: Writer) -> Self {
        Scheduler {
            clinic,
            lookups: SharedThrottle::new(store.clone(), "lookup"),
            store,
            writer,
            limits: ChatBookingLimits::default(),
            by_address: Default::default(),
            limited: Default::default(),
            bursts: burst::BurstWatch::new(ChatBookingLimits::default().burst),
            confirm_by: ChannelsOn::default(),
        }
    }

    /// Confirms bookings in these channels, to patients who chose them.
    pub fn confirming_by(mut self, channels: ChannelsOn) -> Self {
        self.confirm_by = channels;
        self
    }

    pub fn with_limits(mut self, limits: ChatBookingLimits) -> Self {
        self.limits = limits;
        self.bursts = burst::BurstWatch::new(limits.burst);
        self
    }

    /// Unusual chat booking activity, for supervisors.
    pub fn bursts(&self) -> &burst::BurstWatch {
        &self.bursts
    }

    /// Chat bookings refused by a daily limit since the server started.
    pub fn limited(&self) -> u64 {
        self.limited.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Refuses a chat booking over a daily limit, counting the refusal.
    async fn check_chat_limits(
        &self,
        patient: &Patient,
        conversation: Option<&str>,
        client: Option<std::net::IpAddr>,
    ) -> Result<(), BookError> {
        let now = Timestamp::now();
        let day_ago = now - jiff::SignedDuration::from_hours(24);
        let over_address = client.is_some_and(|a| {
            let mut map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
            let times = map.entry(a).or_default();
            times.retain(|t| *t > day_ago);
            times.len() >= self.limits.per_address as usize
        });
        let since = day_ago
            .round(jiff::Unit::Millisecond)
            .unwrap_or(day_ago)
            .to_string();
        let (by_visitor, by_contact) = self
            .store
            .chat_bookings_since(
                &since,
                conversation,
                patient.phone.as_ref().map(PhoneNumber::as_str),
                patient.email.as_ref().map(Email::as_str),
            )
            .await?;
        let which = if over_address {
            Some("address")
        } else if by_visitor >= i64::from(self.limits.per_visitor) {
            Some("visitor")
        } else if by_contact >= i64::from(self.limits.per_contact) {
            Some("contact")
        } else {
            None
        };
        if let Some(which) = which {
            self.limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(limit = which, "chat booking refused: daily limit reached");
            self.bursts.record(true, now);
            return Err(BookError::Limit);
        }
        Ok(())
    }

    fn count_address(&self, client: Option<std::net::IpAddr>) {
        let Some(a) = client else { return };
        let mut map = self.by_address.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&a) {
            let day_ago = Timestamp::now() - jiff::SignedDuration::from_hours(24);
            map.retain(|_, times| times.iter().any(|t| *t > day_ago));
            if map.len() >= MAX_ADDRESSES {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, times)| times.last().copied())
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    map.remove(&k);
                }
            }
        }
        map.entry(a).or_default().push(Timestamp::now());
    }

    pub fn clinic(&self) -> std::sync::Arc<Clinic> {
        self.clinic.get()
    }

    /// Open slots of a type, soonest first.
    pub async fn open_slots(
        &self,
        type_id: &str,
        from: Option<Date>,
        days: u32,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<Slot>, StoreError> {
        let clinic = self.clinic.get();
        let now = Timestamp::now();
        let tz = clinic.timezone.clone();
        let from = from.unwrap_or_else(|| now.to_zoned(tz.clone()).date());
        let window_start = from
            .to_zoned(tz.clone())
            .map(|z| z.timestamp().as_second())
            .unwrap_or(now.as_second());
        let window_end = window_start + i64::from(days.min(366) + 1) * 86_400;
        let busy = self
            .store
            .busy(window_start, window_end)
            .await?
            .into_iter()
            .map(|(provider, start, end)| slots::Busy {
                provider,
                start,
                end,
            })
            .collect::<Vec<_>>();
        Ok(slots::open_slots(
            &clinic.schedule,
            &tz,
            type_id,
            from,
            days,
            now,
            &busy,
            filter,
            limit,
        ))
    }

    /// Books `slot` for `patient`. The slot is re-checked against the
    /// schedule; the store refuses it if the provider's time is taken.
    /// Books `slot` (staff, through the API); the confirmation, if the
    /// patient chose e-mail, goes out in `lang`.
    pub async fn book(
        &self,
        slot: &SlotId,
        patient: &Patient,
        source: Source,
        conversation: Option<String>,
        lang: Lang,
    ) -> Result<Booked, BookError> {
        self.store_booking(slot, patient, source, conversation, None, lang)
            .await
    }

    /// Books from the chat, within the daily limits per visitor, contact
    /// and client address.
    pub async fn book_from_chat(
        &self,
        slot: &SlotId,
        patient: &Patient,
        conversation: Option<String>,
        client: Option<std::net::IpAddr>,
        lang: Lang,
    ) -> Result<Booked, BookError> {
        self.check_chat_limits(patient, conversation.as_deref(), client)
            .await?;
        let booked = self
            .store_booking(slot, patient, Source::Chat, conversation, None, lang)
            .await?;
        self.count_address(client);
        self.bursts.record(false, Timestamp::now());
        Ok(booked)
    }

    fn notice(&self, kind: MessageKind, patient: &Patient, lang: Lang) -> Option<NewOutbound> {
        NewOutbound::to_patient(kind, patient, lang, self.confirm_by)
    }

    /// Moves a booked appointment to `slot` in one step: the new time is
    /// taken and the old one freed together, or neither.
    pub async fn reschedule(&self, old: &Appointment, slot: &SlotId) -> Result<Booked, BookError> {
        if slot.type_id != old.type_id {
            return Err(BookError::NotOffered);
        }
        self.store_booking(
            slot,
            &old.patient,
            Source::Chat,
            None,
            Some(old.id),
            old.lang,
        )
        .await
    }

    async fn store_booking(
        &self,
        slot: &SlotId,
        patient: &Patient,
        source: Source,
        conversation: Option<String>,
        replaces: Option<i64>,
        lang: Lang,
    ) -> Result<Booked, BookError> {
        let clinic = self.clinic.get();
        let checked = slots::validate(&clinic.schedule, &clinic.timezone, slot, Timestamp::now())
            .ok_or(BookError::NotOffered)?;
        let code = random_code();
        let ics_token = crate::ids::hex(&crate::ids::random_bytes::<16>());
        let appointment = NewAppointment {
            code: code.clone(),
            type_id: slot.type_id.clone(),
            provider: slot.provider.clone(),
            location: slot.location.clone(),
            starts_at: checked.start.as_second(),
            ends_at: checked.end.as_second(),
            patient: patient.clone(),
            source: match source {
                Source::Chat => "chat",
                Source::Agent(_) => "agent",
            },
            conversation,
            booked_by: match source {
                Source::Agent(id) => Some(id),
                Source::Chat => None,
            },
            ics_token: ics_token.clone(),
            replaces,
            confirm: self.notice(
                match replaces {
                    Some(_) => MessageKind::BookingMoved,
                    None => MessageKind::BookingConfirmed,
                },
                patient,
                lang,
            ),
            lang,
        };
        self.writer.book(appointment).await?;
        tracing::info!(appointment_type = %slot.type_id, provider = %slot.provider, "appointment booked");
        Ok(Booked {
            code,
            slot: checked,
            ics_token,
        })
    }

    /// The booked appointment with this code and date of birth. A wrong
    /// pair says nothing about which half was wrong; a code with too many
    /// failed tries is locked for a while (`TooManyTries`), and a look-up
    /// the database cannot count is refused (`Unavailable`).
    pub async fn find(
        &self,
        code: &str,
        dob: BirthDate,
    ) -> Result<Option<Appointment>, LookupError> {
        let code = normalize_code(code);
        let key = format!("appointment:{code}");
        // Counted as a failure until the code and birth date match, on
        // every server; a database that cannot count refuses the look-up.
        let attempt = match self.lookups.begin(&key, None).await {
            Ok(Ok(attempt)) => attempt,
            Ok(Err(_)) => return Err(LookupError::TooManyTries),
            Err(_) => return Err(LookupError::Unavailable),
        };
        let found = self.store.appointment_by_code(&code).await.ok().flatten();
        match found.filter(|a| a.booked && a.patient.dob == dob) {
            Some(a) => {
                let _ = self.lookups.succeeded(attempt).await;
                Ok(Some(a))
            }
            None => Ok(None),
        }
    }

    /// Cancels a booked appointment; its patient is told in the channel they
    /// chose (written with the cancellation).
    pub async fn cancel(&self, appointment: &Appointment) -> Result<(), BookError> {
        let notify = self.notice(
            MessageKind::BookingCancelled,
            &appointment.patient,
            appointment.lang,
        );
        self.writer
            .cancel_appointment(appointment.id, notify)
            .await?;
        tracing::info!("appointment cancelled");
        Ok(())
    }

    pub async fn by_code(&self, code: &str) -> Result<Option<Appointment>, StoreError> {
        self.store.appointment_by_code(&normalize_code(code)).await
    }

    pub async fn upcoming(&self, limit: i64) -> Result<Vec<Appointment>, StoreError> {
        let since = Timestamp::now()
            .checked_sub(1.hour())
            .unwrap_or_else(|_| Timestamp::now());
        self.store
            .upcoming_appointments(since.as_second(), limit)
            .await
    }
}

fn random_code() -> String {
    let bytes = crate::ids::random_bytes::<CODE_LEN>();
    bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// Codes as patients type them: any case, spaces or dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .take(16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unambiguous_and_typed_any_way() {
        let code = random_code();
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_eq!(normalize_code("k7m3-q9px "), "K7M3Q9PX");
    }
}
