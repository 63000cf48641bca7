//! How SQLite's failures become [`Fault`]s, and the check that the file the
//! server writes is still the database file operators see.

use std::path::{Path, PathBuf};

use crate::store::fault::{BatchError, Fault};

/// SQLite's primary result codes that name a storage fault
/// (<https://sqlite.org/rescode.html>); extended codes carry them in the low
/// byte.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_NOTADB: i32 = 26;
/// The database file was unlinked or renamed while open.
const SQLITE_READONLY_DBMOVED: i32 = SQLITE_READONLY | (4 << 8);

/// The fault an SQLite error stands for, or `None` if it is not SQLite's.
pub(in crate::store) fn classify(db: &dyn sqlx::error::DatabaseError) -> Option<Fault> {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let code: i32 = db.code().and_then(|c| c.parse().ok()).unwrap_or(0);
    if code == SQLITE_READONLY_DBMOVED {
        return Some(Fault::FileReplaced);
    }
    Some(match code & 0xff {
        SQLITE_FULL => Fault::DiskFull,
        SQLITE_BUSY | SQLITE_LOCKED => Fault::Locked,
        SQLITE_READONLY | SQLITE_IOERR | SQLITE_CORRUPT | SQLITE_CANTOPEN | SQLITE_NOTADB => {
            Fault::Unreachable
        }
        _ => Fault::Other,
    })
}

/// The database file as it was when the server opened it. SQLite keeps
/// writing to an open file that was deleted or replaced on disk, so without
/// this check the server would acknowledge writes nobody will ever read.
#[derive(Debug, Clone)]
pub struct FileIdentity {
    /// `None` for an in-memory database.
    file: Option<(PathBuf, u64, u64)>,
}

impl FileIdentity {
    /// Notes which file `path` is now (`None`: an in-memory database).
    pub fn of(path: Option<&Path>) -> std::io::Result<Self> {
        let file = match path {
            Some(path) => {
                let (dev, ino) = identity(path)?;
                Some((path.to_path_buf(), dev, ino))
            }
            None => None,
        };
        Ok(FileIdentity { file })
    }

    /// `Err(FileReplaced)` when the path no longer names the file opened.
    pub fn check(&self) -> Result<(), BatchError> {
        let Some((path, dev, ino)) = &self.file else {
            return Ok(());
        };
        match identity(path) {
            Ok(now) if now == (*dev, *ino) => Ok(()),
            Ok(_) => Err(BatchError::new(
                Fault::FileReplaced,
                "the database path now names another file",
            )),
            Err(e) => Err(BatchError::new(
                Fault::FileReplaced,
                format_args!("the database file cannot be found: {e}"),
            )),
        }
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}

/// Elsewhere only presence is checked.
#[cfg(not(unix))]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    std::fs::metadata(path).map(|_| (0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_or_removed_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, b"one").unwrap();
        let identity = FileIdentity::of(Some(&path)).unwrap();
        assert!(identity.check().is_ok());
        std::fs::write(dir.path().join("other"), b"two").unwrap();
        std::fs::rename(dir.path().join("other"), &path).unwrap();
        assert_eq!(identity.check().unwrap_err().fault, Fault::FileReplaced);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(identity.check().unwrap_err().fault, Fault::FileReplaced);
        assert!(FileIdentity::of(None).unwrap().check().is_ok());
    }
}
