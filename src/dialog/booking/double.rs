//! A calendar double for the flow's and the engine's unit tests: open
//! times an hour apart from tomorrow, one stored appointment, and a record
//! of every change asked of it.

use std::sync::{Arc, Mutex};

use jiff::civil::Date;

use super::{Calendar, Pending, Requester};
use crate::appointments::{BookError, Booked, Filter, LookupError, Slot, SlotId};
use crate::clinic::Clinic;
use crate::patient::{BirthDate, Channel, Email, Patient, PatientName};
use crate::store::{Appointment, StoreError};

/// A calendar in memory: open times an hour apart from tomorrow, one
/// stored appointment, and a record of every change asked of it.
pub(crate) struct FakeCalendar {
    clinic: Arc<Clinic>,
    open: Vec<Slot>,
    stored: Appointment,
    /// What the next `book` or `reschedule` answers instead of booking.
    pub refuse: Mutex<Option<BookError>>,
    /// What the next `find` answers instead of looking.
    pub lookup: Mutex<Option<LookupError>>,
    /// `open_slots` fails (the database is down).
    pub down: bool,
    pub booked: Mutex<Vec<(SlotId, Patient)>>,
    pub moved: Mutex<Vec<(i64, SlotId)>>,
    pub cancelled: Mutex<Vec<i64>>,
}

pub(crate) const CODE: &str = "K7M3Q9PX";
pub(crate) const BORN: &str = "1985-03-14";

impl FakeCalendar {
    pub(crate) fn new() -> FakeCalendar {
        let clinic = Clinic::parse(include_str!("../../../knowledge/clinic.toml")).unwrap();
        let first = jiff::Timestamp::now().as_second() / 3600 * 3600 + 86_400;
        let mut open = Vec::new();
        for kind in &clinic.schedule.types {
            for provider in &kind.providers {
                for hour in 0..6 {
                    let start = first + hour * 3600;
                    open.push(Slot {
                        id: SlotId {
                            type_id: kind.id.clone(),
                            provider: provider.clone(),
                            location: "main".into(),
                            start,
                        },
                        start: jiff::Timestamp::from_second(start).unwrap(),
                        end: jiff::Timestamp::from_second(start + 1800).unwrap(),
                    });
                }
            }
        }
        open.sort_by_key(|s| s.start);
        let stored = Appointment {
            id: 7,
            code: CODE.into(),
            type_id: "sick-visit".into(),
            provider: "dr-lee".into(),
            location: "main".into(),
            starts_at: first + 3 * 86_400,
            ends_at: first + 3 * 86_400 + 1800,
            patient: Patient {
                name: PatientName::parse("Ana Ruiz").unwrap(),
                dob: BirthDate::parse(BORN).unwrap(),
                phone: None,
                email: Some(Email::parse("ana@example.com").unwrap()),
                contact: Channel::Email,
            },
            booked: true,
            ics_token: "t".into(),
            lang: crate::lang::Lang::En,
        };
        FakeCalendar {
            clinic: Arc::new(clinic),
            open,
            stored,
            refuse: Mutex::new(None),
            lookup: Mutex::new(None),
            down: false,
            booked: Mutex::new(Vec::new()),
            moved: Mutex::new(Vec::new()),
            cancelled: Mutex::new(Vec::new()),
        }
    }

    fn confirmed(slot: &SlotId) -> Booked {
        let start = jiff::Timestamp::from_second(slot.start).unwrap();
        Booked {
            code: "NEWCODE1".into(),
            slot: Slot {
                id: slot.clone(),
                start,
                end: start,
            },
            ics_token: "token".into(),
        }
    }
}

impl Calendar for FakeCalendar {
    fn clinic(&self) -> Arc<Clinic> {
        self.clinic.clone()
    }

    fn open_slots<'a>(
        &'a self,
        type_id: &'a str,
        _from: Option<Date>,
        _days: u32,
        filter: &'a Filter,
        limit: usize,
    ) -> Pending<'a, Result<Vec<Slot>, StoreError>> {
        let found = self
            .open
            .iter()
            .filter(|s| s.id.type_id == type_id)
            .filter(|s| filter.provider.as_ref().is_none_or(|p| *p == s.id.provider))
            .filter(|s| filter.after.is_none_or(|after| s.start >= after))
            .take(limit)
            .cloned()
            .collect();
        let down = self.down;
        Box::pin(async move {
            match down {
                true => Err(StoreError::NotFound),
                false => Ok(found),
            }
        })
    }

    fn find<'a>(
        &'a self,
        code: &'a str,
        dob: BirthDate,
    ) -> Pending<'a, Result<Option<Appointment>, LookupError>> {
        let refused = self.lookup.lock().unwrap().take();
        let found = (code == CODE && dob == self.stored.patient.dob).then(|| self.stored.clone());
        Box::pin(async move { refused.map_or(Ok(found), Err) })
    }

    fn cancel<'a>(&'a self, appointment: &'a Appointment) -> Pending<'a, Result<(), BookError>> {
        self.cancelled.lock().unwrap().push(appointment.id);
        Box::pin(async { Ok(()) })
    }

    fn reschedule<'a>(
        &'a self,
        old: &'a Appointment,
        slot: &'a SlotId,
    ) -> Pending<'a, Result<Booked, BookError>> {
        let result = match self.refuse.lock().unwrap().take() {
            Some(e) => Err(e),
            None => {
                self.moved.lock().unwrap().push((old.id, slot.clone()));
                Ok(FakeCalendar::confirmed(slot))
            }
        };
        Box::pin(async move { result })
    }

    fn book<'a>(
        &'a self,
        slot: &'a SlotId,
        patient: &'a Patient,
        _who: Requester,
    ) -> Pending<'a, Result<Booked, BookError>> {
        let result = match self.refuse.lock().unwrap().take() {
            Some(e) => Err(e),
            None => {
                self.booked
                    .lock()
                    .unwrap()
                    .push((slot.clone(), patient.clone()));
                Ok(FakeCalendar::confirmed(slot))
            }
        };
        Box::pin(async move { result })
    }
}
