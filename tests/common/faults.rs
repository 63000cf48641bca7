//! Tools for fault tests: a small filesystem that can be filled, a lock held
//! by someone else, and the ledger of acknowledgements that every fault test
//! ends by checking against the database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use super::{EVENT_TIMEOUT, Ws};

/// A tmpfs mounted for one test, unmounted when dropped.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. "4m"). Mounting needs root: outside CI
    /// a machine that cannot mount prints `skipped:` and gets `None`; under
    /// `CI=true` (which runs as root) it fails the test.
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("cannot mount a tmpfs under CI: {why}");
                }
                eprintln!("skipped: cannot mount a tmpfs here ({why})");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills every byte left with a ballast file; returns its path.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("ballast");
        let mut file = std::fs::File::create(&path).expect("ballast file");
        let chunk = vec![0xA5u8; 16 * 1024];
        // Then byte by byte, so not even a small write finds room.
        while file.write_all(&chunk).is_ok() {}
        while file.write_all(&[0]).is_ok() {}
        let _ = file.flush();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The database's write lock, held by a connection of the test (another
/// process than a server started as a child, another connection than an
/// in-process one) until released: SQLite's file lock, or on PostgreSQL an
/// exclusive lock on the messages table.
pub enum HeldLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl HeldLock {
    pub async fn take(database_url: &str) -> HeldLock {
        use sqlx::Connection;
        match super::backend() {
            super::Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(database_url)
                    .await
                    .expect("the database opens");
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut conn)
                    .await
                    .expect("the write lock is taken");
                HeldLock::Sqlite(conn)
            }
            super::Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(database_url)
                    .await
                    .expect("the database opens");
                sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
                sqlx::query("LOCK TABLE messages IN EXCLUSIVE MODE")
                    .execute(&mut conn)
                    .await
                    .expect("the lock is taken");
                HeldLock::Postgres(conn)
            }
        }
    }

    pub async fn release(self) {
        use sqlx::Connection;
        match self {
            HeldLock::Sqlite(mut conn) => {
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
                conn.close().await.expect("closed");
            }
            HeldLock::Postgres(mut conn) => {
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
                conn.close().await.expect("closed");
            }
        }
    }
}

/// What became of one message the patient sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Acked(i64),
    Refused(String),
}

impl Ws {
    /// Sends `say` and waits for its ack or its error, skipping every other
    /// frame (replies, typing, queue updates).
    pub async fn try_say(&mut self, id: &str, text: &str) -> Outcome {
        self.send_json(json!({"type": "say", "id": id, "text": text}))
            .await;
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no ack or error for {id}"
            );
            let frame = self.recv().await;
            match frame["type"].as_str() {
                Some("ack") if frame["id"] == id => {
                    return Outcome::Acked(frame["seq"].as_i64().expect("ack has a seq"));
                }
                Some("error") if frame["id"] == id => {
                    return Outcome::Refused(frame["code"].as_str().unwrap_or("").to_owned());
                }
                _ => continue,
            }
        }
    }
}

/// Every message of one conversation that was acknowledged or refused, to be
/// checked against the database at the end of a fault test.
#[derive(Debug, Default)]
pub struct Ledger {
    conversation: String,
    acked: BTreeMap<String, i64>,
    refused: BTreeMap<String, String>,
}

impl Ledger {
    pub fn new(conversation: &str) -> Ledger {
        Ledger {
            conversation: conversation.to_owned(),
            ..Default::default()
        }
    }

    /// Records an outcome; an ack of an id acknowledged before must carry
    /// the same seq (a resend is answered with the original).
    pub fn record(&mut self, id: &str, outcome: &Outcome) {
        match outcome {
            Outcome::Acked(seq) => {
                if let Some(before) = self.acked.insert(id.to_owned(), *seq) {
                    assert_eq!(
                        before, *seq,
                        "{id} was acknowledged twice with different seqs"
                    );
                }
                self.refused.remove(id);
            }
            Outcome::Refused(code) => {
                if !self.acked.contains_key(id) {
                    self.refused.insert(id.to_owned(), code.clone());
                }
            }
        }
    }

    pub fn acked(&self) -> usize {
        self.acked.len()
    }

    /// Ids refused and never acknowledged since.
    pub fn refused(&self) -> Vec<String> {
        self.refused.keys().cloned().collect()
    }

    /// The check every fault test ends with: each acknowledged message is
    /// stored once, with its seq; each refused one is stored at most once
    /// (a write may commit and still be refused if the answer was lost).
    /// Reads through the store, so the same check serves every backend.
    pub async fn verify(&self, database_url: &str) {
        let store = frontdesk::store::Store::connect(database_url)
            .await
            .expect("the database opens after recovery");
        let conversation = self.conversation.parse().expect("a conversation id");
        let rows = store
            .client_messages(&conversation)
            .await
            .expect("messages read");
        let mut stored: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (id, seq) in rows {
            stored.entry(id).or_default().push(seq);
        }
        let mut lost = Vec::new();
        for (id, seq) in &self.acked {
            match stored.get(id).map(Vec::as_slice) {
                Some([s]) if s == seq => {}
                other => lost.push(format!("{id} (acked seq {seq}, stored {other:?})")),
            }
        }
        assert!(
            lost.is_empty(),
            "{} of {} acknowledged messages are not stored as acknowledged: {lost:?}",
            lost.len(),
            self.acked.len()
        );
        for id in self.refused.keys() {
            let n = stored.get(id).map_or(0, Vec::len);
            assert!(n <= 1, "refused message {id} is stored {n} times");
        }
    }
}
