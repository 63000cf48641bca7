//! Console sign-in sessions: a random token in an HttpOnly cookie, known
//! only by its digest, stored in the database so a restart keeps staff
//! signed in and any server on the database knows the cookie. A session
//! ends after a stretch of inactivity or a maximum age, on sign-out, or
//! when its account is disabled; ending it closes the staff member's
//! sockets (on another server, within a sweep).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::accounts::{Role, StaffId};
use crate::ids::{hex, is_lower_hex, random_bytes};
use crate::store::{Store, StoreResult};

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
    /// When `last_seen` was last written to the database.
    stored_seen: Instant,
    end: watch::Sender<bool>,
}

/// Every session this server has seen, in front of the database's: the
/// database is the record (any server takes a cookie up from it, and a
/// restart keeps everyone signed in); this cache is what requests and
/// sockets check. The lock is never held across an `.await`.
pub struct Sessions {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    idle: Duration,
    max_age: Duration,
    store: Store,
}

/// How often activity is written to the database at most: every minute, or
/// a quarter of the idle limit when that is shorter.
fn store_every(idle: Duration) -> Duration {
    (idle / 4).min(Duration::from_secs(60))
}

impl Sessions {
    pub fn new(idle: Duration, max_age: Duration, store: Store) -> Self {
        Sessions {
            entries: Mutex::new(HashMap::new()),
            idle,
            max_age,
            store,
        }
    }

    /// Signs in: stored first, so an unstored session is never handed out.
    pub async fn create(
        &self,
        staff: StaffId,
        name: String,
        role: Role,
    ) -> StoreResult<(SessionToken, StaffSession)> {
        let token = SessionToken::generate();
        self.store.create_session(&token.digest(), staff).await?;
        let session = self.remember(token.digest(), staff, name, role, Instant::now());
        Ok((token, session))
    }

    fn remember(
        &self,
        key: [u8; 32],
        staff: StaffId,
        name: String,
        role: Role,
        created: Instant,
    ) -> StaffSession {
        let mut entries = self.lock();
        if let Some(known) = entries.get(&key) {
            return known.session.clone();
        }
        let (end, ended) = watch::channel(false);
        let session = StaffSession {
            staff,
            name,
            role,
            ended,
        };
        let now = Instant::now();
        entries.insert(
            key,
            Entry {
                session: session.clone(),
                created,
                last_seen: now,
                stored_seen: now,
                end,
            },
        );
        session
    }

    /// The session for `token` if it is still live, marking it active now.
    /// A session this server has not seen (signed in on another node, or
    /// before a restart) is taken up from the database.
    pub async fn touch(&self, token: &SessionToken) -> Option<StaffSession> {
        let key = token.digest();
        let now = Instant::now();
        let cached = {
            let mut entries = self.lock();
            match entries.get_mut(&key) {
                Some(entry) if self.expired(entry, now) => {
                    if let Some(gone) = entries.remove(&key) {
                        let _ = gone.end.send(true);
                    }
                    Some(None)
                }
                Some(entry) => {
                    entry.last_seen = now;
                    let write = now.duration_since(entry.stored_seen) >= store_every(self.idle);
                    if write {
                        entry.stored_seen = now;
                    }
                    Some(Some((entry.session.clone(), write)))
                }
                None => None,
            }
        };
        match cached {
            Some(Some((session, write))) => {
                if write {
                    // Best effort: a failed write only shortens its life elsewhere.
                    let _ = self.store.touch_session(&key).await;
                }
                Some(session)
            }
            Some(None) => {
                let _ = self.store.end_sessions(Some(&key), None).await;
                None
            }
            None => self.take_up(key).await,
        }
    }

    async fn take_up(&self, key: [u8; 32]) -> Option<StaffSession> {
        let stored = self.store.session(&key).await.ok()??;
        let role = stored.role.parse::<Role>().ok()?;
        let now = jiff::Timestamp::now();
        // A time a moment ahead of this node's clock (another node's clock
        // runs a little fast) is no age at all, not a broken session.
        let age = |at: &str| {
            at.parse::<jiff::Timestamp>().ok().map(|t| {
                let age = now.duration_since(t).max(jiff::SignedDuration::ZERO);
                Duration::try_from(age).unwrap_or_default()
            })
        };
        let (lived, idle) = (age(&stored.created_at)?, age(&stored.last_seen)?);
        if stored.disabled || lived >= self.max_age || idle >= self.idle {
            let _ = self.store.end_sessions(Some(&key), None).await;
            return None;
        }
        let created = Instant::now()
            .checked_sub(lived)
            .unwrap_or_else(Instant::now);
        let session = self.remember(key, stored.staff, stored.name, role, created);
        let _ = self.store.touch_session(&key).await;
        Some(session)
    }

    /// Ends one session (sign-out), on every server.
    pub async fn end(&self, token: &SessionToken) {
        let key = token.digest();
        if let Some(gone) = self.lock().remove(&key) {
            let _ = gone.end.send(true);
        }
        let _ = self.store.end_sessions(Some(&key), None).await;
    }

    /// Ends every session of an account (disabled, or password changed).
    pub async fn end_all_for(&self, staff: StaffId) {
        self.forget_all_for(staff);
        let _ = self.store.end_sessions(None, Some(staff)).await;
    }

    fn forget_all_for(&self, staff: StaffId) {
        self.lock().retain(|_, e| {
            let keep = e.session.staff != staff;
            if !keep {
                let _ = e.end.send(true);
            }
            keep
        });
    }

    /// The accounts with a live session here, each once.
    pub fn accounts(&self) -> Vec<StaffId> {
        let mut ids: Vec<StaffId> = self.lock().values().map(|e| e.session.staff).collect();
        ids.sort_by_key(|id| id.0);
        ids.dedup();
        ids
    }

    /// Ends sessions that expired, or that were ended on another server
    /// (no longer stored), closing their sockets; deletes expired ones from
    /// the database. Run periodically.
    pub async fn sweep(&self) -> usize {
        let now = Instant::now();
        let expired = {
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
        };
        let cached: Vec<[u8; 32]> = self.lock().keys().copied().collect();
        let mut ended_elsewhere = 0;
        if !cached.is_empty()
            && let Ok(live) = self.store.live_sessions(&cached).await
        {
            let mut entries = self.lock();
            for key in cached.iter().filter(|k| !live.contains(k)) {
                if let Some(gone) = entries.remove(key) {
                    let _ = gone.end.send(true);
                    ended_elsewhere += 1;
                }
            }
        }
        let stamp = |d: Duration| {
            let t = jiff::Timestamp::now() - jiff::SignedDuration::try_from(d).unwrap_or_default();
            format!("{t:.3}")
        };
        let _ = self
            .store
            .purge_sessions(&stamp(self.idle), &stamp(self.max_age))
            .await;
        expired + ended_elsewhere
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

    /// Sessions over a fresh database with two accounts.
    async fn sessions(idle: Duration) -> (Sessions, Store, StaffId, StaffId) {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let maria = store.create_staff("maria", Role::Agent, "x").await.unwrap();
        let lee = store.create_staff("lee", Role::Agent, "x").await.unwrap();
        let sessions = Sessions::new(idle, Duration::from_secs(3600), store.clone());
        (sessions, store, maria, lee)
    }

    #[tokio::test]
    async fn a_session_lives_until_it_is_ended_and_its_sockets_hear_it() {
        let (sessions, _, maria, _) = sessions(Duration::from_secs(60)).await;
        let (token, session) = sessions
            .create(maria, "maria".into(), Role::Agent)
            .await
            .unwrap();
        assert_eq!(sessions.touch(&token).await.unwrap().name, "maria");
        sessions.end(&token).await;
        assert!(sessions.touch(&token).await.is_none());
        assert!(*session.ended.borrow());
    }

    #[tokio::test]
    async fn idle_sessions_expire() {
        let (sessions, _, maria, _) = sessions(Duration::ZERO).await;
        let (token, session) = sessions
            .create(maria, "maria".into(), Role::Agent)
            .await
            .unwrap();
        assert!(sessions.touch(&token).await.is_none());
        assert!(*session.ended.borrow());
    }

    #[tokio::test]
    async fn disabling_an_account_ends_all_its_sessions() {
        let (sessions, _, maria, lee) = sessions(Duration::from_secs(60)).await;
        let (a, _) = sessions
            .create(maria, "maria".into(), Role::Agent)
            .await
            .unwrap();
        let (b, _) = sessions
            .create(maria, "maria".into(), Role::Agent)
            .await
            .unwrap();
        let (c, _) = sessions
            .create(lee, "lee".into(), Role::Agent)
            .await
            .unwrap();
        sessions.end_all_for(maria).await;
        assert!(sessions.touch(&a).await.is_none() && sessions.touch(&b).await.is_none());
        assert!(sessions.touch(&c).await.is_some());
        assert!(SessionToken::parse(a.expose()).is_some());
        assert!(SessionToken::parse("st_nope").is_none());
    }

    /// Two servers on one database: a cookie from one is taken up by the
    /// other (or by the same one after a restart); signing out on one ends
    /// the session on the other at its next sweep, closing its sockets.
    #[tokio::test]
    async fn a_session_is_known_to_every_server_on_the_database() {
        let (here, store, maria, _) = sessions(Duration::from_secs(60)).await;
        let there = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600), store);
        let (token, _) = here
            .create(maria, "maria".into(), Role::Agent)
            .await
            .unwrap();
        let taken_up = there.touch(&token).await.expect("known from the database");
        assert_eq!((taken_up.staff, taken_up.role), (maria, Role::Agent));
        here.end(&token).await;
        assert_eq!(there.sweep().await, 1);
        assert!(*taken_up.ended.borrow());
        assert!(there.touch(&token).await.is_none());
    }
}
