//! Identifiers and secrets that cross module boundaries, parsed once at the edge.
//!
//! Conversation ids are public (they appear in the console and in URLs); resume
//! tokens are bearer secrets, so they are only ever stored as a SHA-256 digest
//! and their `Debug` output is redacted to keep them out of logs.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system random source is unavailable");
    buf
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

pub(crate) fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Why an identifier from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {0}")]
pub struct MalformedId(&'static str);

/// A conversation's public id: `cv_` and 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationId(String);

impl ConversationId {
    const PREFIX: &'static str = "cv_";

    /// A fresh random id.
    pub fn generate() -> Self {
        Self(format!("{}{}", Self::PREFIX, hex(&random_bytes::<16>())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ConversationId {
    type Err = MalformedId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix(Self::PREFIX) {
            Some(rest) if rest.len() == 32 && is_lower_hex(rest) => Ok(Self(s.to_owned())),
            _ => Err(MalformedId("conversation id")),
        }
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret that lets a patient's device come back to its conversation.
///
/// `rt_` and 64 hex digits (256 random bits). Never logged: `Debug` is redacted
/// and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumeToken(String);

impl ResumeToken {
    const PREFIX: &'static str = "rt_";

    pub fn generate() -> Self {
        Self(format!("{}{}", Self::PREFIX, hex(&random_bytes::<32>())))
    }

    /// The token as sent to its owner, and only to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps: a digest, so a database leak does not hand out
    /// live tokens.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl FromStr for ResumeToken {
    type Err = MalformedId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix(Self::PREFIX) {
            Some(rest) if rest.len() == 64 && is_lower_hex(rest) => Ok(Self(s.to_owned())),
            _ => Err(MalformedId("resume token")),
        }
    }
}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResumeToken(<redacted>)")
    }
}

/// SHA-256 of a resume token, the form in which the store knows it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(<redacted>)")
    }
}

/// The id a client gives each message it sends, for idempotent delivery.
/// 1 to 64 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientMessageId(String);

impl ClientMessageId {
    pub const MAX_LEN: usize = 64;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClientMessageId {
    type Err = MalformedId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok =
            !s.is_empty() && s.len() <= Self::MAX_LEN && s.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(MalformedId("message id"))
        }
    }
}

impl fmt::Display for ClientMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_through_parse() {
        let c = ConversationId::generate();
        assert_eq!(c.as_str().parse::<ConversationId>(), Ok(c.clone()));
        let t = ResumeToken::generate();
        assert_eq!(t.expose().parse::<ResumeToken>(), Ok(t.clone()));
        assert_ne!(ResumeToken::generate(), t);
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "cv_",
            "cv_XYZ",
            "rt_123",
            "cv_0123456789abcdef0123456789ABCDEF",
        ] {
            assert!(bad.parse::<ConversationId>().is_err(), "{bad}");
            assert!(bad.parse::<ResumeToken>().is_err(), "{bad}");
        }
        assert!("".parse::<ClientMessageId>().is_err());
        assert!("a b".parse::<ClientMessageId>().is_err());
        assert!("x".repeat(65).parse::<ClientMessageId>().is_err());
        assert!("c-1".parse::<ClientMessageId>().is_ok());
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let t = ResumeToken::generate();
        assert!(!format!("{t:?}").contains(&t.expose()[3..]));
        assert_eq!(format!("{:?}", t.digest()), "TokenDigest(<redacted>)");
    }
}
