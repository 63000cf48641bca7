//! End-to-end tests against the real server: real sockets, real database.
//! One test binary keeps link time down.

#[path = "../common/mod.rs"]
mod helpers;

mod accounts;
mod booking;
mod booking_words;
mod chat_protocol;
mod compliance;
mod durability;
mod faq;
mod faults;
mod handoff;
mod identity;
mod insights;
mod limits;
mod loadtest;
mod logging;
mod origin;
mod pages;
mod safety;
mod shutdown;
mod understanding;
