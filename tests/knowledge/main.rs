//! Knowledge engine as a user meets it: the real `frontdesk` binary for
//! `answer`, `knowledge check` and `knowledge import`, and the library API for
//! live reload.

mod answer;
mod check;
mod import;
mod reload;
mod safety_eval;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The fixture knowledge base shipped with the tests.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge")
}

/// Starts `frontdesk ARGS` with piped stdin, stdout and stderr.
pub fn spawn_frontdesk(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(args)
        .env_remove("FRONTDESK_KNOWLEDGE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("frontdesk starts")
}

/// Runs `frontdesk ARGS` with `stdin`, returning its output.
pub fn frontdesk(args: &[&str], stdin: &str) -> Output {
    let mut child = spawn_frontdesk(args);
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("frontdesk runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Copies a directory tree (the fixture) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
