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
use crate::config::Settings;
use crate::dialog::Engine;
use crate::state::AppState;
use crate::store::{Store, Writer};

/// A server, bound and ready to run.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
    drain_rx: mpsc::Receiver<()>,
    writer_task: JoinHandle<()>,
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
        let (writer, writer_task) = Writer::spawn(store.clone());
        let (shutdown_tx, shutdown) = watch::channel(false);
        let (drain, drain_rx) = mpsc::channel(1);
        let state = AppState {
            origins: Arc::new(OriginPolicy::new(&settings.allowed_origins)),
            connections: Arc::new(Semaphore::new(settings.limits.max_connections)),
            settings: Arc::new(settings),
            store,
            writer,
            engine: Arc::new(Engine::new()),
            shutdown,
            drain,
        };
        Ok(Application {
            listener,
            addr,
            state,
            shutdown_tx,
            drain_rx,
            writer_task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
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
        let router = crate::http::router(state);
        let stopping = async move {
            signal.await;
            tracing::info!("shutting down: closing chats");
            let _ = shutdown_tx.send(true);
        };
        axum::serve(listener, router)
            .with_graceful_shutdown(stopping)
            .await
            .context("the server failed")?;
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
