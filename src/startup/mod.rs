//! Building and running the server: bind, connect, start the writer, serve
//! until told to stop, then shut down in order.
//!
//! - `prepare`: what is read or set up once before serving (the queue, the
//!   first admin, the audit key, the clinic and safety files);
//! - `tasks`: what runs beside the server until shutdown (sweeps, account
//!   checks, following knowledge edits, the safety examples);
//! - `routes`: every route and the layers every response passes.

mod health;
#[cfg(test)]
mod layering;
mod prepare;
mod routes;
pub mod state;
mod tasks;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::chat::origin::OriginPolicy;
use crate::clinic::ClinicHandle;
use crate::compliance::key::Missing;
use crate::config::Settings;
use crate::dialog::Engine;
use crate::dialog::contact::StoredContacts;
use crate::knowledge::Knowledge;
use crate::safety::SafetyHandle;
use crate::staff::sessions::Sessions;
use crate::staff::throttle::SharedThrottle;
use crate::store::{Store, Writer};
use state::AppState;

/// Numbers texting the clinic at once, each with a task on this node.
const MAX_TEXT_CHATS: usize = 1000;

use prepare::{ensure_an_admin, key_the_audit_log, load_clinic, load_safety, restore_queue};
use tasks::{ExampleBuilder, end_disabled_sessions, follow_knowledge_files, sweep_sessions};

/// A server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
    drain_rx: mpsc::Receiver<()>,
    writer_task: JoinHandle<()>,
    initial_admin_password: Option<String>,
    /// Which channels to patients are on (e-mail, text messages).
    channels: crate::outbound::Channels,
}

impl Application {
    /// Binds the listener, opens and migrates the database, starts the writer.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        // Before anything is opened: a half-configured channel stops the start.
        let channels = crate::outbound::Channels::from_settings(&settings.channels)
            .map_err(anyhow::Error::msg)?;
        let store = Store::connect(&settings.data.database_url)
            .await
            .context("cannot open the database")?;
        let listener = TcpListener::bind(&settings.bind)
            .await
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let addr = listener.local_addr()?;
        let initial_admin_password = ensure_an_admin(&store).await?;
        let knowledge_dir = settings.data.knowledge.clone();
        // (Its error already names the directory.)
        let knowledge = Knowledge::open(knowledge_dir.clone(), settings.decision.clone()).await?;
        let embedder = settings.model.start();
        knowledge.use_meaning(embedder.clone(), Some(settings.model.vector_cache()));
        let clinic = ClinicHandle::new(load_clinic(&knowledge_dir));
        let safety = SafetyHandle::new(load_safety(&knowledge_dir));
        let examples = ExampleBuilder::new(
            knowledge_dir.clone(),
            embedder.clone(),
            safety.clone(),
            settings.model.model_dir.join("safety-vectors.bin"),
        );
        examples.spawn_when_ready();
        tokio::spawn(follow_knowledge_files(
            knowledge_dir,
            knowledge.subscribe_reloads(),
            clinic.clone(),
            safety.clone(),
            examples,
        ));
        let hub = restore_queue(&store).await?;
        let audit_key = crate::compliance::key::load(&settings.data, Missing::Create)?;
        let (writer, writer_task) = Writer::spawn(store.clone());
        let writer = writer
            .with_audit_key(audit_key.clone())
            .with_channels(channels.on());
        key_the_audit_log(&store, &writer, &audit_key).await?;
        let limits = &settings.limits;
        let scheduler = Arc::new(
            crate::appointments::Scheduler::new(clinic.clone(), store.clone(), writer.clone())
                .with_limits(crate::appointments::ChatBookingLimits {
                    per_visitor: limits.chat_bookings_per_visitor,
                    per_contact: limits.chat_bookings_per_contact,
                    per_address: limits.chat_bookings_per_address,
                    burst: limits.chat_booking_burst,
                })
                .confirming_by(channels.on()),
        );
        let (shutdown_tx, shutdown) = watch::channel(false);
        let (drain, drain_rx) = mpsc::channel(1);
        let files = crate::fds::raise_and_budget(settings.limits.max_connections);
        if files.max_chats < settings.limits.max_connections {
            tracing::warn!(
                open_files = files.open_files,
                max_chats = files.max_chats,
                "the open-file limit caps chats below FRONTDESK_MAX_CONNECTIONS; raise LimitNOFILE"
            );
        }
        let mut state = AppState {
            files,
            origins: Arc::new(OriginPolicy::new(&settings.allowed_origins)),
            connections: Arc::new(Semaphore::new(files.max_chats)),
            store: store.clone(),
            engine: Arc::new(Engine::new(
                knowledge,
                scheduler.clone(),
                Arc::new(StoredContacts::new(store.clone(), writer.clone())),
                safety,
                embedder.clone(),
            )),
            writer,
            embedder,
            scheduler,
            hub,
            clinic,
            sessions: Arc::new(Sessions::new(
                settings.sessions.idle(),
                settings.sessions.max_age(),
                store.clone(),
            )),
            throttle: Arc::new(SharedThrottle::new(store.clone(), "signin")),
            identity_nonces: Arc::new(crate::chat::identity::Nonces::new(store.clone())),
            per_address: Arc::default(),
            metrics: Arc::default(),
            shutdown,
            drain,
            channels: channels.clone(),
            unsubscribe: crate::outbound::UnsubscribeKey::new(audit_key.derive("unsubscribe")),
            texts: None,
            outbox_wake: Arc::default(),
            workspace: Arc::default(),
            settings: Arc::new(settings),
        };
        if channels.text.is_some() {
            state.texts = Some(crate::chat::text::TextChats::new(
                axum::extract::FromRef::from_ref(&state),
                audit_key.derive("text visitors"),
                state.outbox_wake.clone(),
                MAX_TEXT_CHATS,
            ));
        }
        Ok(Application {
            listener,
            addr,
            state,
            shutdown_tx,
            drain_rx,
            writer_task,
            initial_admin_password,
            channels,
        })
    }

    /// The open-file limit and the chat cap derived from it.
    pub fn files(&self) -> crate::fds::FileBudget {
        self.state.files
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The live knowledge base (tests wait on its reloads).
    pub fn knowledge(&self) -> crate::knowledge::Knowledge {
        self.state.engine.knowledge().clone()
    }

    /// Whether the language model is ready or missing (and why), waiting a
    /// few seconds for it to load; `Loading` while it is being fetched.
    pub fn model_status(
        &self,
    ) -> impl std::future::Future<Output = crate::semantic::ModelStatus> + Send + 'static {
        let embedder = self.state.embedder.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                embedder.wait_settled(Some(std::time::Duration::from_secs(5)))
            })
            .await
            .unwrap_or(crate::semantic::ModelStatus::Loading)
        }
    }

    /// The sentence-embedding model's handle (tests wait for it to load).
    pub fn embedder(&self) -> crate::semantic::Embedder {
        self.state.embedder.clone()
    }

    /// How many safety examples the learned signal serves (tests wait on it).
    pub fn safety_examples(&self) -> tokio::sync::watch::Receiver<usize> {
        self.state.engine.subscribe_safety_examples()
    }

    /// The password of the `admin` account created on this start, when the
    /// database had no accounts. Shown once; it is stored only as a hash.
    /// Which channels to patients are on, for the start banner.
    pub fn channels(&self) -> String {
        self.channels.describe()
    }

    pub fn initial_admin_password(&self) -> Option<&str> {
        self.initial_admin_password.as_deref()
    }

    /// Serves until `signal` completes, then: stops accepting, tells every
    /// chat the server is restarting (close 1012), waits for connections to
    /// finish and for the writer to commit everything queued.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            state,
            shutdown_tx,
            mut drain_rx,
            writer_task,
            channels,
            ..
        } = self;
        let grace = state.settings.limits.shutdown_grace();
        let purger = tokio::spawn(crate::compliance::daily_purge(
            state.writer.clone(),
            state.settings.retention_days,
            state.shutdown.clone(),
        ));
        let sweeper = tokio::spawn(sweep_sessions(
            state.sessions.clone(),
            state.identity_nonces.clone(),
            state.shutdown.clone(),
        ));
        // Other nodes on the same database hear of this one's queue, and
        // it of theirs (PostgreSQL only).
        let relay = crate::queue::relay::start(
            state.hub.clone(),
            state.store.clone(),
            state.shutdown.clone(),
        );
        let account_checker = tokio::spawn(end_disabled_sessions(
            state.sessions.clone(),
            state.store.clone(),
            state.shutdown.clone(),
        ));
        // Messages to patients, from the outbox (when a channel is on).
        let outbox = channels.any().then(|| {
            tokio::spawn(
                crate::outbound::Sender {
                    store: state.store.clone(),
                    channels,
                    clinic: state.clinic.clone(),
                    knowledge_dir: state.settings.data.knowledge.clone(),
                    public_url: state.settings.public_url.clone(),
                    unsubscribe: state.unsubscribe.clone(),
                    wake: state.outbox_wake.clone(),
                }
                .run(state.shutdown.clone()),
            )
        });
        let router = routes::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let stopping = async move {
            signal.await;
            tracing::info!("shutting down: closing chats");
            let _ = shutdown_tx.send(true);
        };
        axum::serve(listener, router)
            .with_graceful_shutdown(stopping)
            .await
            .context("the server failed")?;
        let _ = sweeper.await;
        let _ = account_checker.await;
        let _ = purger.await;
        if let Some(outbox) = outbox
            && tokio::time::timeout(grace, outbox).await.is_err()
        {
            tracing::warn!("the outbox sender did not stop within the grace period");
        }
        if let Some(relay) = relay
            && tokio::time::timeout(grace, relay).await.is_err()
        {
            tracing::warn!("the relay to other nodes did not stop within the grace period");
        }
        // Every connection task holds a drain sender; recv() yields None once
        // the last one has finished.
        if tokio::time::timeout(grace, drain_rx.recv()).await.is_err() {
            tracing::warn!("some chat connections did not finish within the grace period");
        }
        if tokio::time::timeout(grace, writer_task).await.is_err() {
            tracing::warn!("the message writer did not finish within the grace period");
        }
        tracing::info!("shutdown complete");
        Ok(())
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}
