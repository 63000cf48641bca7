//! What runs beside the server until it shuts down.

use std::sync::Arc;

use tokio::sync::watch;

use crate::clinic::{Clinic, ClinicHandle};
use crate::safety::{Rules, SafetyHandle};
use crate::staff::sessions::Sessions;
use crate::store::Store;

/// Re-reads clinic.toml and safety.toml whenever the knowledge directory
/// reloads. A broken edit keeps the last good version.
pub(super) async fn follow_knowledge_files(
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
pub(super) struct ExampleBuilder {
    dir: std::path::PathBuf,
    embedder: crate::semantic::Embedder,
    safety: SafetyHandle,
    cache: Arc<std::sync::Mutex<crate::semantic::VectorCache>>,
}

impl ExampleBuilder {
    pub(super) fn new(
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
    pub(super) fn spawn_when_ready(&self) {
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
        let labelled = match crate::safety::training_examples(&self.dir) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "the safety examples cannot be read; keeping the last good ones");
                return;
            }
        };
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        match crate::safety::learned::Examples::build(
            &labelled,
            &model,
            &mut cache,
            &self.safety.get(),
        ) {
            Ok(examples) => {
                tracing::info!(examples = examples.len(), "safety examples ready");
                self.safety.set_examples(examples);
            }
            Err(e) => tracing::error!(error = %e, "cannot embed the safety examples"),
        }
    }
}

/// Ends expired console sessions (closing their sockets), and forgets
/// expired identity nonces, until shutdown.
pub(super) async fn sweep_sessions(
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
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        sessions.sweep().await;
        nonces.sweep(jiff::Timestamp::now().as_second()).await;
    }
}

/// How often live sessions' accounts are checked against the database.
const ACCOUNT_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Ends the sessions (closing the consoles, 4001) of accounts disabled or
/// removed in the database, by this server or by `frontdesk agent disable`
/// in another process, within [`ACCOUNT_CHECK`].
pub(super) async fn end_disabled_sessions(
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
                sessions.end_all_for(id).await;
            }
        }
    }
}
