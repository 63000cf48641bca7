//! What the store knows about its own health: why writes are failing, since
//! when, and how many batches failed. The writer task is the only one that
//! changes it; `/health`, `/metrics` and the console read it.
//!
//! A fault is logged once when it starts (or changes kind) and once when
//! storage recovers, never once per message: a full disk under load would
//! otherwise write thousands of identical lines into a log that is itself
//! on a full disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

/// Why the database refused a write, as operators need to tell it apart.
/// Patients see one `unavailable` whatever the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The filesystem (or a quota) has no room for the write.
    DiskFull,
    /// Another process held the database lock for longer than the busy
    /// timeout.
    Locked,
    /// The database cannot be opened, read or written (an I/O error, a
    /// lost connection, a read-only or unreachable file).
    Unreachable,
    /// The database file was removed or replaced under the running server.
    /// Writes are refused until a restart opens the file that is there now.
    FileReplaced,
    /// The server is shutting down and takes no more writes.
    ShuttingDown,
    /// Anything else; the cause is in the log.
    Other,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::DiskFull,
        Fault::Locked,
        Fault::Unreachable,
        Fault::FileReplaced,
        Fault::ShuttingDown,
        Fault::Other,
    ];

    /// The code in `/health`, `/metrics`, the console and the log.
    pub fn code(self) -> &'static str {
        match self {
            Fault::DiskFull => "disk_full",
            Fault::Locked => "locked",
            Fault::Unreachable => "unreachable",
            Fault::FileReplaced => "file_replaced",
            Fault::ShuttingDown => "shutting_down",
            Fault::Other => "other",
        }
    }

    /// A sentence for operators and agents.
    pub fn describe(self) -> &'static str {
        match self {
            Fault::DiskFull => "the disk holding the database is full",
            Fault::Locked => "another process holds the database lock",
            Fault::Unreachable => "the database cannot be reached",
            Fault::FileReplaced => {
                "the database file was removed or replaced while the server ran; restart the server"
            }
            Fault::ShuttingDown => "the server is shutting down",
            Fault::Other => "the database refused a write",
        }
    }

    fn index(self) -> usize {
        Fault::ALL.iter().position(|f| *f == self).unwrap_or(0)
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// A write batch that did not commit: the fault, and the database's own
/// words for it (which never quote the data being written).
#[derive(Debug)]
pub struct BatchError {
    pub fault: Fault,
    pub cause: String,
}

impl BatchError {
    pub fn new(fault: Fault, cause: impl std::fmt::Display) -> Self {
        BatchError {
            fault,
            cause: cause.to_string(),
        }
    }
}

impl From<sqlx::Error> for BatchError {
    fn from(e: sqlx::Error) -> Self {
        BatchError::new(classify(&e), e)
    }
}

/// The fault an sqlx error stands for, whichever backend raised it.
pub(super) fn classify(e: &sqlx::Error) -> Fault {
    match e {
        sqlx::Error::Database(db) => super::sqlite::faults::classify(db.as_ref())
            .or_else(|| super::postgres::faults::classify(db.as_ref()))
            .unwrap_or(Fault::Other),
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => Fault::Unreachable,
        sqlx::Error::PoolClosed => Fault::ShuttingDown,
        _ => Fault::Other,
    }
}

/// Whether writes currently succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Ok,
    Failing {
        fault: Fault,
        /// When the current failure began (RFC 3339).
        since: String,
    },
}

impl Status {
    pub fn fault(&self) -> Option<Fault> {
        match self {
            Status::Ok => None,
            Status::Failing { fault, .. } => Some(*fault),
        }
    }
}

/// The shared health record. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Health {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    status: watch::Sender<Status>,
    failed_batches: AtomicU64,
    by_fault: [AtomicU64; Fault::ALL.len()],
}

impl Default for Health {
    fn default() -> Self {
        Health {
            inner: Arc::new(Inner {
                status: watch::Sender::new(Status::Ok),
                failed_batches: AtomicU64::new(0),
                by_fault: Default::default(),
            }),
        }
    }
}

impl Health {
    pub fn status(&self) -> Status {
        self.inner.status.borrow().clone()
    }

    /// Follows every change of status (the console's banner).
    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.inner.status.subscribe()
    }

    /// Batches that failed since the start.
    pub fn failed_batches(&self) -> u64 {
        self.inner.failed_batches.load(Ordering::Relaxed)
    }

    /// Failed batches by cause, for `/metrics`.
    pub fn failures_by_fault(&self) -> Vec<(Fault, u64)> {
        Fault::ALL
            .iter()
            .map(|f| (*f, self.inner.by_fault[f.index()].load(Ordering::Relaxed)))
            .collect()
    }

    /// A batch committed: storage works (again).
    pub fn record_success(&self) {
        let recovered = self.inner.status.send_if_modified(|status| {
            let was_failing = !matches!(status, Status::Ok);
            *status = Status::Ok;
            was_failing
        });
        if recovered {
            tracing::info!(
                failed_batches = self.failed_batches(),
                "storage recovered: writes are committing again"
            );
        }
    }

    /// A batch failed with `fault`; `cause` is the database's own error,
    /// which names no patient data. Logged only when the status changes.
    pub fn record_failure(&self, fault: Fault, cause: &dyn std::fmt::Display) {
        self.inner.failed_batches.fetch_add(1, Ordering::Relaxed);
        self.inner.by_fault[fault.index()].fetch_add(1, Ordering::Relaxed);
        let changed = self.inner.status.send_if_modified(|status| {
            if status.fault() == Some(fault) {
                return false;
            }
            *status = Status::Failing {
                fault,
                since: jiff::Timestamp::now().to_string(),
            };
            true
        });
        if changed {
            tracing::error!(
                fault = fault.code(),
                cause = %cause,
                "storage is failing: {fault}; patients are told to retry and nothing is acknowledged until writes commit again"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_changes_only_when_the_fault_does() {
        let health = Health::default();
        let mut changes = health.subscribe();
        changes.borrow_and_update();
        health.record_failure(Fault::DiskFull, &"full");
        assert!(changes.has_changed().unwrap());
        changes.borrow_and_update();
        health.record_failure(Fault::DiskFull, &"full");
        assert!(!changes.has_changed().unwrap(), "same fault, same status");
        health.record_failure(Fault::Locked, &"busy");
        assert_eq!(changes.borrow_and_update().fault(), Some(Fault::Locked));
        health.record_success();
        assert_eq!(*changes.borrow_and_update(), Status::Ok);
        health.record_success();
        assert!(!changes.has_changed().unwrap());
        assert_eq!(health.failed_batches(), 3);
        let by: std::collections::HashMap<_, _> = health.failures_by_fault().into_iter().collect();
        assert_eq!((by[&Fault::DiskFull], by[&Fault::Locked]), (2, 1));
    }
}
