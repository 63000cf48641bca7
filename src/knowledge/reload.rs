//! Live reload: a file watcher feeds the one indexer task, which debounces
//! events, rebuilds the whole knowledge base off the runtime and swaps it in.
//! Only this task (or the caller of a blocking rebuild, when there is no task)
//! writes an index.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::{mpsc, oneshot, watch};

use super::kb::Kb;
use super::loader::{self, Loaded};
use super::meaning::Meaning;
use crate::semantic::{Embedder, VectorCache};

/// Quiet time after the last file event before rebuilding.
pub const DEBOUNCE: Duration = Duration::from_millis(300);
/// A stream of events never delays a rebuild longer than this.
const MAX_DEBOUNCE: Duration = Duration::from_millis(1_200);

/// What the handles and the indexer share.
pub struct State {
    pub kb: ArcSwap<Kb>,
    pub generation: watch::Sender<u64>,
    /// Last good version of every article file, so a broken edit keeps serving it.
    previous: Mutex<HashMap<PathBuf, Loaded>>,
    /// The model and the article-embedding cache, once meaning is used.
    pub semantic: std::sync::OnceLock<SemanticSetup>,
    /// Bumped whenever a snapshot gets its articles' embeddings.
    pub meaning: watch::Sender<u64>,
}

/// What embedding the articles needs.
pub struct SemanticSetup {
    pub embedder: Embedder,
    /// Only ever locked on a blocking thread.
    pub cache: Mutex<VectorCache>,
}

impl State {
    pub fn new() -> State {
        State {
            kb: ArcSwap::from_pointee(Kb::empty()),
            generation: watch::Sender::new(0),
            previous: Mutex::new(HashMap::new()),
            semantic: std::sync::OnceLock::new(),
            meaning: watch::Sender::new(0),
        }
    }

    /// Embeds the serving snapshot's articles (from the cache where it can)
    /// and attaches them, when the model is ready and they are not yet
    /// attached. Blocking. Shows progress on a terminal when there is much
    /// to embed (the first start).
    pub fn attach_meaning(&self) {
        let Some(setup) = self.semantic.get() else {
            return;
        };
        let Some(model) = setup.embedder.model() else {
            return;
        };
        let kb = self.kb.load_full();
        if kb.has_meaning() {
            return;
        }
        let started = Instant::now();
        let Ok(mut cache) = setup.cache.lock() else {
            return;
        };
        let bar = indicatif::ProgressBar::hidden();
        let mut progress = |done: usize, total: usize| {
            if total >= PROGRESS_FROM && bar.is_hidden() && done < total {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_length(total as u64);
                bar.set_message("embedding articles (answers use words alone until done)");
            }
            bar.set_position(done as u64);
        };
        match Meaning::build(kb.indexes(), &model, &mut cache, &mut progress) {
            Ok(meaning) => {
                bar.finish_and_clear();
                kb.attach(meaning);
                self.meaning.send_modify(|n| *n += 1);
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "article meanings attached"
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot embed the articles; answering from words alone")
            }
        }
    }
}

/// Texts to embed before a progress bar is shown.
const PROGRESS_FROM: usize = 50;

/// A request for an immediate rebuild, answered with the new generation.
pub type Request = oneshot::Sender<u64>;

/// Loads `dir`, builds a fresh knowledge base and swaps it in; returns the
/// generation now serving. Blocking: call from `spawn_blocking` or a CLI.
pub fn rebuild(state: &State, dir: &Path) -> std::io::Result<u64> {
    let started = Instant::now();
    // The lock is only held on this (blocking) thread; nothing awaits under it.
    let previous = state.previous.lock().map(|p| p.clone()).unwrap_or_default();
    let load = loader::load_dir(dir, &previous)?;
    for problem in &load.problems {
        tracing::warn!(problem = %problem, "knowledge file problem");
    }
    let kb = match Kb::build(&load) {
        Ok(kb) => kb,
        Err(e) => {
            tracing::error!(error = %e, dir = %dir.display(), "knowledge index build failed; keeping the previous one");
            return Ok(*state.generation.borrow());
        }
    };
    let next: HashMap<PathBuf, Loaded> = load
        .articles
        .iter()
        .map(|l| (l.article.path.clone(), l.clone()))
        .collect();
    if let Ok(mut p) = state.previous.lock() {
        *p = next;
    }
    state.kb.store(Arc::new(kb));
    // Editors see meaning at once: only changed articles are embedded anew.
    state.attach_meaning();
    let mut generation = 0;
    state.generation.send_modify(|g| {
        *g += 1;
        generation = *g;
    });
    tracing::info!(
        dir = %dir.display(),
        articles = load.articles.len(),
        problems = load.problems.len(),
        generation,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "knowledge reloaded"
    );
    Ok(generation)
}

/// Starts the watcher and the indexer task; returns the request sender.
pub fn spawn_indexer(state: Arc<State>, dir: PathBuf) -> mpsc::Sender<Request> {
    let (req_tx, req_rx) = mpsc::channel::<Request>(16);
    let (ev_tx, ev_rx) = mpsc::channel::<()>(64);
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && is_relevant(&event)
        {
            // Full channel: a rebuild is already pending, dropping is fine.
            let _ = ev_tx.try_send(());
        }
    })
    .and_then(|mut w| w.watch(&dir, RecursiveMode::Recursive).map(|()| w));
    let watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the knowledge directory; live reload is off");
            None
        }
    };
    tokio::spawn(indexer(state, dir, req_rx, ev_rx, watcher));
    req_tx
}

fn is_relevant(event: &notify::Event) -> bool {
    if matches!(event.kind, EventKind::Access(_)) {
        return false;
    }
    event.paths.iter().any(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        !loader::is_ignored_name(name)
    })
}

async fn indexer(
    state: Arc<State>,
    dir: PathBuf,
    mut requests: mpsc::Receiver<Request>,
    mut events: mpsc::Receiver<()>,
    _watcher: Option<notify::RecommendedWatcher>,
) {
    let mut events_open = true;
    loop {
        let mut waiters = Vec::new();
        tokio::select! {
            req = requests.recv() => match req {
                Some(tx) => waiters.push(tx),
                // Every `Knowledge` handle is gone.
                None => break,
            },
            ev = events.recv(), if events_open => {
                if ev.is_none() {
                    events_open = false;
                    continue;
                }
                let started = Instant::now();
                while started.elapsed() < MAX_DEBOUNCE {
                    match tokio::time::timeout(DEBOUNCE, events.recv()).await {
                        Ok(Some(())) => continue,
                        _ => break,
                    }
                }
            }
        }
        while let Ok(tx) = requests.try_recv() {
            waiters.push(tx);
        }
        while events.try_recv().is_ok() {}
        let (st, d) = (state.clone(), dir.clone());
        let span = tracing::Span::current();
        let result = tokio::task::spawn_blocking(move || span.in_scope(|| rebuild(&st, &d))).await;
        let generation = match result {
            Ok(Ok(g)) => g,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, dir = %dir.display(), "knowledge directory unreadable; keeping the previous articles");
                *state.generation.borrow()
            }
            Err(e) => {
                tracing::error!(error = %e, "knowledge rebuild panicked");
                *state.generation.borrow()
            }
        };
        for w in waiters {
            let _ = w.send(generation);
        }
    }
}
