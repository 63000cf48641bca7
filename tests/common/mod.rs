//! Starting real servers for tests (in-process on port 0, or the real binary
//! as a child process) and talking to them over real WebSockets.
//!
//! Shared by the `api`, `browser` and `knowledge` test binaries (each
//! includes it with `#[path]` as `helpers`); each uses only part of it. One
//! module per concern: `app` (in-process server), `process` (the real
//! binary), `socket` (chat and console clients), `fixtures` (knowledge and
//! model), `faults` (storage faults), `backend` (which database), `postgres_server` (a PostgreSQL of a test's own), `smtp` (a mail server
//! that records what it receives), `sms` (a stand-in for the SMS provider).
#![allow(dead_code)]

pub mod app;
pub mod backend;
pub mod faults;
pub mod fixtures;
pub mod postgres_server;
pub mod process;
pub mod sms;
pub mod smtp;
pub mod socket;

pub use app::*;
pub use backend::*;
pub use fixtures::*;
pub use process::*;
pub use socket::*;
