//! Password hashing with argon2id. Hashing is deliberately slow, so it always
//! runs on the blocking pool, never on the async runtime.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A hash that no password matches, verified when the name is unknown so a
/// wrong name and a wrong password take the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3jSE4hnS0vQ6Gxd2Lq3o2b9cJ0tTDmoLw0M6KxVtG6E";

/// Shortest password accepted for a new account.
pub const MIN_LEN: usize = 12;

pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Checks `password` against `stored`, or against a dummy hash when there is
/// no account, so timing does not reveal which names exist.
pub fn verify_blocking(password: &str, stored: Option<&str>) -> bool {
    let matches = |hash: &str| {
        PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    };
    match stored {
        Some(hash) => matches(hash),
        None => {
            let _ = matches(DUMMY_HASH);
            false
        }
    }
}

/// Password hashes computed at once. Each takes ~19 MiB and a core for tens
/// of milliseconds on the blocking pool that knowledge searches share; the
/// rest wait their turn.
pub const MAX_CONCURRENT_CHECKS: usize = 3;
static CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT_CHECKS);

pub async fn hash(password: String) -> anyhow::Result<String> {
    let _turn = CHECKS.acquire().await?;
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

pub async fn verify(password: String, stored: Option<String>) -> bool {
    let Ok(_turn) = CHECKS.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || verify_blocking(&password, stored.as_deref()))
        .await
        .unwrap_or(false)
}

/// A random password for the first admin account: 20 characters from an
/// alphabet without look-alikes.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the operating system random source is unavailable");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_blocking("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_blocking("correct horse battery", Some(&hash)));
        assert!(!verify_blocking("correct horse battery!", Some(&hash)));
        assert!(!verify_blocking("anything", None));
        assert!(!verify_blocking("anything", Some("not a hash")));
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate();
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate());
    }
}
