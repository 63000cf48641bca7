//! The one piece of state every handler and connection shares: cheap handles,
//! cloned per request.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, watch};

use crate::chat::origin::OriginPolicy;
use crate::clinic::ClinicHandle;
use crate::config::Settings;
use crate::dialog::Engine;
use crate::queue::Hub;
use crate::staff::sessions::Sessions;
use crate::staff::throttle::SharedThrottle;
use crate::store::{Store, Writer};

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    /// The open-file limit and the chat cap derived from it.
    pub files: crate::fds::FileBudget,
    pub store: Store,
    /// The only way to write conversations: group-committed, in order.
    pub writer: Writer,
    pub engine: Arc<Engine>,
    /// The sentence-embedding model, shared by everything that reads meaning.
    pub embedder: crate::semantic::Embedder,
    /// Open slots, bookings, cancellations.
    pub scheduler: Arc<crate::appointments::Scheduler>,
    /// Who waits for a person, who holds which chat, and their sockets.
    pub hub: Arc<Hub>,
    /// The clinic facts file, kept current as the knowledge directory changes.
    pub clinic: ClinicHandle,
    pub origins: Arc<OriginPolicy>,
    /// Flips to `true` once when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    pub sessions: Arc<Sessions>,
    pub throttle: Arc<SharedThrottle>,
    /// Patient identity nonces seen, until their signatures expire.
    pub identity_nonces: Arc<crate::chat::identity::Nonces>,
    /// Counters for /metrics.
    pub metrics: Arc<crate::insights::metrics::Metrics>,
    /// Open chat connections per client address.
    pub per_address: Arc<crate::chat::per_address::PerAddress>,
    /// One permit per open chat connection.
    pub connections: Arc<Semaphore>,
    /// Held by every connection task; shutdown waits until all are dropped.
    pub drain: mpsc::Sender<()>,
}

impl AppState {
    /// Patient chats open now.
    pub fn open_chats(&self) -> usize {
        self.files
            .max_chats
            .saturating_sub(self.connections.available_permits())
    }

    pub async fn audit(
        &self,
        who: &crate::staff::sessions::StaffSession,
        action: &str,
        target: &str,
        allowed: bool,
    ) -> Result<(), crate::http::HttpError> {
        let entry = crate::store::AuditEntry {
            actor: who.name.clone(),
            role: who.role.as_str().to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            allowed,
        };
        self.writer
            .audit(entry)
            .await
            .map_err(|e| crate::http::HttpError::Internal(e.into()))
    }
}
