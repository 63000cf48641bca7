//! End-to-end tests against the real server: real sockets, real database.
//! One test binary keeps link time down.

#[path = "../common/mod.rs"]
mod helpers;

#[path = "accounts.rs"]
mod accounts;
#[path = "booking.rs"]
mod booking;
#[path = "booking_words.rs"]
mod booking_words;
#[path = "callback_messages.rs"]
mod callback_messages;
#[path = "chat_protocol.rs"]
mod chat_protocol;
#[path = "compliance.rs"]
mod compliance;
#[path = "console_modules.rs"]
mod console_modules;
#[path = "contact_preference.rs"]
mod contact_preference;
#[path = "durability.rs"]
mod durability;
#[path = "faq.rs"]
mod faq;
#[path = "faults.rs"]
mod faults;
#[path = "handoff.rs"]
mod handoff;
#[path = "identity.rs"]
mod identity;
#[path = "insights.rs"]
mod insights;
#[path = "knowledge_access.rs"]
mod knowledge_access;
#[path = "knowledge_editing.rs"]
mod knowledge_editing;
#[path = "limits.rs"]
mod limits;
#[path = "loadtest.rs"]
mod loadtest;
#[path = "logging.rs"]
mod logging;
#[path = "origin.rs"]
mod origin;
#[path = "outbound.rs"]
mod outbound;
#[path = "outbox_admin.rs"]
mod outbox_admin;
#[path = "outbox_crash.rs"]
mod outbox_crash;
#[path = "pages.rs"]
mod pages;
#[path = "safety.rs"]
mod safety;
#[path = "shutdown.rs"]
mod shutdown;
#[path = "sms_chat.rs"]
mod sms_chat;
#[path = "texts.rs"]
mod texts;
#[path = "two_nodes.rs"]
mod two_nodes;
#[path = "understanding.rs"]
mod understanding;
