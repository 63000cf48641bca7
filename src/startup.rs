//! Building and running the server: bind, connect, start the writer, serve
//! until told to stop, then shut down in order.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::chat::origin::OriginPolicy;
use crate::clinic::{Clinic, ClinicHandle};
use crate::compliance::key::Missing;
use crate::config::Settings;
use crate::dialog::Engine;
use crate::knowledge::Knowledge;
use crate::queue::{Hub, Waiting};
use crate::safety::{Rules, SafetyHandle};
use crate::staff::sessions::Sessions;
use crate::staff::throttle::LoginThrottle;
use crate::staff::{Role, password};
use crate::state::AppState;
use crate::store::AuditKey;
use crate::store::{Store, Writer};

/// A server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
    drain_rx: mpsc::Receiver<()>,
    writer_task: JoinHandle<()>,
    initial_admin_password: Option<String>,
}

impl Application {
    /// Binds the listener, opens and migrates the database, starts the writer.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
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
        let writer = writer.with_audit_key(audit_key.clone());
        key_the_audit_log(&store, &writer, &audit_key).await?;
        let limits = &settings.limits;
        let scheduler = Arc::new(
            crate::appointments::Scheduler::new(clinic.clone(), store.clone(), writer.clone())
                .with_limits(crate::appointments::ChatBookingLimits {
                    per_visitor: limits.chat_bookings_per_visitor,
                    per_contact: limits.chat_bookings_per_contact,
                    per_address: limits.chat_bookings_per_address,
                    burst: limits.chat_booking_burst,
                }),
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
        let state = AppState {
            files,
            origins: Arc::new(OriginPolicy::new(&settings.allowed_origins)),
            connections: Arc::new(Semaphore::new(files.max_chats)),
            store,
            writer,
            engine: Arc::new(Engine::new(
                knowledge,
                scheduler.clone(),
                safety,
                embedder.clone(),
            )),
            embedder,
            scheduler,
            hub,
            clinic,
            sessions: Arc::new(Sessions::new(
                settings.sessions.idle(),
                settings.sessions.max_age(),
            )),
            throttle: Arc::new(LoginThrottle::default()),
            identity_nonces: Arc::default(),
            per_address: Arc::default(),
            metrics: Arc::default(),
            shutdown,
            drain,
            settings: Arc::new(settings),
        };
        Ok(Application {
            listener,
            addr,
            state,
            shutdown_tx,
            drain_rx,
            writer_task,
            initial_admin_password,
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
        let account_checker = tokio::spawn(end_disabled_sessions(
            state.sessions.clone(),
            state.store.clone(),
            state.shutdown.clone(),
        ));
        let router = crate::http::router(state).into_make_service_with_connect_info::<SocketAddr>();
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

/// Checks that `key` is the audit log's key, and anchors rows from before
/// the log was keyed under it (one keyed row after them covers them all).
/// A key that does not match stops the start: rows written under it could
/// never be verified together with the ones before.
async fn key_the_audit_log(store: &Store, writer: &Writer, key: &AuditKey) -> anyhow::Result<()> {
    let newest = store.audit_head().await?;
    match crate::store::key_matches(newest.as_ref(), key) {
        Ok(true) => Ok(()),
        Ok(false) => {
            let entry = crate::store::AuditEntry {
                actor: "frontdesk".into(),
                role: "system".into(),
                action: "audit.keyed".into(),
                target: format!("entries up to {}", newest.map_or(0, |r| r.id)),
                allowed: true,
            };
            writer.audit(entry).await?;
            tracing::info!("the audit log's earlier entries are now anchored under its key");
            Ok(())
        }
        Err(_) => anyhow::bail!(
            "the audit log's newest entry does not verify under this audit key (key {}): either it is not the log's key, or the entry was changed. Set FRONTDESK_AUDIT_KEY or FRONTDESK_AUDIT_KEY_FILE to the log's key; `frontdesk audit verify` says more",
            key.fingerprint()
        ),
    }
}

/// Reads clinic.toml; a broken file is logged and the defaults serve.
fn load_clinic(dir: &std::path::Path) -> Clinic {
    Clinic::load(dir).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "clinic.toml is invalid; using defaults until it is fixed");
        Clinic::default()
    })
}

/// Reads safety.toml; a broken file is logged and the built-in rules serve.
fn load_safety(dir: &std::path::Path) -> Rules {
    Rules::load(dir).unwrap_or_else(|e| {
        tracing::error!(error = %e, "safety.toml is invalid; using the built-in rules until it is fixed");
        Rules::built_in()
    })
}

/// Re-reads clinic.toml and safety.toml whenever the knowledge directory
/// reloads. A broken edit keeps the last good version.
async fn follow_knowledge_files(
    dir: std::path::PathBuf,
    mut reloads: watch::Receiver<u64>,
    clinic: ClinicHandle,
    safety: SafetyHandle,
    examples: ExampleBuilder,
) {
    while reloads.changed().await.is_ok() {
        let d = dir.clone();
        let Ok((fresh_clinic, fresh_safety)) =
            tokio::task::spawn_blocking(move || (Clinic::load(&d), Rules::load(&d))).await
        else {
            continue;
        };
        match fresh_clinic {
            Ok(fresh) => clinic.set(fresh),
            Err(e) => {
                tracing::warn!(error = %e, "clinic.toml is invalid; keeping the last good version")
            }
        }
        match fresh_safety {
            Ok(fresh) => safety.set(fresh),
            Err(e) => {
                tracing::error!(error = %e, "safety.toml is invalid; keeping the last good version")
            }
        }
        let examples = examples.clone();
        let _ = tokio::task::spawn_blocking(move || examples.build()).await;
    }
}

/// Embeds the learned safety signal's examples (`safety-examples.tsv`) with
/// the model, from a disk cache where it can, and swaps them in.
#[derive(Clone)]
struct ExampleBuilder {
    dir: std::path::PathBuf,
    embedder: crate::semantic::Embedder,
    safety: SafetyHandle,
    cache: Arc<std::sync::Mutex<crate::semantic::VectorCache>>,
}

impl ExampleBuilder {
    fn new(
        dir: std::path::PathBuf,
        embedder: crate::semantic::Embedder,
        safety: SafetyHandle,
        cache: std::path::PathBuf,
    ) -> Self {
        let cache =
            crate::semantic::VectorCache::open(Some(cache), crate::semantic::fetch::FILE_SHA256);
        ExampleBuilder {
            dir,
            embedder,
            safety,
            cache: Arc::new(std::sync::Mutex::new(cache)),
        }
    }

    /// Builds once the model has loaded (or gives up when it is missing).
    fn spawn_when_ready(&self) {
        let this = self.clone();
        let spawned = std::thread::Builder::new()
            .name("safety-examples".into())
            .spawn(move || {
                // The model may still be downloading or loading.
                this.embedder.wait_settled(None);
                this.build();
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start embedding the safety examples");
        }
    }

    /// Blocking. Without the model, or with a broken file, the rules alone
    /// (and the last good examples) serve.
    fn build(&self) {
        let Some(model) = self.embedder.model() else {
            return;
        };
        let labelled = match crate::safety::load_examples(&self.dir) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "safety-examples.tsv is invalid; keeping the last good examples");
                return;
            }
        };
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        match crate::safety::learned::Examples::build(&labelled, &model, &mut cache) {
            Ok(examples) => {
                tracing::info!(examples = examples.len(), "safety examples ready");
                self.safety.set_examples(examples);
            }
            Err(e) => tracing::error!(error = %e, "cannot embed the safety examples"),
        }
    }
}

/// Rebuilds the queue and assignments from the store after a restart.
async fn restore_queue(store: &Store) -> anyhow::Result<Arc<Hub>> {
    let hub = Hub::new();
    let open = store
        .open_handoffs()
        .await
        .context("cannot read the agent queue")?;
    let count = open.len();
    for h in open {
        match h.assigned {
            Some((agent, name)) => hub.restore_assignment(h.conversation, agent, name),
            None => {
                hub.enqueue(Waiting {
                    conversation: h.conversation,
                    reason: h.reason,
                    lang: h.lang,
                    waited: std::time::Duration::from_secs(h.waited_s),
                    preview: None,
                });
            }
        }
    }
    if count > 0 {
        tracing::info!(count, "restored queued and assigned chats");
    }
    Ok(hub)
}

/// Creates `admin` with a random password when there are no accounts at all.
async fn ensure_an_admin(store: &Store) -> anyhow::Result<Option<String>> {
    if store.count_staff().await? > 0 {
        return Ok(None);
    }
    let secret = password::generate();
    let hash = password::hash(secret.clone()).await?;
    store.create_staff("admin", Role::Admin, &hash).await?;
    tracing::info!("created the first admin account");
    Ok(Some(secret))
}

/// Ends expired console sessions (closing their sockets), and forgets
/// expired identity nonces, until shutdown.
async fn sweep_sessions(
    sessions: Arc<Sessions>,
    nonces: Arc<crate::chat::identity::Nonces>,
    mut shutdown: watch::Receiver<bool>,
) {
    let period = (sessions.idle_limit() / 4).clamp(
        std::time::Duration::from_millis(250),
        std::time::Duration::from_secs(30),
    );
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                sessions.sweep();
                nonces.sweep(jiff::Timestamp::now().as_second());
            }
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// How often live sessions' accounts are checked against the database.
const ACCOUNT_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Ends the sessions (closing the consoles, 4001) of accounts disabled or
/// removed in the database, by this server or by `frontdesk agent disable`
/// in another process, within [`ACCOUNT_CHECK`].
async fn end_disabled_sessions(
    sessions: Arc<Sessions>,
    store: Store,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(ACCOUNT_CHECK);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let live = sessions.accounts();
        if live.is_empty() {
            continue;
        }
        // On a store error, the next tick tries again; requests re-check too.
        let Ok(accounts) = store.list_staff().await else {
            continue;
        };
        for id in live {
            let active = accounts.iter().any(|a| a.id == id && !a.disabled);
            if !active {
                tracing::info!(staff = id.0, "account disabled; its sessions end");
                sessions.end_all_for(id);
            }
        }
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
