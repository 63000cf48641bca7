//! Verified patient identity: the clinic's site, where the patient is
//! signed in, signs `user|expires|nonce` with HMAC-SHA256 under a secret it
//! shares with Frontdesk. A valid, unexpired signature lets the same
//! conversation follow the patient to another device; the id itself is kept
//! only as a digest.
//!
//! A signature sits in the page's HTML, where caches and scripts can read
//! it, so it lasts minutes, not forever: `expires` may be at most the
//! configured lifetime ahead (default 5 minutes), and each nonce opens a
//! conversation once, whichever server it reaches. The same device may
//! reconnect with it until it expires (its nonce is remembered in the
//! database with the resume token it was given); after that the page needs
//! a fresh signature. The old form, an HMAC of
//! the user id alone that never expires, is accepted only behind an
//! explicit setting.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::ids::TokenDigest;
use crate::store::Store;

/// Longest user id accepted.
const MAX_USER_LEN: usize = 256;
/// Seconds of clock difference allowed between the clinic's server and this one.
pub const CLOCK_SKEW_SECS: i64 = 30;

/// What a signed-in patient's page sends in `start`, parsed at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedUser {
    pub user: String,
    pub sig: String,
    /// `None`: the legacy form, a signature of the user id alone.
    pub expiry: Option<Expiry>,
}

/// The time-bound part of a signature.
#[derive(Debug, Clone, PartialEq)]
pub struct Expiry {
    /// Unix seconds after which the signature is no longer accepted.
    pub expires: i64,
    /// Chosen by the clinic's site for each page: 8 to 64 of `A-Z a-z 0-9 _ -`.
    pub nonce: String,
}

impl Expiry {
    /// The nonce as stored: its SHA-256.
    fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.nonce.as_bytes()).into()
    }

    /// Checks the nonce's form; the signature is checked later, with the secret.
    pub fn new(expires: i64, nonce: String) -> Result<Expiry, &'static str> {
        let well_formed = (8..=64).contains(&nonce.len())
            && nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !well_formed {
            return Err("\"user_nonce\" must be 8 to 64 letters, digits, '_' or '-'.");
        }
        Ok(Expiry { expires, nonce })
    }
}

/// How signatures are checked: from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub secret: Option<&'a str>,
    /// Longest time a signature may be valid for, in seconds.
    pub lifetime_secs: i64,
    /// Accept the never-expiring form `HMAC(secret, user)`.
    pub legacy: bool,
}

/// Why a signed identity is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No secret is configured, the signature is wrong, or the form is not accepted.
    Invalid,
    /// The signature was right but its time has passed: the page needs a fresh one.
    Expired,
    /// The nonce already opened a conversation on another device.
    Replayed,
    /// The nonce could not be checked (the database is failing).
    Unavailable,
}

/// A signature that verified: whose it is, and the expiry it came with.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub identity: TokenDigest,
    pub expiry: Option<Expiry>,
}

/// Checks `signed` at unix time `now`. The comparison takes the same time
/// wherever the signatures differ.
pub fn verify(policy: Policy<'_>, signed: &SignedUser, now: i64) -> Result<Verified, Refusal> {
    let secret = policy
        .secret
        .filter(|s| !s.is_empty())
        .ok_or(Refusal::Invalid)?;
    let user = signed.user.as_str();
    if user.is_empty() || user.len() > MAX_USER_LEN {
        return Err(Refusal::Invalid);
    }
    let sig = decode_hex(signed.sig.trim()).ok_or(Refusal::Invalid)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| Refusal::Invalid)?;
    match &signed.expiry {
        Some(e) => mac.update(signed_text(user, e.expires, &e.nonce).as_bytes()),
        None if policy.legacy => mac.update(user.as_bytes()),
        None => return Err(Refusal::Invalid),
    }
    mac.verify_slice(&sig).map_err(|_| Refusal::Invalid)?;
    if let Some(e) = &signed.expiry {
        // Too far ahead is a signature made to outlive the policy.
        if e.expires > now + policy.lifetime_secs + CLOCK_SKEW_SECS {
            return Err(Refusal::Invalid);
        }
        if e.expires + CLOCK_SKEW_SECS < now {
            return Err(Refusal::Expired);
        }
    }
    Ok(Verified {
        identity: identity_digest(user),
        expiry: signed.expiry.clone(),
    })
}

/// The digest an identity is stored as.
fn identity_digest(user: &str) -> TokenDigest {
    let mut h = Sha256::new();
    h.update(b"frontdesk-identity:");
    h.update(user.as_bytes());
    TokenDigest(h.finalize().into())
}

/// The exact text the clinic's site signs.
fn signed_text(user: &str, expires: i64, nonce: &str) -> String {
    format!("{user}|{expires}|{nonce}")
}

/// What the clinic's site computes: the hex HMAC of `user|expires|nonce`
/// (used by tests and the docs' examples).
pub fn sign(secret: &str, user: &str, expires: i64, nonce: &str) -> String {
    hmac_hex(secret, &signed_text(user, expires, nonce))
}

/// What the clinic's site puts on a page for a signed-in patient.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PageSignature {
    pub user: String,
    pub expires: i64,
    pub nonce: String,
    pub sig: String,
}

/// Signs `user` for a page, valid for `secs` more seconds, with a random
/// nonce: the clinic's side, for tests and the docs.
pub fn sign_for_page(secret: &str, user: &str, secs: i64) -> PageSignature {
    let expires = jiff::Timestamp::now().as_second() + secs;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source");
    let nonce = crate::ids::hex(&bytes);
    PageSignature {
        user: user.to_owned(),
        expires,
        sig: sign(secret, user, expires, &nonce),
        nonce,
    }
}

/// The legacy, never-expiring form: the hex HMAC of the user id alone.
pub fn sign_legacy(secret: &str, user: &str) -> String {
    hmac_hex(secret, user)
}

fn hmac_hex(secret: &str, text: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(text.as_bytes());
    crate::ids::hex(&mac.finalize().into_bytes())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Nonces used, each until its signature expires, with the device that
/// used it: in the database, so every server knows every nonce (stored as
/// digests, like the device's token).
#[derive(Debug, Clone)]
pub struct Nonces {
    store: Store,
}

impl Nonces {
    pub fn new(store: Store) -> Nonces {
        Nonces { store }
    }

    /// Takes `expiry`'s nonce for a `start` that presents `device` (its
    /// resume token's digest, if any). A new nonce is reserved; a known one
    /// is accepted again only from the device it was given to.
    pub async fn take(&self, expiry: &Expiry, device: Option<TokenDigest>) -> Result<(), Refusal> {
        let device = device.map(|d| d.0);
        match self
            .store
            .nonce_take(&expiry.digest(), expiry.expires, device.as_ref())
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(Refusal::Replayed),
            Err(_) => Err(Refusal::Unavailable),
        }
    }

    /// Records the token the device was given for a nonce it took.
    pub async fn bind(&self, expiry: &Expiry, device: TokenDigest) {
        if self
            .store
            .nonce_bind(&expiry.digest(), &device.0)
            .await
            .is_err()
        {
            // The device can still use its token; only a reconnect with the
            // page's signature would be refused, and ask for a fresh one.
            tracing::warn!("a sign-in nonce could not be bound to its device");
        }
    }

    /// Gives back a nonce whose `start` failed before a token was given, so
    /// the page may try again.
    pub async fn release(&self, expiry: &Expiry) {
        let _ = self.store.nonce_release(&expiry.digest()).await;
    }

    /// Forgets nonces whose signatures expired (the periodic sweep).
    pub async fn sweep(&self, now: i64) {
        let _ = self.store.nonce_sweep(now - CLOCK_SKEW_SECS).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn policy(secret: Option<&str>) -> Policy<'_> {
        Policy {
            secret,
            lifetime_secs: 300,
            legacy: false,
        }
    }

    fn signed(secret: &str, user: &str, expires: i64, nonce: &str) -> SignedUser {
        SignedUser {
            user: user.into(),
            sig: sign(secret, user, expires, nonce),
            expiry: Some(Expiry::new(expires, nonce.into()).unwrap()),
        }
    }

    #[test]
    fn only_the_right_unexpired_signature_verifies() {
        let ok = signed("s3cret", "patient-42", NOW + 120, "n0nce-abc");
        assert!(verify(policy(Some("s3cret")), &ok, NOW).is_ok());
        let other_user = SignedUser {
            user: "patient-43".into(),
            ..ok.clone()
        };
        assert_eq!(
            verify(policy(Some("s3cret")), &other_user, NOW),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            verify(policy(Some("other")), &ok, NOW),
            Err(Refusal::Invalid)
        );
        assert_eq!(verify(policy(None), &ok, NOW), Err(Refusal::Invalid));
        // A changed expiry or nonce breaks the signature.
        let stretched = SignedUser {
            expiry: Some(Expiry::new(NOW + 200, "n0nce-abc".into()).unwrap()),
            ..ok.clone()
        };
        assert_eq!(
            verify(policy(Some("s3cret")), &stretched, NOW),
            Err(Refusal::Invalid)
        );
        let upper = SignedUser {
            sig: ok.sig.to_uppercase(),
            ..ok.clone()
        };
        assert!(verify(policy(Some("s3cret")), &upper, NOW).is_ok());
    }

    #[test]
    fn a_signature_lasts_no_longer_than_the_policy() {
        let late = signed("k", "p", NOW - CLOCK_SKEW_SECS - 1, "nonce-001");
        assert_eq!(verify(policy(Some("k")), &late, NOW), Err(Refusal::Expired));
        let skewed = signed("k", "p", NOW - 5, "nonce-002");
        assert!(verify(policy(Some("k")), &skewed, NOW).is_ok());
        let forever = signed("k", "p", NOW + 86_400, "nonce-003");
        assert_eq!(
            verify(policy(Some("k")), &forever, NOW),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn the_legacy_form_needs_the_setting() {
        let old = SignedUser {
            user: "p".into(),
            sig: sign_legacy("k", "p"),
            expiry: None,
        };
        assert_eq!(verify(policy(Some("k")), &old, NOW), Err(Refusal::Invalid));
        let legacy = Policy {
            legacy: true,
            ..policy(Some("k"))
        };
        assert!(verify(legacy, &old, NOW).is_ok());
    }

    #[test]
    fn nonces_are_malformed_outside_their_alphabet() {
        assert!(Expiry::new(NOW, "short".into()).is_err());
        assert!(Expiry::new(NOW, "has space in".into()).is_err());
        assert!(Expiry::new(NOW, "x".repeat(65)).is_err());
        assert!(Expiry::new(NOW, "A-z_09".repeat(2)).is_ok());
    }

    /// A nonce opens a conversation once, and afterwards only for the
    /// device it was given to, as two servers on one database see it.
    async fn a_nonce_opens_once_and_then_only_for_its_device(url: &str) {
        let store = Store::connect(url).await.unwrap();
        let nonces = Nonces::new(store.clone());
        let elsewhere = Nonces::new(Store::connect(url).await.unwrap());
        let now = jiff::Timestamp::now().as_second();
        let e = Expiry::new(now + 60, "page-nonce-1".into()).unwrap();
        let phone = TokenDigest([1; 32]);
        let other = TokenDigest([2; 32]);
        assert_eq!(nonces.take(&e, None).await, Ok(()));
        // In flight: nobody else may use it, on any server.
        assert_eq!(
            elsewhere.take(&e, Some(phone)).await,
            Err(Refusal::Replayed)
        );
        nonces.bind(&e, phone).await;
        assert_eq!(elsewhere.take(&e, Some(phone)).await, Ok(()));
        assert_eq!(
            elsewhere.take(&e, Some(other)).await,
            Err(Refusal::Replayed)
        );
        assert_eq!(nonces.take(&e, None).await, Err(Refusal::Replayed));
        // A failed start gives an unbound nonce back.
        let f = Expiry::new(now + 60, "page-nonce-2".into()).unwrap();
        nonces.take(&f, None).await.unwrap();
        nonces.release(&f).await;
        assert_eq!(elsewhere.take(&f, None).await, Ok(()));
        // Expired ones are forgotten.
        assert_eq!(store.nonce_sweep(now + 61).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn nonces_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        a_nonce_opens_once_and_then_only_for_its_device(&crate::store::testing::sqlite_database(
            dir.path(),
        ))
        .await;
    }

    #[tokio::test]
    async fn nonces_on_postgres() {
        if let Some(url) = crate::store::testing::postgres_database().await {
            a_nonce_opens_once_and_then_only_for_its_device(&url).await;
        }
    }
}
