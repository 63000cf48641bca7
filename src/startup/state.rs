//! The one piece of state the application holds: cheap handles, cloned per
//! request. The features never import it: each asks for the handles it uses
//! (`ChatState`, `ConsoleState`, …, and `http::Gate`) through `FromRef`,
//! which this module implements, so every dependency points one way, from
//! here to the features.

use std::sync::Arc;

use axum::extract::FromRef;
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
    /// The channels to patients that are on (e-mail, text messages).
    pub channels: crate::outbound::Channels,
    /// Signs the unsubscribe links in e-mails (derived from the audit key,
    /// so every node shares it).
    pub unsubscribe: crate::outbound::UnsubscribeKey,
    /// Chats by text message (only when text messages are on).
    pub texts: Option<Arc<crate::chat::text::TextChats>>,
    /// Wakes the outbox's sender when a chat by text has something to say.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// The editors' workspace: its write lock, draft bound and rates.
    pub workspace: Arc<crate::editors::Workspace>,
}

impl AppState {
    /// Patient chats open now.
    pub fn open_chats(&self) -> usize {
        self.files.open_chats(&self.connections)
    }
}

impl FromRef<AppState> for crate::http::Gate {
    fn from_ref(s: &AppState) -> Self {
        crate::http::Gate {
            settings: s.settings.clone(),
            sessions: s.sessions.clone(),
            store: s.store.clone(),
        }
    }
}

impl FromRef<AppState> for crate::http::auth::SignIn {
    fn from_ref(s: &AppState) -> Self {
        crate::http::auth::SignIn {
            throttle: s.throttle.clone(),
        }
    }
}

impl FromRef<AppState> for crate::chat::ChatState {
    fn from_ref(s: &AppState) -> Self {
        crate::chat::ChatState {
            settings: s.settings.clone(),
            store: s.store.clone(),
            writer: s.writer.clone(),
            engine: s.engine.clone(),
            embedder: s.embedder.clone(),
            hub: s.hub.clone(),
            clinic: s.clinic.clone(),
            origins: s.origins.clone(),
            identity_nonces: s.identity_nonces.clone(),
            metrics: s.metrics.clone(),
            per_address: s.per_address.clone(),
            connections: s.connections.clone(),
            shutdown: s.shutdown.clone(),
            drain: s.drain.clone(),
        }
    }
}

impl FromRef<AppState> for crate::console::ConsoleState {
    fn from_ref(s: &AppState) -> Self {
        crate::console::ConsoleState {
            settings: s.settings.clone(),
            store: s.store.clone(),
            writer: s.writer.clone(),
            engine: s.engine.clone(),
            scheduler: s.scheduler.clone(),
            hub: s.hub.clone(),
            sessions: s.sessions.clone(),
            metrics: s.metrics.clone(),
            shutdown: s.shutdown.clone(),
            drain: s.drain.clone(),
        }
    }
}

impl FromRef<AppState> for crate::appointments::api::AppointmentsState {
    fn from_ref(s: &AppState) -> Self {
        crate::appointments::api::AppointmentsState {
            scheduler: s.scheduler.clone(),
            writer: s.writer.clone(),
            store: s.store.clone(),
        }
    }
}

impl FromRef<AppState> for crate::compliance::ComplianceState {
    fn from_ref(s: &AppState) -> Self {
        crate::compliance::ComplianceState {
            store: s.store.clone(),
            writer: s.writer.clone(),
        }
    }
}

impl FromRef<AppState> for crate::insights::InsightsState {
    fn from_ref(s: &AppState) -> Self {
        crate::insights::InsightsState {
            settings: s.settings.clone(),
            store: s.store.clone(),
            writer: s.writer.clone(),
            engine: s.engine.clone(),
            embedder: s.embedder.clone(),
            scheduler: s.scheduler.clone(),
            hub: s.hub.clone(),
            metrics: s.metrics.clone(),
            files: s.files,
            connections: s.connections.clone(),
        }
    }
}

impl FromRef<AppState> for crate::editors::EditorsState {
    fn from_ref(s: &AppState) -> Self {
        crate::editors::EditorsState {
            engine: s.engine.clone(),
            embedder: s.embedder.clone(),
            writer: s.writer.clone(),
            shared: s.workspace.clone(),
        }
    }
}

impl FromRef<AppState> for crate::outbound::api::OutboundState {
    fn from_ref(s: &AppState) -> Self {
        crate::outbound::api::OutboundState {
            store: s.store.clone(),
            texter: s.channels.text.clone(),
            public_url: s.settings.public_url.clone(),
            clinic: s.clinic.clone(),
            engine: s.engine.clone(),
            unsubscribe: s.unsubscribe.clone(),
            texts: s.texts.clone(),
        }
    }
}
