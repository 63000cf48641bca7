//! Verified patient identity: the clinic's site, where the patient is
//! signed in, signs their user id with HMAC-SHA256 under a secret it shares
//! with Frontdesk. A valid signature lets the same conversation follow the
//! patient to another device; the id itself is kept only as a digest.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::ids::TokenDigest;

/// Longest user id accepted.
const MAX_USER_LEN: usize = 256;

/// The identity's digest when `sig` (hex) is the HMAC of `user` under
/// `secret`; `None` when there is no secret, or the signature is wrong.
/// The comparison takes the same time wherever the signatures differ.
pub fn verify(secret: Option<&str>, user: &str, sig: &str) -> Option<TokenDigest> {
    let secret = secret.filter(|s| !s.is_empty())?;
    if user.is_empty() || user.len() > MAX_USER_LEN {
        return None;
    }
    let sig = decode_hex(sig.trim())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(user.as_bytes());
    mac.verify_slice(&sig).ok()?;
    let mut h = Sha256::new();
    h.update(b"frontdesk-identity:");
    h.update(user.as_bytes());
    Some(TokenDigest(h.finalize().into()))
}

/// What the clinic's site computes (used by tests and docs examples).
pub fn sign(secret: &str, user: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(user.as_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_signature_verifies() {
        let sig = sign("s3cret", "patient-42");
        assert!(verify(Some("s3cret"), "patient-42", &sig).is_some());
        assert!(verify(Some("s3cret"), "patient-43", &sig).is_none());
        assert!(verify(Some("other"), "patient-42", &sig).is_none());
        assert!(
            verify(None, "patient-42", &sig).is_none(),
            "no secret, no identity"
        );
        assert!(verify(Some("s3cret"), "patient-42", "zz").is_none());
        assert_eq!(
            verify(Some("s3cret"), "patient-42", &sig),
            verify(Some("s3cret"), "patient-42", &sig.to_uppercase())
        );
    }
}
