//! The patient widget and the console pages in a real headless Chromium,
//! against the real server (in-process, as in the `api` tests).
//!
//! Needs `chromium` and `chromedriver` on PATH (Debian: `chromium` and
//! `chromium-driver`); without them each test prints a "skipped" line and
//! passes, except under `CI=true`, where that is a failure.

mod harness;
#[path = "../common/mod.rs"]
mod helpers;
mod insights;

mod a11y;
mod appointments;
mod chat;
mod console;
mod patient;
mod safety;
