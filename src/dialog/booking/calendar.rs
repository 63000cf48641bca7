//! The scheduler as the booking flow sees it: a small interface the dialog
//! owns, so the flow and the engine run against the real
//! [`Scheduler`](crate::appointments::Scheduler) in the server and against a
//! test double in their unit tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jiff::civil::Date;

use super::Requester;
use crate::appointments::{BookError, Booked, Filter, LookupError, Scheduler, Slot, SlotId};
use crate::clinic::Clinic;
use crate::patient::{BirthDate, Patient};
use crate::store::{Appointment, StoreError};

/// A call in flight: boxed, so the interface can sit behind `dyn`.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the booking flow asks of the clinic's calendar.
pub trait Calendar: Send + Sync {
    /// The clinic's facts and schedule as they are now (they reload).
    fn clinic(&self) -> Arc<Clinic>;

    /// Open times of a kind, soonest first, at most `limit`.
    fn open_slots<'a>(
        &'a self,
        type_id: &'a str,
        from: Option<Date>,
        days: u32,
        filter: &'a Filter,
        limit: usize,
    ) -> Pending<'a, Result<Vec<Slot>, StoreError>>;

    /// The booked appointment with this confirmation code and date of
    /// birth; tries are counted and limited.
    fn find<'a>(
        &'a self,
        code: &'a str,
        dob: BirthDate,
    ) -> Pending<'a, Result<Option<Appointment>, LookupError>>;

    fn cancel<'a>(&'a self, appointment: &'a Appointment) -> Pending<'a, Result<(), BookError>>;

    /// Moves an appointment to `slot`: both or neither.
    fn reschedule<'a>(
        &'a self,
        old: &'a Appointment,
        slot: &'a SlotId,
    ) -> Pending<'a, Result<Booked, BookError>>;

    /// Books `slot` from a chat, within the chat's daily limits.
    fn book<'a>(
        &'a self,
        slot: &'a SlotId,
        patient: &'a Patient,
        who: Requester,
    ) -> Pending<'a, Result<Booked, BookError>>;
}

impl Calendar for Scheduler {
    fn clinic(&self) -> Arc<Clinic> {
        Scheduler::clinic(self)
    }

    fn open_slots<'a>(
        &'a self,
        type_id: &'a str,
        from: Option<Date>,
        days: u32,
        filter: &'a Filter,
        limit: usize,
    ) -> Pending<'a, Result<Vec<Slot>, StoreError>> {
        Box::pin(Scheduler::open_slots(
            self, type_id, from, days, filter, limit,
        ))
    }

    fn find<'a>(
        &'a self,
        code: &'a str,
        dob: BirthDate,
    ) -> Pending<'a, Result<Option<Appointment>, LookupError>> {
        Box::pin(Scheduler::find(self, code, dob))
    }

    fn cancel<'a>(&'a self, appointment: &'a Appointment) -> Pending<'a, Result<(), BookError>> {
        Box::pin(Scheduler::cancel(self, appointment))
    }

    fn reschedule<'a>(
        &'a self,
        old: &'a Appointment,
        slot: &'a SlotId,
    ) -> Pending<'a, Result<Booked, BookError>> {
        Box::pin(Scheduler::reschedule(self, old, slot))
    }

    fn book<'a>(
        &'a self,
        slot: &'a SlotId,
        patient: &'a Patient,
        who: Requester,
    ) -> Pending<'a, Result<Booked, BookError>> {
        Box::pin(self.book_from_chat(slot, patient, who.conversation, who.client, who.lang))
    }
}
