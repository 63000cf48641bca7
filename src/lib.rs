//! Frontdesk: a self-hosted patient front desk.
//!
//! # Layout
//! - `lang`: the languages a patient can be served in.
//! - `knowledge`: FAQ articles, their index, and the answer/clarify/escalate decision.
//! - `cli`: subcommands (`answer`, `knowledge check|import`, `eval`).

pub mod cli;
pub mod knowledge;
pub mod lang;
