//! Console sign-in sessions, kept in memory: a random token in an HttpOnly
//! cookie, known here only by its digest. A session ends after a stretch of
//! inactivity or a maximum age, on sign-out, or when its account is disabled;
//! ending it closes the staff member's sockets.
//!
//! Sessions do not survive a restart: staff sign in again. (Several nodes
//! would need them in the store; see docs/operations.md.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::{Role, StaffId};
use crate::ids::{hex, is_lower_hex, random_bytes};

/// The cookie value: `st_` and 64 hex digits. Never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    fn generate() -> Self {
        SessionToken(format!("st_{}", hex(&random_bytes::<32>())))
    }

    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("st_")?;
        (rest.len() == 64 && is_lower_hex(rest)).then(|| SessionToken(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// Who is signed in, as handlers and sockets see it.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub staff: StaffId,
    pub name: String,
    pub role: Role,
    /// Becomes `true` when the session ends; sockets close on it.
    pub ended: watch::Receiver<bool>,
}

struct Entry {
    session: StaffSession,
    created: Instant,
    last_seen: Instant,
    end: watch::Sender<bool>,
}

/// Every live session. The lock is never held across an `.await`.
pub struct Sessions {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    idle: Duration,
    max_age: Duration,
}

impl Sessions {
    pub fn new(idle: Duration, max_age: Duration) -> Self {
        Sessions {
            entries: Mutex::new(HashMap::new()),
            idle,
            max_age,
        }
    }

    pub fn create(&self, staff: StaffId, name: String, role: Role) -> (SessionToken, StaffSession) {
        let token = SessionToken::generate();
        let (end, ended) = watch::channel(false);
        let session = StaffSession {
            staff,
            name,
            role,
            ended,
        };
        let now = Instant::now();
        let entry = Entry {
            session: session.clone(),
            created: now,
            last_seen: now,
            end,
        };
        self.lock().insert(token.digest(), entry);
        (token, session)
    }

    /// The session for `token` if it is still live, marking it active now.
    pub fn touch(&self, token: &SessionToken) -> Option<StaffSession> {
        let now = Instant::now();
        let mut entries = self.lock();
        let key = token.digest();
        let entry = entries.get_mut(&key)?;
        if self.expired(entry, now) {
            if let Some(gone) = entries.remove(&key) {
                let _ = gone.end.send(true);
            }
            return None;
        }
        entry.last_seen = now;
        Some(entry.session.clone())
    }

    /// Ends one session (sign-out).
    pub fn end(&self, token: &SessionToken) {
        if let Some(gone) = self.lock().remove(&token.digest()) {
            let _ = gone.end.send(true);
        }
    }

    /// Ends every session of an account (disabled, or password changed).
    pub fn end_all_for(&self, staff: StaffId) {
        self.lock().retain(|_, e| {
            let keep = e.session.staff != staff;
            if !keep {
                let _ = e.end.send(true);
            }
            keep
        });
    }

    /// The accounts with a live session, each once.
    pub fn accounts(&self) -> Vec<StaffId> {
        let mut ids: Vec<StaffId> = self.lock().values().map(|e| e.session.staff).collect();
        ids.sort_by_key(|id| id.0);
        ids.dedup();
        ids
    }

    /// Ends expired sessions; run periodically so idle sockets close too.
    pub fn sweep(&self) -> usize {
        let now = Instant::now();
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, e| {
            let keep = !self.expired(e, now);
            if !keep {
                let _ = e.end.send(true);
            }
            keep
        });
        before - entries.len()
    }

    /// The idle limit, so the sweep can run often enough.
    pub fn idle_limit(&self) -> Duration {
        self.idle
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        now.duration_since(e.last_seen) >= self.idle
            || now.duration_since(e.created) >= self.max_age
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        // A panic while holding this lock cannot leave the map inconsistent
        // (every mutation is a single insert/remove), so poison is ignored.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_until_it_is_ended_and_its_sockets_hear_it() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600));
        let (token, session) = sessions.create(StaffId(1), "maria".into(), Role::Agent);
        assert_eq!(sessions.touch(&token).unwrap().name, "maria");
        sessions.end(&token);
        assert!(sessions.touch(&token).is_none());
        assert!(*session.ended.borrow());
    }

    #[test]
    fn idle_sessions_expire() {
        let sessions = Sessions::new(Duration::ZERO, Duration::from_secs(3600));
        let (token, session) = sessions.create(StaffId(1), "maria".into(), Role::Agent);
        assert!(sessions.touch(&token).is_none());
        assert!(*session.ended.borrow());
    }

    #[test]
    fn disabling_an_account_ends_all_its_sessions() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600));
        let (a, _) = sessions.create(StaffId(1), "maria".into(), Role::Agent);
        let (b, _) = sessions.create(StaffId(1), "maria".into(), Role::Agent);
        let (c, _) = sessions.create(StaffId(2), "lee".into(), Role::Agent);
        sessions.end_all_for(StaffId(1));
        assert!(sessions.touch(&a).is_none() && sessions.touch(&b).is_none());
        assert!(sessions.touch(&c).is_some());
        assert!(SessionToken::parse(a.expose()).is_some());
        assert!(SessionToken::parse("st_nope").is_none());
    }
}
