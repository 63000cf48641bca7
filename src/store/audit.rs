//! The audit log's hash chain: appended by the writer (so the hash chain has
//! one author and one order), read and verified by anyone holding the key.
//!
//! Each row's hash is an HMAC, under a key kept outside the database, of
//! the previous row's hash and the row's fields. Someone with the database
//! but not the key cannot rewrite a row and re-hash the rest of the chain;
//! cutting rows off the end is caught by comparing with a head exported
//! elsewhere (`frontdesk audit head`, `audit verify --expect-head`).
//! Rows written before the chain was keyed are plain SHA-256 links: they
//! may only come first, and a keyed row must follow them.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{AuditEntry, AuditRecord};

/// The secret the chain is keyed with, kept outside the database.
#[derive(Clone)]
pub struct AuditKey(Arc<Vec<u8>>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

impl AuditKey {
    /// A key for another purpose, derived from this one (HMAC-SHA256 of
    /// the purpose's name): every node that shares the audit key shares it,
    /// and it reveals nothing of the audit key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(b"frontdesk derived key: ");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// At least 16 bytes of secret.
    pub fn new(secret: &[u8]) -> Option<AuditKey> {
        (secret.len() >= 16).then(|| AuditKey(Arc::new(secret.to_vec())))
    }

    /// A short, one-way name for the key, to tell keys apart in output.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"frontdesk-audit-key:");
        h.update(self.0.as_slice());
        crate::ids::hex(&h.finalize()[..6])
    }
}

/// The first row's predecessor.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A row's link: over the previous hash and its fields, with the key
/// (`Some`) or, for rows from before keying, without.
fn chain_hash(key: Option<&AuditKey>, prev: &str, row: [&str; 6]) -> String {
    // Length-prefixed, so fields cannot be shifted into each other.
    let parts = std::iter::once(prev).chain(row);
    match key {
        Some(key) => {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes any key length");
            for part in parts {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part.as_bytes());
            }
            crate::ids::hex(&mac.finalize().into_bytes())
        }
        None => {
            let mut h = Sha256::new();
            for part in parts {
                h.update((part.len() as u64).to_be_bytes());
                h.update(part.as_bytes());
            }
            crate::ids::hex(&h.finalize())
        }
    }
}

impl AuditRecord {
    fn fields(&self) -> [&str; 6] {
        [
            &self.at,
            &self.actor,
            &self.role,
            &self.action,
            &self.target,
            &self.outcome,
        ]
    }
}

/// What a walk of the whole chain found, when it is intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Rows from before the chain was keyed (plain SHA-256 links).
    pub legacy: u64,
    pub keyed: u64,
    /// The newest row's id and hash.
    pub head: Option<(i64, String)>,
    /// Whether the expected head, when one was given, is in the chain.
    pub has_expected: bool,
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error(
        "audit entry {0} does not follow from the entry before it under this key (the log was changed, or this is not its key)"
    )]
    Broken(i64),
    #[error(
        "audit entry {0} is not keyed but comes after keyed entries: the log was rewritten without the key"
    )]
    Downgraded(i64),
    #[error(
        "none of the log's {0} entries is keyed: it was rewritten without the key, or no server has started since the upgrade that keys it (start one once)"
    )]
    NeverKeyed(u64),
}

/// Walks a chain, oldest row first. Pure: the store streams rows into it.
#[derive(Debug)]
pub struct ChainWalk<'a> {
    key: &'a AuditKey,
    expected: Option<&'a str>,
    prev: String,
    report: ChainReport,
}

impl<'a> ChainWalk<'a> {
    pub fn new(key: &'a AuditKey, expected: Option<&'a str>) -> Self {
        ChainWalk {
            key,
            expected,
            prev: GENESIS.to_owned(),
            report: ChainReport {
                legacy: 0,
                keyed: 0,
                head: None,
                has_expected: false,
            },
        }
    }

    pub fn step(&mut self, row: &AuditRecord) -> Result<(), ChainError> {
        if !row.keyed && self.report.keyed > 0 {
            return Err(ChainError::Downgraded(row.id));
        }
        let key = row.keyed.then_some(self.key);
        if row.prev_hash != self.prev || row.hash != chain_hash(key, &self.prev, row.fields()) {
            return Err(ChainError::Broken(row.id));
        }
        if row.keyed {
            self.report.keyed += 1;
        } else {
            self.report.legacy += 1;
        }
        if self
            .expected
            .is_some_and(|head| head.eq_ignore_ascii_case(&row.hash))
        {
            self.report.has_expected = true;
        }
        self.prev.clone_from(&row.hash);
        self.report.head = Some((row.id, row.hash.clone()));
        Ok(())
    }

    pub fn finish(self) -> Result<ChainReport, ChainError> {
        if self.report.keyed == 0 && self.report.legacy > 0 {
            return Err(ChainError::NeverKeyed(self.report.legacy));
        }
        Ok(self.report)
    }
}

/// Longest field stored in an audit row; the log is never purged.
const MAX_FIELD_CHARS: usize = 256;

fn capped(field: String) -> String {
    match field.char_indices().nth(MAX_FIELD_CHARS) {
        Some((end, _)) => format!("{}…", &field[..end]),
        None => field,
    }
}

/// The next row of the chain, ready to insert: its fields (capped), the
/// previous row's hash and its own. Both backends append these, inside the
/// transaction that read `prev`.
#[derive(Debug, Clone)]
pub(super) struct Link {
    pub at: String,
    pub entry: AuditEntry,
    pub outcome: &'static str,
    pub prev_hash: String,
    pub hash: String,
}

impl Link {
    /// Links `entry`, written `at`, after the row whose hash is `prev`
    /// (`None` for the first row).
    pub(super) fn after(prev: Option<String>, e: AuditEntry, key: &AuditKey, at: String) -> Link {
        let entry = AuditEntry {
            actor: capped(e.actor),
            role: capped(e.role),
            action: capped(e.action),
            target: capped(e.target),
            allowed: e.allowed,
        };
        let prev_hash = prev.unwrap_or_else(|| GENESIS.to_owned());
        let outcome = if entry.allowed { "allowed" } else { "refused" };
        let hash = chain_hash(
            Some(key),
            &prev_hash,
            [
                at.as_str(),
                &entry.actor,
                &entry.role,
                &entry.action,
                &entry.target,
                outcome,
            ],
        );
        Link {
            at,
            entry,
            outcome,
            prev_hash,
            hash,
        }
    }
}

/// Whether `key` is the one the chain's newest keyed row was written with
/// (`Ok(true)`), or the newest row is from before keying (`Ok(false)`: the
/// next row, keyed, anchors them). An empty log is `Ok(true)`.
pub fn key_matches(newest: Option<&AuditRecord>, key: &AuditKey) -> Result<bool, ChainError> {
    match newest {
        None => Ok(true),
        Some(row) if !row.keyed => Ok(false),
        Some(row) if row.hash == chain_hash(Some(key), &row.prev_hash, row.fields()) => Ok(true),
        Some(row) => Err(ChainError::Broken(row.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> AuditKey {
        AuditKey::new(k.as_bytes()).unwrap()
    }

    /// A chain of `n` rows: the first `legacy` unkeyed, the rest under `k`.
    fn chain(k: &AuditKey, legacy: usize, n: usize) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_owned();
        (0..n)
            .map(|i| {
                let keyed = i >= legacy;
                let mut r = AuditRecord {
                    id: i as i64 + 1,
                    at: format!("2026-12-0{}T10:00:00Z", 1 + i % 9),
                    actor: format!("agent{i}"),
                    role: "agent".into(),
                    action: "transcript.view".into(),
                    target: format!("c{i}"),
                    outcome: "allowed".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                    keyed,
                };
                r.hash = chain_hash(keyed.then_some(k), &prev, r.fields());
                prev.clone_from(&r.hash);
                r
            })
            .collect()
    }

    fn walk(
        k: &AuditKey,
        rows: &[AuditRecord],
        head: Option<&str>,
    ) -> Result<ChainReport, ChainError> {
        let mut w = ChainWalk::new(k, head);
        for r in rows {
            w.step(r)?;
        }
        w.finish()
    }

    #[test]
    fn an_intact_chain_verifies_and_finds_its_exported_head() {
        let k = key("0123456789abcdef-key");
        let rows = chain(&k, 2, 6);
        let head = rows[3].hash.clone();
        let report = walk(&k, &rows, Some(&head)).unwrap();
        assert_eq!((report.legacy, report.keyed), (2, 4));
        assert!(report.has_expected);
        assert_eq!(report.head, Some((6, rows[5].hash.clone())));
        assert!(!walk(&k, &rows, Some("beef")).unwrap().has_expected);
    }

    #[test]
    fn rehashing_without_the_key_is_caught() {
        let k = key("0123456789abcdef-key");
        let mut rows = chain(&k, 0, 5);
        // Edit row 2 and re-link everything after it, as with plain SHA-256.
        rows[1].actor = "nobody".into();
        let mut prev = rows[0].hash.clone();
        for r in rows.iter_mut().skip(1) {
            r.prev_hash.clone_from(&prev);
            r.hash = chain_hash(Some(&key("a-guessed-key-0000")), &prev, r.fields());
            prev.clone_from(&r.hash);
        }
        assert_eq!(walk(&k, &rows, None), Err(ChainError::Broken(2)));
        // Re-linking the whole log as if it were never keyed is caught too.
        let unkeyed = chain(&k, 5, 5);
        assert_eq!(walk(&k, &unkeyed, None), Err(ChainError::NeverKeyed(5)));
        let mut mixed = chain(&k, 1, 4);
        mixed[3].keyed = false;
        mixed[3].hash = chain_hash(None, &mixed[3].prev_hash, mixed[3].fields());
        assert_eq!(walk(&k, &mixed, None), Err(ChainError::Downgraded(4)));
        // The wrong key fails at the first keyed row.
        assert_eq!(
            walk(&key("another-key-of-16b"), &chain(&k, 2, 4), None),
            Err(ChainError::Broken(3))
        );
    }

    #[test]
    fn the_newest_row_tells_whether_a_key_is_the_logs() {
        let k = key("0123456789abcdef-key");
        let rows = chain(&k, 1, 3);
        assert_eq!(key_matches(rows.last(), &k), Ok(true));
        assert!(key_matches(rows.last(), &key("another-key-of-16b")).is_err());
        assert_eq!(key_matches(rows.first(), &k), Ok(false));
        assert_eq!(key_matches(None, &k), Ok(true));
        assert!(AuditKey::new(b"short").is_none());
    }
}
