//! The [`Embedder`]: the model as a shared component with a budget. One
//! worker thread owns the forward passes; callers queue (bounded) and wait
//! at most as long as they choose. Requests that arrive while a batch runs
//! are embedded together in the next one, so a burst costs a few passes,
//! not one each. Repeated questions are answered from a cache.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::oneshot;

use super::{Embedding, Model, Role};

/// Most requests waiting for the worker; more are answered `None` at once.
const QUEUE: usize = 256;
/// Most texts in one forward pass.
const MAX_BATCH: usize = 32;
/// Query embeddings kept for repeated questions.
const CACHE_ENTRIES: usize = 4096;
/// Requests waiting beyond which the model counts as busy: a new question
/// is then answered from its words at once (and counted), rather than
/// acked, stored and answered in two steps only to wait in line.
const BUSY_AT: usize = 2 * MAX_BATCH;

/// Whether the model can be used, and if not, why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ModelStatus {
    Loading,
    Ready,
    Missing { reason: String },
}

/// Counters for `/metrics` and the load harness.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct EmbedderStats {
    /// Texts embedded by the worker.
    pub embedded: u64,
    pub batches: u64,
    pub cache_hits: u64,
    /// Requests answered `None` because the queue was full or the caller's
    /// wait ran out (the caller then goes on without meaning).
    pub late: u64,
    /// Requests made while the model was missing or loading.
    pub unavailable: u64,
}

struct Job {
    text: String,
    role: Role,
    reply: oneshot::Sender<Embedding>,
}

/// The shared model handle. Cheap to clone.
#[derive(Clone)]
pub struct Embedder {
    inner: Arc<Inner>,
}

struct Inner {
    model: OnceLock<Arc<Model>>,
    status: Mutex<ModelStatus>,
    /// Signalled when the status leaves `Loading`.
    settled: Condvar,
    queue: Mutex<Option<std::sync::mpsc::SyncSender<Job>>>,
    /// Requests queued and not yet taken by the worker.
    waiting: AtomicU64,
    cache: Mutex<Cache>,
    embedded: AtomicU64,
    batches: AtomicU64,
    cache_hits: AtomicU64,
    late: AtomicU64,
    unavailable: AtomicU64,
}

impl Embedder {
    fn new(status: ModelStatus) -> Embedder {
        Embedder {
            inner: Arc::new(Inner {
                model: OnceLock::new(),
                status: Mutex::new(status),
                settled: Condvar::new(),
                queue: Mutex::new(None),
                waiting: AtomicU64::new(0),
                cache: Mutex::new(Cache::default()),
                embedded: AtomicU64::new(0),
                batches: AtomicU64::new(0),
                cache_hits: AtomicU64::new(0),
                late: AtomicU64::new(0),
                unavailable: AtomicU64::new(0),
            }),
        }
    }

    /// No model: every request answers `None`, and `reason` says why.
    pub fn missing(reason: impl Into<String>) -> Embedder {
        Embedder::new(ModelStatus::Missing {
            reason: reason.into(),
        })
    }

    /// Loads the model on a thread of its own (running `prepare` first,
    /// e.g. a download, which returns the file to load); the embedder
    /// answers `None` until it is ready, and for good if loading fails.
    pub fn start(prepare: impl FnOnce() -> anyhow::Result<PathBuf> + Send + 'static) -> Embedder {
        let embedder = Embedder::new(ModelStatus::Loading);
        let this = embedder.clone();
        let spawned = std::thread::Builder::new()
            .name("embedder".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                let loaded = prepare().and_then(|path| Model::load_shared(&path));
                match loaded {
                    Ok(model) => {
                        tracing::info!(
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "language model ready"
                        );
                        let queue = this.install(model.clone());
                        this.work(&model, queue)
                    }
                    Err(e) => {
                        let reason = format!("{e:#}");
                        tracing::error!(%reason, "no language model: answering from words alone");
                        this.set_status(ModelStatus::Missing { reason })
                    }
                }
            });
        if let Err(e) = spawned {
            embedder.set_status(ModelStatus::Missing {
                reason: format!("cannot start the model thread: {e}"),
            });
        }
        embedder
    }

    /// A loaded model, served from a new worker thread (tests, `eval`).
    pub fn with_model(model: Arc<Model>) -> Embedder {
        let embedder = Embedder::new(ModelStatus::Loading);
        let queue = embedder.install(model.clone());
        let this = embedder.clone();
        std::thread::Builder::new()
            .name("embedder".into())
            .spawn(move || this.work(&model, queue))
            .expect("a thread for the model");
        embedder
    }

    /// Waits (blocking, at most `limit` when given) until the model is
    /// ready or known to be missing.
    pub fn wait_settled(&self, limit: Option<Duration>) -> ModelStatus {
        let status = self.inner.status.lock().unwrap_or_else(|e| e.into_inner());
        let loading = |s: &mut ModelStatus| *s == ModelStatus::Loading;
        let status = match limit {
            Some(limit) => {
                self.inner
                    .settled
                    .wait_timeout_while(status, limit, loading)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => self
                .inner
                .settled
                .wait_while(status, loading)
                .unwrap_or_else(|e| e.into_inner()),
        };
        status.clone()
    }

    pub fn status(&self) -> ModelStatus {
        self.inner
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_status(&self, status: ModelStatus) {
        *self.inner.status.lock().unwrap_or_else(|e| e.into_inner()) = status;
        self.inner.settled.notify_all();
    }

    /// Whether the model is loaded.
    pub fn is_ready(&self) -> bool {
        self.inner.model.get().is_some()
    }

    /// Whether a new question can be embedded now without waiting in a
    /// long line. When the model is busy the caller goes on from words
    /// alone, and that is counted as late.
    pub fn has_room(&self) -> bool {
        if !self.is_ready() {
            return false;
        }
        let busy = self.inner.waiting.load(Ordering::Relaxed) >= BUSY_AT as u64;
        if busy {
            self.inner.late.fetch_add(1, Ordering::Relaxed);
        }
        !busy
    }

    /// The model itself, once loaded (for embedding articles in bulk on a
    /// blocking thread).
    pub fn model(&self) -> Option<Arc<Model>> {
        self.inner.model.get().cloned()
    }

    pub fn stats(&self) -> EmbedderStats {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        EmbedderStats {
            embedded: n(&self.inner.embedded),
            batches: n(&self.inner.batches),
            cache_hits: n(&self.inner.cache_hits),
            late: n(&self.inner.late),
            unavailable: n(&self.inner.unavailable),
        }
    }

    /// A question's embedding if it was embedded recently; never waits.
    pub fn cached(&self, text: &str) -> Option<Embedding> {
        let hit = self.lock_cache().get(text.trim());
        if hit.is_some() {
            self.inner.cache_hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// A question's embedding, waiting at most `wait`; `None` when the
    /// model is missing, busy beyond its queue, or late.
    pub async fn query(&self, text: &str, wait: Duration) -> Option<Embedding> {
        match self.submit(text)? {
            Ok(hit) => Some(hit),
            Err(answer) => match tokio::time::timeout(wait, answer).await {
                Ok(Ok(embedding)) => Some(embedding),
                _ => {
                    self.inner.late.fetch_add(1, Ordering::Relaxed);
                    None
                }
            },
        }
    }

    /// The same, blocking the calling thread (never call on the runtime).
    pub fn query_blocking(&self, text: &str) -> Option<Embedding> {
        match self.submit(text)? {
            Ok(hit) => Some(hit),
            Err(answer) => answer.blocking_recv().ok(),
        }
    }

    /// From the cache (`Ok`), or queued with where the answer will come
    /// (`Err`); `None` when it cannot be queued.
    #[allow(clippy::type_complexity)]
    fn submit(&self, text: &str) -> Option<Result<Embedding, oneshot::Receiver<Embedding>>> {
        if let Some(hit) = self.cached(text) {
            return Some(Ok(hit));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            text: text.trim().to_owned(),
            role: Role::Query,
            reply,
        };
        self.enqueue(job).then_some(Err(answer))
    }

    fn enqueue(&self, job: Job) -> bool {
        let queue = self
            .inner
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(queue) = queue else {
            self.inner.unavailable.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        match queue.try_send(job) {
            Ok(()) => {
                self.inner.waiting.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.inner.late.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic elsewhere while holding it leaves nothing half-written.
        self.inner.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `model` the one requests go to; returns the worker's end of
    /// the queue.
    fn install(&self, model: Arc<Model>) -> std::sync::mpsc::Receiver<Job> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(QUEUE);
        let _ = self.inner.model.set(model);
        *self.inner.queue.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        self.set_status(ModelStatus::Ready);
        rx
    }

    /// The worker: takes what waits (up to a batch), embeds it, answers.
    fn work(&self, model: &Model, rx: std::sync::mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            self.inner
                .waiting
                .fetch_sub(jobs.len() as u64, Ordering::Relaxed);
            // A caller that stopped waiting needs no answer.
            jobs.retain(|j| !j.reply.is_closed());
            if jobs.is_empty() {
                continue;
            }
            self.run_batch(model, jobs);
        }
    }

    fn run_batch(&self, model: &Model, jobs: Vec<Job>) {
        // The same text twice in a burst is embedded once.
        let mut distinct: Vec<(String, Role)> = Vec::new();
        let mut slot: HashMap<(String, Role), usize> = HashMap::new();
        for job in &jobs {
            let key = (job.text.clone(), job.role);
            if !slot.contains_key(&key) {
                slot.insert(key.clone(), distinct.len());
                distinct.push(key);
            }
        }
        let tokens: Vec<Vec<u32>> = distinct.iter().map(|(t, r)| model.tokens(t, *r)).collect();
        let Ok(vectors) = model.embed_tokens(&tokens) else {
            // Dropped replies read as "no embedding".
            return;
        };
        self.inner.batches.fetch_add(1, Ordering::Relaxed);
        self.inner
            .embedded
            .fetch_add(distinct.len() as u64, Ordering::Relaxed);
        {
            let mut cache = self.lock_cache();
            for ((text, role), v) in distinct.iter().zip(&vectors) {
                if *role == Role::Query {
                    cache.put(text.clone(), v.clone());
                }
            }
        }
        for job in jobs {
            let i = slot[&(job.text, job.role)];
            let _ = job.reply.send(vectors[i].clone());
        }
    }
}

/// Recent query embeddings, oldest evicted first. Held in memory only:
/// patients' words never reach the disk from here.
#[derive(Default)]
struct Cache {
    map: HashMap<String, Embedding>,
    order: VecDeque<String>,
}

impl Cache {
    fn get(&self, text: &str) -> Option<Embedding> {
        self.map.get(text).cloned()
    }

    fn put(&mut self, text: String, v: Embedding) {
        if self.map.insert(text.clone(), v).is_none() {
            self.order.push_back(text);
            while self.order.len() > CACHE_ENTRIES {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_model_every_request_is_answered_at_once_with_none() {
        let e = Embedder::missing("no file");
        assert_eq!(e.query("hello", Duration::from_secs(5)).await, None);
        assert_eq!(e.stats().unavailable, 1);
        assert!(matches!(e.status(), ModelStatus::Missing { .. }));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_is_batched_and_a_repeat_comes_from_the_cache() {
        let Some(model) = crate::semantic::tests::shared_model() else {
            return;
        };
        let e = Embedder::with_model(model);
        let asks: Vec<_> = (0..20)
            .map(|i| {
                let e = e.clone();
                tokio::spawn(async move {
                    e.query(&format!("question number {i}"), Duration::from_secs(60))
                        .await
                })
            })
            .collect();
        for ask in asks {
            assert!(ask.await.unwrap().is_some());
        }
        let s = e.stats();
        assert_eq!(s.embedded, 20);
        assert!(s.batches < 20, "{s:?}");
        assert!(e.query("question number 3", Duration::ZERO).await.is_some());
        assert_eq!(e.stats().cache_hits, 1);
    }
}
