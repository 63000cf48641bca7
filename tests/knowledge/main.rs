//! Knowledge engine as a user meets it: the real `frontdesk` binary for
//! `answer`, `knowledge check` and `knowledge import`, and the library API for
//! live reload.

mod answer;
mod check;
mod eval;
mod import;
mod reload;
mod safety_eval;

#[path = "../common/mod.rs"]
mod helpers;

use std::path::PathBuf;
use std::process::{Child, Output};

pub use helpers::copy_dir;

/// The fixture knowledge base shipped with the tests.
pub fn fixture() -> PathBuf {
    helpers::knowledge_dir()
}

/// Starts `frontdesk ARGS` with piped stdin, stdout and stderr.
pub fn spawn_frontdesk(args: &[&str]) -> Child {
    helpers::frontdesk_command(args)
        .env_remove("FRONTDESK_KNOWLEDGE")
        .spawn()
        .expect("frontdesk starts")
}

/// Runs `frontdesk ARGS` with `stdin`, returning its output.
pub fn frontdesk(args: &[&str], stdin: &str) -> Output {
    helpers::finish(spawn_frontdesk(args), stdin)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
