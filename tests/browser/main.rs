//! The patient widget and the console pages in a real headless Chromium,
//! against the real server (in-process, as in the `api` tests).
//!
//! Needs `chromium` and `chromedriver` on PATH (Debian: `chromium` and
//! `chromium-driver`); without them each test prints a "skipped" line and
//! passes, except under `CI=true`, where that is a failure.

#[path = "harness.rs"]
mod harness;
#[path = "../common/mod.rs"]
mod helpers;
#[path = "insights.rs"]
mod insights;

#[path = "a11y.rs"]
mod a11y;
#[path = "appointments.rs"]
mod appointments;
#[path = "chat.rs"]
mod chat;
#[path = "console.rs"]
mod console;
#[path = "knowledge.rs"]
mod knowledge;
#[path = "knowledge_access.rs"]
mod knowledge_access;
#[path = "outbox.rs"]
mod outbox;
#[path = "patient.rs"]
mod patient;
#[path = "rating.rs"]
mod rating;
#[path = "safety.rs"]
mod safety;
