//! Where the audit log's key comes from: `FRONTDESK_AUDIT_KEY`, or a key
//! file (by default `audit.key` beside the SQLite file, created with a
//! random key on the server's first start, readable by its owner only).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::DataArgs;
use crate::store::AuditKey;

/// Whether a missing key file may be created (the server) or not (the
/// `audit` commands, which must verify with the key the log was written with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Create,
    Fail,
}

/// Loads the audit key named by the settings.
pub fn load(data: &DataArgs, missing: Missing) -> anyhow::Result<AuditKey> {
    if let Some(secret) = data.audit_key.as_deref() {
        return AuditKey::new(secret.trim().as_bytes())
            .context("FRONTDESK_AUDIT_KEY must be at least 16 characters");
    }
    let Some(path) = key_file(data) else {
        if !data.database_url.starts_with("sqlite:") {
            bail!(
                "set FRONTDESK_AUDIT_KEY or FRONTDESK_AUDIT_KEY_FILE: the audit key has no default place beside this database"
            );
        }
        // An in-memory database lives and dies with the process: so does its key.
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).context("the OS random source")?;
        return Ok(AuditKey::new(&bytes).expect("32 bytes"));
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => AuditKey::new(text.trim().as_bytes()).with_context(|| {
            format!(
                "the audit key in {} is shorter than 16 characters",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && missing == Missing::Create => {
            create(&path)
        }
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot read the audit key {} (set FRONTDESK_AUDIT_KEY or FRONTDESK_AUDIT_KEY_FILE)",
                path.display()
            )
        }),
    }
}

/// The key file: the setting, or `audit.key` beside a SQLite file.
fn key_file(data: &DataArgs) -> Option<PathBuf> {
    if let Some(path) = &data.audit_key_file {
        return Some(path.clone());
    }
    let url = data.database_url.as_str();
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    let dir = Path::new(path).parent().unwrap_or(Path::new(""));
    Some(dir.join("audit.key"))
}

/// Writes a new random key, readable by this user only. Two servers
/// starting at once: the second reads the first one's key.
fn create(path: &Path) -> anyhow::Result<AuditKey> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).context("the OS random source")?;
    let text = crate::ids::hex(&bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(format!("{text}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the audit key {}", path.display()))?;
            tracing::warn!(
                path = %path.display(),
                "created a new audit log key; keep a copy outside this machine, without it the audit log cannot be verified"
            );
            Ok(AuditKey::new(text.as_bytes()).expect("64 hex characters"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)?;
            match AuditKey::new(text.trim().as_bytes()) {
                Some(key) => Ok(key),
                None => bail!("the audit key in {} is too short", path.display()),
            }
        }
        Err(e) => Err(e).with_context(|| format!("cannot create the audit key {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(url: &str) -> DataArgs {
        DataArgs {
            database_url: url.into(),
            knowledge: "knowledge".into(),
            audit_key: None,
            audit_key_file: None,
            log: crate::config::LogFormat::Pretty,
        }
    }

    #[test]
    fn the_key_file_sits_beside_the_database() {
        assert_eq!(
            key_file(&data("sqlite://data/frontdesk.db")),
            Some(PathBuf::from("data/audit.key"))
        );
        assert_eq!(
            key_file(&data("sqlite:///var/lib/fd/x.db?mode=rwc")),
            Some(PathBuf::from("/var/lib/fd/audit.key"))
        );
        assert_eq!(key_file(&data("sqlite::memory:")), None);
        assert!(load(&data("postgres://db/frontdesk"), Missing::Create).is_err());
    }

    #[test]
    fn a_created_key_is_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = data("sqlite::memory:");
        d.audit_key_file = Some(dir.path().join("k/audit.key"));
        assert!(load(&d, Missing::Fail).is_err(), "not created by a reader");
        let first = load(&d, Missing::Create).unwrap();
        let again = load(&d, Missing::Fail).unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("k/audit.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
        d.audit_key = Some("too-short".into());
        assert!(load(&d, Missing::Fail).is_err());
    }
}
