//! The booking flow: book, cancel or reschedule an appointment in the chat,
//! one question at a time, with choices at every step, free text accepted,
//! and a clear re-ask on bad input.
//!
//! - [`flow`]: what the flow has gathered ([`Flow`]) and the question it
//!   waits on.
//! - [`answer`]: the step machine: how a flow starts, and what each answer
//!   does.
//! - [`say`]: what the bot says at each step.
//! - [`calls`]: looking up, booking, cancelling and moving, and what the
//!   patient is told of the result.
//! - [`reach`]: how the patient will be reached: the remembered contact,
//!   a number or address, call or text, "text me instead".
//! - [`matching`]: providers' names, a yes, "no preference" in the words.
//! - [`calendar`]: the small interface to the scheduler that this flow owns;
//!   the server passes the real scheduler, the unit tests a double.

mod answer;
mod calendar;
mod calls;
#[cfg(test)]
pub(crate) mod double;
mod flow;
mod matching;
mod reach;
mod say;
#[cfg(test)]
mod tests;

pub use calendar::{Calendar, Pending};
pub use flow::{Flow, Intent, Requester};

use crate::transcript::Choice;

/// Open times offered per message.
const SLOTS_SHOWN: usize = 4;
/// Days searched for open times.
const SEARCH_DAYS: u32 = 21;
/// Kinds of appointment offered after a message that named none.
const KINDS_OFFERED: usize = 3;
/// Wrong code/birth-date pairs before the flow suggests a person.
const MAX_LOOKUP_FAILURES: u8 = 3;

fn choice(label: impl Into<String>, value: impl Into<String>) -> Choice {
    Choice::new(label, value)
}
