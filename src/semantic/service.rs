//! The [`Embedder`]: the model as a shared component with a budget. A
//! worker thread per core runs forward passes; callers queue (bounded) and
//! wait at most as long as they choose. Requests that arrive while a batch
//! runs are embedded together in the next one, so a burst costs a few
//! passes, not one each; under overload the newest that can still be
//! answered in time go first. Repeated questions come from a cache.

mod batching;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::{Embedding, Model, Role};
use batching::in_time;

/// Most requests waiting for a worker; more are answered `None` at once.
const QUEUE: usize = 256;
/// Most requests a worker takes at once (the model then groups them by
/// length, a forward pass per group).
const MAX_BATCH: usize = 32;
/// While another pass runs, a worker with fewer than `FILL` requests waits
/// up to `FILL_WAIT` for more.
const FILL: usize = 8;
const FILL_WAIT: Duration = Duration::from_millis(15);
/// Most workers, each running forward passes on a thread of its own.
const WORKERS: usize = 4;
/// Query embeddings kept for repeated questions.
const CACHE_ENTRIES: usize = 4096;
/// Requests waiting beyond which the model counts as busy whatever the
/// wait: a new question is then answered from its words at once (and
/// counted), rather than acked, stored and answered in two steps only to
/// wait in line. Below it, the model is busy when the line is longer than
/// the caller's wait (see `has_room`).
const BUSY_AT: usize = 2 * MAX_BATCH;
/// A text's share of a pass before any pass has been timed.
const FIRST_PER_TEXT: Duration = Duration::from_millis(10);

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
    /// When the caller stops waiting; `None` waits as long as it takes.
    deadline: Option<Instant>,
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
    /// Requests not yet taken by a worker.
    queue: Mutex<Queue>,
    /// Signalled when a request joins the queue.
    arrived: Condvar,
    /// Forward passes under way.
    running: AtomicU64,
    /// Workers serving, and the time one text takes in a pass (µs), as
    /// the workers last measured it: how long a new request would wait.
    workers: AtomicU64,
    per_text_us: AtomicU64,
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
                queue: Mutex::new(Queue::default()),
                arrived: Condvar::new(),
                running: AtomicU64::new(0),
                workers: AtomicU64::new(0),
                per_text_us: AtomicU64::new(FIRST_PER_TEXT.as_micros() as u64),
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
                        this.serve(model)
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

    /// A loaded model, served from new worker threads (tests, `eval`).
    pub fn with_model(model: Arc<Model>) -> Embedder {
        let embedder = Embedder::new(ModelStatus::Loading);
        embedder.serve(model);
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

    /// Whether a new question can be embedded within `wait`: the model is
    /// ready and the line ahead of it (the requests waiting, shared by the
    /// workers, at the pace of the last passes) is shorter than that. When
    /// it is not, the caller goes on from words alone at once, counted as
    /// late, instead of waiting for nothing: under overload a chat keeps
    /// the pace of words alone, and its next message is not held up.
    pub fn has_room(&self, wait: Duration) -> bool {
        if !self.is_ready() {
            return false;
        }
        let queued = self.lock_queue().jobs.len();
        let busy = queued >= BUSY_AT || self.expected_wait(queued) > wait;
        if busy {
            self.inner.late.fetch_add(1, Ordering::Relaxed);
        }
        !busy
    }

    /// How long a request that joins `queued` others would wait.
    fn expected_wait(&self, queued: usize) -> Duration {
        let per_text = Duration::from_micros(self.inner.per_text_us.load(Ordering::Relaxed));
        let workers = self.inner.workers.load(Ordering::Relaxed).max(1);
        per_text * (queued as u32 + 1) / workers as u32
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
        match self.submit(text, Instant::now().checked_add(wait))? {
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
        match self.submit(text, None)? {
            Ok(hit) => Some(hit),
            Err(answer) => answer.blocking_recv().ok(),
        }
    }

    /// From the cache (`Ok`), or queued with where the answer will come
    /// (`Err`); `None` when it cannot be queued.
    #[allow(clippy::type_complexity)]
    fn submit(
        &self,
        text: &str,
        deadline: Option<Instant>,
    ) -> Option<Result<Embedding, oneshot::Receiver<Embedding>>> {
        if let Some(hit) = self.cached(text) {
            return Some(Ok(hit));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            text: text.trim().to_owned(),
            role: Role::Query,
            reply,
            deadline,
        };
        self.enqueue(job).then_some(Err(answer))
    }

    fn enqueue(&self, job: Job) -> bool {
        let mut queue = self.lock_queue();
        if !queue.open {
            self.inner.unavailable.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if queue.jobs.len() >= QUEUE {
            self.inner.late.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        queue.jobs.push(job);
        self.inner.arrived.notify_one();
        true
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        // Jobs are pushed and taken whole: a panic leaves none half-made.
        self.inner.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic elsewhere while holding it leaves nothing half-written.
        self.inner.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `model` the one requests go to, with a worker per core
    /// (at most [`WORKERS`]): each runs its own forward passes on one
    /// thread (see [`super::one_thread_per_pass`]).
    fn serve(&self, model: Arc<Model>) {
        let _ = self.inner.model.set(model.clone());
        self.lock_queue().open = true;
        self.set_status(ModelStatus::Ready);
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, WORKERS);
        self.inner.workers.store(workers as u64, Ordering::Relaxed);
        for n in 0..workers {
            let (this, model) = (self.clone(), model.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("embedder-{n}"))
                .spawn(move || this.work(&model));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a model worker");
            }
        }
    }

    /// A worker: takes what waits, embeds what can still be answered in
    /// time, newest first, and answers.
    fn work(&self, model: &Model) {
        // Time one text takes, measured as batches go through.
        let mut per_text = FIRST_PER_TEXT;
        loop {
            let jobs = {
                let queue = self
                    .inner
                    .arrived
                    .wait_while(self.lock_queue(), |q| q.jobs.is_empty())
                    .unwrap_or_else(|e| e.into_inner());
                // While another pass runs, a moment for more to arrive: a
                // pass of several texts costs little more than a pass of
                // one. A lone question on an idle model goes at once.
                let busy = self.inner.running.load(Ordering::Relaxed) > 0;
                let (mut queue, _) = self
                    .inner
                    .arrived
                    .wait_timeout_while(queue, FILL_WAIT, |q| busy && q.jobs.len() < FILL)
                    .unwrap_or_else(|e| e.into_inner());
                // A caller that stopped waiting needs no answer.
                queue.jobs.retain(|j| !j.reply.is_closed());
                let deadlines: Vec<Option<Instant>> =
                    queue.jobs.iter().map(|j| j.deadline).collect();
                let chosen = in_time(&deadlines, per_text, Instant::now());
                let mut jobs = Vec::with_capacity(chosen.len());
                for i in chosen.into_iter().rev() {
                    jobs.push(queue.jobs.swap_remove(i));
                }
                jobs
            };
            let started = Instant::now();
            self.inner.running.fetch_add(1, Ordering::Relaxed);
            let embedded = self.run_batch(model, jobs);
            self.inner.running.fetch_sub(1, Ordering::Relaxed);
            if embedded > 0 {
                let took = started.elapsed() / embedded as u32;
                per_text = (per_text * 3 + took) / 4;
                self.inner
                    .per_text_us
                    .store(per_text.as_micros() as u64, Ordering::Relaxed);
            }
        }
    }

    /// Embeds `jobs` and answers them; returns how many distinct texts
    /// went through the model.
    fn run_batch(&self, model: &Model, jobs: Vec<Job>) -> usize {
        // The same text twice in a burst is embedded once; each distinct
        // text keeps the replies waiting for it.
        let mut distinct: Vec<(String, Role)> = Vec::new();
        let mut waiters: Vec<Vec<oneshot::Sender<Embedding>>> = Vec::new();
        let mut slot: HashMap<(String, Role), usize> = HashMap::new();
        for job in jobs {
            let key = (job.text, job.role);
            let i = *slot.entry(key.clone()).or_insert_with(|| {
                distinct.push(key);
                waiters.push(Vec::new());
                distinct.len() - 1
            });
            waiters[i].push(job.reply);
        }
        let tokens: Vec<Vec<u32>> = distinct.iter().map(|(t, r)| model.tokens(t, *r)).collect();
        // Texts of like length go through together, shortest first, and
        // are answered as soon as their pass is done. On an error the
        // replies left are dropped, which reads as "no embedding".
        let mut embedded = 0;
        let _ = model.embed_grouped(&tokens, |members, vectors| {
            embedded += members.len();
            self.inner.batches.fetch_add(1, Ordering::Relaxed);
            self.inner
                .embedded
                .fetch_add(members.len() as u64, Ordering::Relaxed);
            {
                let mut cache = self.lock_cache();
                for (&i, v) in members.iter().zip(&vectors) {
                    if distinct[i].1 == Role::Query {
                        cache.put(distinct[i].0.clone(), v.clone());
                    }
                }
            }
            for (&i, v) in members.iter().zip(vectors) {
                for reply in std::mem::take(&mut waiters[i]) {
                    let _ = reply.send(v.clone());
                }
            }
        });
        embedded
    }
}

/// Requests waiting for a worker.
#[derive(Default)]
struct Queue {
    /// Whether a model takes requests.
    open: bool,
    jobs: Vec<Job>,
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
mod tests;
