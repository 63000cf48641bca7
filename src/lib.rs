//! Frontdesk: a self-hosted patient front desk. Patients chat from a widget on
//! the clinic's site; the bot answers from the clinic's knowledge files, and
//! hands over to a person when it is not sure.
//!
//! # Layout
//!
//! - [`appointments`]: open slots from the clinic schedule, booking, cancelling
//!   and moving appointments (with the chat's daily caps and burst alert), the
//!   appointments API and calendar files.
//! - [`cli`]: the command line; `main` only dispatches to it.
//! - [`clinic`]: the clinic facts file: name, time zone, chat hours.
//! - [`compliance`]: the audit log API, its key, and the retention purge.
//! - [`config`]: settings, each with a flag, an environment variable and a default.
//! - [`startup`]: builds the [`startup::Application`] and runs it until
//!   shutdown, with the tasks that run beside it. It alone holds
//!   [`startup::state::AppState`], the one cheap-clone state, assembles the
//!   router, and serves `/health`; each feature's routes ask for the handles
//!   they use (`ChatState`, `ConsoleState`, …) through `FromRef`, so no
//!   feature imports the application.
//! - [`http`]: what every handler shares: the one HTTP error type, the client's
//!   address, sign-in, pages, same-origin checks, security headers, and the
//!   [`http::Gate`] handles its extractors need.
//! - [`chat`]: the patient WebSocket and its wire protocol, and chats by text
//!   message (the same session through another outlet).
//! - [`console`]: the agent console's socket and HTTP API, with access checks,
//!   and supervisors' list of failed messages to patients with its retry.
//! - [`dialog`]: what the bot says next; knows no wire format. Its booking flow
//!   reaches the scheduler through `dialog::booking::Calendar`, and the
//!   patient's remembered contact is read and kept through
//!   `dialog::contact::ContactBook`, interfaces it owns (the unit tests pass
//!   doubles).
//! - [`editors`]: the editors' workspace API: articles read, checked,
//!   tried (as drafts too) and saved to their files from the console, and
//!   the verdict line `frontdesk answer` prints.
//! - [`knowledge`]: FAQ articles, their index, and the answer/clarify/escalate decision.
//! - [`safety`]: emergency, crisis and urgent-care rules and the learned signal
//!   trained on labelled examples, checked on every patient message.
//! - [`semantic`]: the sentence-embedding model, a shared component with a budget.
//! - [`queue`]: who waits for a person, who holds which chat, and whom to tell.
//! - [`accounts`]: staff accounts and roles as every layer (the store too)
//!   understands them; imports nothing of ours.
//! - [`staff`]: passwords, console sessions, the sign-in throttle.
//! - [`store`]: the database behind one type (SQLite or PostgreSQL, a folder
//!   each), and the group-commit writer task.
//! - [`transcript`]: messages, senders and why a chat needs a person, as every
//!   layer understands them.
//! - [`insights`]: KPIs for supervisors and editors, from the store's records.
//! - [`outbound`]: messages to patients outside the chat (e-mail over SMTP,
//!   text messages) about their appointments and callback requests, from the
//!   durable outbox, in the editors' words (`knowledge/messages.toml`), and a
//!   chat's replies as plain texts.
//! - [`patient`]: the patient's details (name, date of birth, phone, e-mail,
//!   channel, and a channel with what it needs as a remembered preference),
//!   each a type parsed once where it enters; imports nothing of ours.
//! - [`ids`]: identifiers and secrets, parsed once at the edge.
//! - [`fds`]: the open-file budget that caps chats below the process's limit.
//! - [`lang`]: the supported languages.
//! - [`normalize`]: patient text to comparable words (folded, stop words
//!   dropped), shared by safety, the dialog and the knowledge engine.
//! - [`utterance`]: one patient message analysed once at the edge (text,
//!   words, detected language, meaning), the one value safety, the dialog and
//!   the knowledge engine read.
//! - [`loadtest`]: the `frontdesk loadtest` harness: simulated patients over real sockets.
//! - [`telemetry`]: logging set-up, and what must never be logged.

pub mod accounts;
pub mod appointments;
pub mod chat;
pub mod cli;
pub mod clinic;
pub mod compliance;
pub mod config;
pub mod console;
pub mod dialog;
pub mod editors;
pub mod fds;
pub mod http;
pub mod ids;
pub mod insights;
pub mod knowledge;
pub mod lang;
pub mod loadtest;
pub mod normalize;
pub mod outbound;
pub mod patient;
pub mod queue;
pub mod safety;
pub mod semantic;
pub mod staff;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod transcript;
pub mod utterance;
