//! Knowledge bases and the model the tests run against.

use std::path::{Path, PathBuf};

#[allow(unused_imports)]
use super::*;

/// The small fixture knowledge base. It has no clinic.toml, so chat is
/// staffed around the clock and tests do not depend on the time of day.
pub fn knowledge_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge")
}

/// The model folder (`.ci/run` fetches the model into it), or `None` with
/// a `skipped:` line where it is missing outside CI.
pub fn model_dir_or_skip() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/models");
    if dir.join(frontdesk::semantic::fetch::FILE_NAME).exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but the model is missing (`frontdesk model fetch`)"
    );
    eprintln!("skipped: no model in data/models (`frontdesk model fetch` gets it)");
    None
}

/// The knowledge base the product ships with.
pub fn bundled_knowledge() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

/// Copies a directory tree (a knowledge base) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
