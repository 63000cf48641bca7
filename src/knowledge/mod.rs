//! The FAQ engine: article files → search index → an honest decision to
//! answer, offer choices, or escalate.
//!
//! # Layout
//! - `article`: [`Article`] and the [`ArticleId`] newtype.
//! - `parse`, `render`: one file's front matter and markdown (sanitized HTML, text).
//! - `loader`: walks the directory; broken files keep their last good version.
//! - `synonyms`, `analysis`: words (from [`crate::normalize`]) → stemmed, canonical terms.
//! - `index`: per-language tantivy index plus term statistics.
//! - `scoring`, `decide`: confidence features and the answer/clarify/escalate rule.
//! - `kb`: one immutable snapshot of everything; `reload`: watcher + the indexer task.
//! - `remembered`: each snapshot's decisions for questions asked before, word for word.
//! - `versions`: which articles are one answer in several languages (`translation_of`).
//! - `check`, `import`: `frontdesk knowledge check|import`.
//! - `draft`: an editor's draft of one article, checked and tried against
//!   the serving articles in a private knowledge base.
//!
//! Invariants: `knowledge/` never touches the database; only the indexer task
//! (or a blocking rebuild where there is no task) writes an index; no patient
//! query text is ever logged.

mod analysis;
pub mod article;
pub mod check;
mod decide;
pub mod draft;
pub mod fit;
pub mod health_words;
pub mod import;
mod index;
mod kb;
pub mod loader;
mod meaning;
pub mod parse;
mod reload;
mod remembered;
pub mod render;
mod scoring;
pub mod synonyms;
mod typos;
mod versions;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::sync::{mpsc, oneshot, watch};

pub use article::{Article, ArticleId, BadArticleId};
pub use decide::{
    Candidate, Decision, DecisionSettings, Scored, agreement, confidences, decide_ranked, prefer,
    rerank,
};
pub use kb::Kb;
pub use meaning::Closeness;
pub use parse::Problem;
pub use scoring::{Calibration, Features, semantic_scale};

use crate::lang::Lang;
use crate::semantic::{Embedder, VectorCache};
use crate::utterance::Utterance;
use reload::{Request, State};

/// Handle to the live knowledge base. Cheap to clone; all clones share one index.
#[derive(Clone)]
pub struct Knowledge {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    settings: DecisionSettings,
    state: Arc<State>,
    /// To the indexer task; `None` when opened without a runtime.
    requests: Option<mpsc::Sender<Request>>,
    /// Searches running on the blocking pool at once. Without a bound, a
    /// burst of new questions can grow the pool to a thread per question
    /// in flight (tokio allows 512), each with its own allocator arena.
    /// Questions past the bound wait here, on the runtime, which costs
    /// nothing.
    searches: Arc<tokio::sync::Semaphore>,
    /// The knowledge base last built for an editor's draft, by the serving
    /// digest and the draft's, so trying several questions on one draft
    /// builds it once.
    last_draft: std::sync::Mutex<Option<(String, Arc<Kb>)>>,
}

/// Searches at once per core (a search is CPU work; more only queue in
/// the kernel instead of here).
const SEARCHES_PER_CORE: usize = 2;

fn search_permits() -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Arc::new(tokio::sync::Semaphore::new(cores * SEARCHES_PER_CORE))
}

/// Counts for health checks and the admin view.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KnowledgeStats {
    pub articles_en: usize,
    pub articles_es: usize,
    pub generation: u64,
    /// What is served, comparable across nodes (see `Kb::digest`).
    pub digest: String,
    pub last_reload: SystemTime,
    /// Problems (errors and warnings) found by the last reload.
    pub last_errors: usize,
    pub last_build_time: Duration,
}

impl Knowledge {
    /// Loads `dir`, then watches it and rebuilds on change. Fails only if `dir`
    /// cannot be read; broken files are logged and skipped. Needs a tokio runtime.
    pub async fn open(dir: PathBuf, settings: DecisionSettings) -> anyhow::Result<Knowledge> {
        let state = Arc::new(State::new());
        let (st, d) = (state.clone(), dir.clone());
        tokio::task::spawn_blocking(move || reload::rebuild(&st, &d))
            .await
            .context("knowledge loader panicked")?
            .with_context(|| format!("reading knowledge directory {}", dir.display()))?;
        let requests = Some(reload::spawn_indexer(state.clone(), dir.clone()));
        Ok(Knowledge {
            shared: Arc::new(Shared {
                dir,
                settings,
                state,
                requests,
                searches: search_permits(),
                last_draft: std::sync::Mutex::new(None),
            }),
        })
    }

    /// Loads `dir` once, without a runtime and without watching (for the CLI).
    pub fn open_blocking(dir: PathBuf, settings: DecisionSettings) -> anyhow::Result<Knowledge> {
        let state = Arc::new(State::new());
        reload::rebuild(&state, &dir)
            .with_context(|| format!("reading knowledge directory {}", dir.display()))?;
        Ok(Knowledge {
            shared: Arc::new(Shared {
                dir,
                settings,
                state,
                requests: None,
                searches: search_permits(),
                last_draft: std::sync::Mutex::new(None),
            }),
        })
    }

    /// A handle over an already built snapshot (for `eval`); never reloads.
    pub fn from_kb(kb: Kb, settings: DecisionSettings) -> Knowledge {
        let state = Arc::new(State::new());
        state.kb.store(Arc::new(kb));
        state.generation.send_modify(|g| *g += 1);
        Knowledge {
            shared: Arc::new(Shared {
                dir: PathBuf::new(),
                settings,
                state,
                requests: None,
                searches: search_permits(),
                last_draft: std::sync::Mutex::new(None),
            }),
        }
    }

    /// Decides off the async runtime, from the question's words and, when
    /// the model gave it in time, its meaning.
    pub async fn decide(&self, said: &Utterance, lang: Lang) -> Decision {
        // A question asked before needs no search.
        if let Some(d) = self.shared.state.kb.load().recall(said, lang) {
            return d;
        }
        // Closed never: the semaphore lives as long as `shared`.
        let _permit = self.shared.searches.acquire().await.ok();
        let this = self.clone();
        let said = said.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| this.decide_blocking(&said, lang)))
            .await
            .unwrap_or_else(|_| Decision::escalate_empty())
    }

    /// Decides on the calling thread (tantivy search: do not call on the runtime).
    pub fn decide_blocking(&self, said: &Utterance, lang: Lang) -> Decision {
        self.shared
            .state
            .kb
            .load()
            .decide_remembered(said, lang, &self.shared.settings)
    }

    /// Ranked candidates with their confidence features (for `eval`).
    pub fn explain_blocking(&self, said: &Utterance, lang: Lang, cal: &Calibration) -> Vec<Scored> {
        self.shared.state.kb.load().explain(said, lang, cal)
    }

    /// The serving snapshot (for `eval`).
    pub fn snapshot(&self) -> Arc<Kb> {
        self.shared.state.kb.load_full()
    }

    /// Decides by meaning as well as words from now on: the articles are
    /// embedded with `embedder`'s model once it is ready (from the cache at
    /// `cache` where they were embedded before), on a thread of its own,
    /// and again for every reload. Until then, and without a model,
    /// questions are decided from their words.
    pub fn use_meaning(&self, embedder: Embedder, cache: Option<PathBuf>) {
        if !self.set_semantic(embedder, cache) {
            return;
        }
        let state = self.shared.state.clone();
        let spawned = std::thread::Builder::new()
            .name("article-meaning".into())
            .spawn(move || {
                let Some(setup) = state.semantic.get() else {
                    return;
                };
                // The model may still be downloading or loading.
                setup.embedder.wait_settled(None);
                state.attach_meaning();
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start embedding the articles");
        }
    }

    /// The same, embedding the articles on this thread before returning
    /// (the command line).
    pub fn use_meaning_blocking(&self, embedder: Embedder, cache: Option<PathBuf>) {
        if self.set_semantic(embedder, cache) {
            self.shared.state.attach_meaning();
        }
    }

    fn set_semantic(&self, embedder: Embedder, cache: Option<PathBuf>) -> bool {
        let cache = VectorCache::open(cache, crate::semantic::fetch::FILE_SHA256);
        let setup = reload::SemanticSetup {
            cache: std::sync::Mutex::new(cache),
            embedder,
        };
        self.shared.state.semantic.set(setup).is_ok()
    }

    /// Changes whenever a snapshot gets its articles' embeddings (tests and
    /// tools wait on it).
    pub fn subscribe_meaning(&self) -> watch::Receiver<u64> {
        self.shared.state.meaning.subscribe()
    }

    /// Whether the serving articles have their embeddings attached.
    pub fn has_meaning(&self) -> bool {
        self.shared.state.kb.load().has_meaning()
    }

    pub fn article(&self, id: &ArticleId) -> Option<Arc<Article>> {
        self.shared.state.kb.load().article(id)
    }

    /// The reload generation; it increases after every successful rebuild.
    pub fn subscribe_reloads(&self) -> watch::Receiver<u64> {
        self.shared.state.generation.subscribe()
    }

    /// Rebuilds now (not waiting for the debounce) and returns the new generation.
    pub async fn reload_now(&self) -> anyhow::Result<u64> {
        match &self.shared.requests {
            Some(tx) => {
                let (done_tx, done_rx) = oneshot::channel();
                tx.send(done_tx)
                    .await
                    .context("knowledge indexer stopped")?;
                done_rx.await.context("knowledge indexer stopped")
            }
            None => {
                let (st, d) = (self.shared.state.clone(), self.shared.dir.clone());
                Ok(tokio::task::spawn_blocking(move || reload::rebuild(&st, &d)).await??)
            }
        }
    }

    /// The knowledge directory served.
    pub fn dir(&self) -> &std::path::Path {
        &self.shared.dir
    }

    pub fn settings(&self) -> &DecisionSettings {
        &self.shared.settings
    }

    pub fn stats(&self) -> KnowledgeStats {
        let kb = self.shared.state.kb.load();
        KnowledgeStats {
            articles_en: kb.count(Lang::En),
            articles_es: kb.count(Lang::Es),
            generation: *self.shared.state.generation.borrow(),
            digest: kb.digest.clone(),
            last_reload: kb.built_at,
            last_errors: kb.problems,
            last_build_time: kb.build_time,
        }
    }
}
