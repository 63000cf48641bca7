//! The editors' workspace API: the knowledge articles read, checked,
//! tried and saved from the console, while the files stay the one source
//! of truth (still editable by hand and in git).
//!
//! # Layout
//! - `articles`: list, read, save (`If-Match`), create and retire.
//! - `trying`: ask a question of the saved knowledge or of a draft, and
//!   check a draft as it is typed (problems and the answer's preview).
//! - `fields`: the article as the workspace sends it, and the file text it
//!   becomes (the front matter edited in place, comments kept).
//! - `files`: version tags, the atomic write, where new articles go,
//!   retiring.
//! - `verdict`: the JSON line of `frontdesk answer`, which `try` answers too.
//!
//! Invariants: editors and admins only (others 403, audited); every write
//! is audited with the article and a hash of the file before and after,
//! never its text; a save checks the file's version and the article's
//! problems under one lock, so two saves never interleave; a draft never
//! changes what patients get; no question or article text is logged.

mod articles;
pub mod fields;
pub mod files;
mod trying;
pub mod verdict;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post};

use crate::accounts::StaffId;
use crate::chat::rate::RateLimiter;
use crate::http::{Gate, HttpError};
use crate::staff::sessions::StaffSession;

/// Largest request body: an article file may be up to 1 MiB, and its text
/// travels as JSON (escaped).
const MAX_BODY_BYTES: usize = 3 << 20;
/// Saves, creations and retirements per account per minute.
const WRITES_PER_MINUTE: u32 = 30;
/// Questions tried and drafts checked per account per minute (a check runs
/// as the editor types, debounced).
const READS_PER_MINUTE: u32 = 300;
/// Drafts built or checked at once on this node (each may build a private
/// index of every article).
const DRAFTS_AT_ONCE: usize = 2;

/// The handles the workspace's routes use.
#[derive(Clone)]
pub struct EditorsState {
    pub engine: Arc<crate::dialog::Engine>,
    pub embedder: crate::semantic::Embedder,
    pub writer: crate::store::Writer,
    pub shared: Arc<Workspace>,
}

/// What every request of the workspace shares on this node.
pub struct Workspace {
    /// Held while a file is compared with its version and replaced.
    writing: tokio::sync::Mutex<()>,
    drafts: tokio::sync::Semaphore,
    limits: Mutex<HashMap<(StaffId, Kind), RateLimiter>>,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            writing: tokio::sync::Mutex::new(()),
            drafts: tokio::sync::Semaphore::new(DRAFTS_AT_ONCE),
            limits: Mutex::new(HashMap::new()),
        }
    }
}

/// Which rate a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Write,
    Read,
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Gate: FromRef<S>,
    EditorsState: FromRef<S>,
{
    Router::new()
        .route(
            "/api/knowledge/articles",
            get(articles::list).post(articles::create),
        )
        .route(
            "/api/knowledge/articles/{id}",
            get(articles::read)
                .put(articles::save)
                .delete(articles::retire),
        )
        .route("/api/knowledge/try", post(trying::try_question))
        .route("/api/knowledge/check", post(trying::check))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

impl EditorsState {
    fn knowledge(&self) -> &crate::knowledge::Knowledge {
        self.engine.knowledge()
    }

    /// Refuses (403, audited) staff who do not edit knowledge, and (429)
    /// an account past its rate.
    async fn admit(
        &self,
        session: &StaffSession,
        kind: Kind,
        action: &str,
        target: &str,
    ) -> Result<(), HttpError> {
        if !session.role.edits_knowledge() {
            session.audit(&self.writer, action, target, false).await?;
            return Err(HttpError::Forbidden(
                "the knowledge workspace is for editors and admins",
            ));
        }
        let per_minute = match kind {
            Kind::Write => WRITES_PER_MINUTE,
            Kind::Read => READS_PER_MINUTE,
        };
        let now = Instant::now();
        let mut limits = self
            .shared
            .limits
            .lock()
            .map_err(|_| HttpError::Internal(anyhow::anyhow!("rate table poisoned")))?;
        // One entry per account and kind; staff accounts are few, but the
        // table is still bounded.
        if limits.len() > 10_000 {
            limits.clear();
        }
        let limiter = limits
            .entry((session.staff, kind))
            .or_insert_with(|| RateLimiter::per_minute(per_minute, now));
        if limiter.allow(now) {
            Ok(())
        } else {
            Err(HttpError::TooManyRequests(limiter.retry_after()))
        }
    }
}

/// An article id from the path, parsed once here.
fn article_id(raw: &str) -> Result<crate::knowledge::ArticleId, HttpError> {
    crate::knowledge::ArticleId::parse(raw).map_err(|e| HttpError::BadRequest(e.to_string()))
}

/// Runs blocking file or index work off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HttpError::Internal(e.into()))
}
