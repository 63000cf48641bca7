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
use crate::staff::throttle::LoginThrottle;
use crate::store::{Store, Writer};

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    /// The only way to write conversations: group-committed, in order.
    pub writer: Writer,
    pub engine: Arc<Engine>,
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
    pub throttle: Arc<LoginThrottle>,
    /// One permit per open chat connection.
    pub connections: Arc<Semaphore>,
    /// Held by every connection task; shutdown waits until all are dropped.
    pub drain: mpsc::Sender<()>,
}
