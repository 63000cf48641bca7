//! The load harness behind `frontdesk loadtest`: many simulated patients
//! against a running server over real sockets, with ack and reply latency.
//! Optionally, during the same run: the server's memory (`rss`), a
//! knowledge reload (`reload`) and racing staff bookings (`bookings`).
//!
//! Only loopback servers may be driven (a workplace rule): the harness is
//! for measuring one's own machine, never someone else's.

pub mod baseline;
pub mod bookings;
pub mod client;
pub mod cpu;
pub mod http;
pub mod reload;
mod render;
pub mod restarts;
pub mod rss;
pub mod stats;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::http::Uri;

pub use render::render;
use stats::{ClientStats, MAX_SAMPLES, Totals};

/// Longest run allowed.
pub const MAX_DURATION_SECS: u64 = 600;
/// Most connections allowed.
pub const MAX_CONNECTIONS: usize = 50_000;
/// Highest per-connection rate allowed (messages per second).
pub const MAX_RATE: f64 = 1_000.0;
/// Most servers (`--url`, `--server-pid`) one run drives.
pub const MAX_URLS: usize = 16;
/// Simultaneous WebSocket handshakes.
const HANDSHAKES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// All connections from the start, each at `rate` messages per second.
    Steady,
    /// Connections added linearly over the duration, each at `rate`.
    Ramp,
    /// Connections that only start and then hold the socket open.
    Idle,
}

/// Where the questions come from.
#[derive(Debug, Clone)]
pub enum Questions {
    /// Titles and alternate phrasings of the knowledge base, reworded.
    Knowledge(PathBuf),
    /// One question per line.
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The chat sockets to drive: connection `i` goes to `urls[i % n]`
    /// (several nodes behind no load balancer). At least one.
    pub urls: Vec<String>,
    pub connections: usize,
    pub duration: Duration,
    pub rate: f64,
    pub mode: Mode,
    pub questions: Questions,
    pub baseline: bool,
    /// The server processes (one per node): their CPU time is summed; the
    /// first one's resident memory is sampled during the run (Linux).
    pub server_pids: Vec<u32>,
    /// Edit a knowledge article part-way through and time the reload.
    pub reload: Option<reload::Plan>,
    /// Race staff bookings for a few slots while the chat load runs.
    pub bookings: Option<bookings::Plan>,
    /// Run the server here and kill it with SIGKILL during the run; check
    /// every acknowledgement against the database at the end.
    pub restarts: Option<restarts::Plan>,
}

/// The figures of one run, and of the bare stack when asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The first (or only) chat socket driven.
    pub url: String,
    /// Every chat socket driven, when there were several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    pub mode: Mode,
    pub duration_secs: f64,
    /// Messages per second per connection (0 in idle mode).
    pub rate: f64,
    #[serde(flatten)]
    pub totals: Totals,
    /// Idle mode: connections still open at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub still_open: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// `--server-pid`: the server's resident memory during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_rss_mib: Option<rss::Rss>,
    /// `--server-pid`: the server's CPU time during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu: Option<cpu::CpuUse>,
    /// This harness's own CPU time during the run (it shares the machine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub harness_cpu: Option<cpu::CpuUse>,
    /// `--server-pid` in idle mode: `(peak - start) × 1024 / connected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_per_connection_kib: Option<f64>,
    /// `--reload`: the knowledge reload during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reload: Option<reload::ReloadReport>,
    /// `--bookings`: the staff bookings during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookings: Option<bookings::BookingsReport>,
    /// `--kill-restarts`: acknowledgements checked against the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durability: Option<restarts::DurabilityReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub totals: Totals,
    /// Frontdesk's answered messages per second over the bare stack's.
    pub throughput_ratio: f64,
    /// Frontdesk's reply frames per second over the bare stack's (Frontdesk
    /// may send several reply frames for one message).
    pub reply_frames_ratio: f64,
    /// Frontdesk's p99 reply latency over the bare stack's.
    pub p99_reply_ratio: f64,
    /// Frontdesk's p99 ack latency over the bare stack's.
    pub p99_ack_ratio: f64,
    /// The bare stack's threads' CPU time.
    pub server_cpu: cpu::CpuUse,
    /// The harness's CPU time while it drove the bare stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub harness_cpu: Option<cpu::CpuUse>,
    /// Frontdesk's CPU per answered message over the bare stack's (with
    /// `--server-pid`): how many times heavier a message is, whatever share
    /// of the cores the harness took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_per_answered_ratio: Option<f64>,
}

/// Refuses anything but `ws://` to a loopback host (127.0.0.0/8, localhost, [::1]).
pub fn check_url(url: &str) -> anyhow::Result<()> {
    let uri: Uri = url.parse().with_context(|| format!("not a URL: {url}"))?;
    if uri.scheme_str() != Some("ws") {
        bail!("only ws:// URLs are supported: {url}");
    }
    let host = uri.host().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!(
            "refusing to load-test {host:?}: only loopback servers (127.0.0.0/8, localhost, [::1]) may be driven"
        );
    }
    Ok(())
}

/// Reads the questions, refusing an empty set.
pub fn load_questions(source: &Questions) -> anyhow::Result<Vec<String>> {
    let questions: Vec<String> = match source {
        Questions::File(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        Questions::Knowledge(dir) => knowledge_questions(dir)?,
    };
    if questions.is_empty() {
        bail!("no questions to ask");
    }
    Ok(questions)
}

fn knowledge_questions(dir: &Path) -> anyhow::Result<Vec<String>> {
    let loaded = crate::knowledge::loader::load_dir(dir, &Default::default())
        .with_context(|| format!("reading knowledge from {}", dir.display()))?;
    Ok(loaded
        .articles
        .iter()
        .flat_map(|l| l.article.phrasings().map(str::to_owned).collect::<Vec<_>>())
        .filter(|q| !q.trim().is_empty())
        .collect())
}

/// Checks the settings, then drives the server (and the bare stack, if asked).
pub async fn run(config: Config) -> anyhow::Result<Report> {
    validate(&config)?;
    let secs = config.duration.as_secs_f64();
    let questions = Arc::new(load_questions(&config.questions)?);

    // Everything that can fail is checked before the first connection.
    let server = http::Server::from_ws_url(config.primary())?;
    let reloading = match &config.reload {
        Some(plan) => Some(reload::Prepared::new(plan, server.clone()).await?),
        None => None,
    };
    let booking = match &config.bookings {
        Some(plan) => Some(bookings::Prepared::new(plan, server.clone()).await?),
        None => None,
    };
    let mut own_server = match &config.restarts {
        Some(plan) => {
            let mut started = restarts::Server::start(plan, server.authority())?;
            started.ready(&server).await?;
            Some(started)
        }
        None => None,
    };
    let sampler = config
        .server_pids
        .first()
        .copied()
        .map(rss::Sampler::start)
        .transpose()?;
    let server_cpu_before = servers_seconds(&config.server_pids)?;
    let harness_cpu_before = own_cpu_seconds();

    let begin = Instant::now();
    let window = reloading
        .as_ref()
        .map(|_| Arc::new(reload::Window::new(begin)));
    let reload_task = reloading
        .clone()
        .zip(window.clone())
        .map(|(prepared, window)| tokio::spawn(prepared.trigger(window)));
    let booking_task = booking.map(|b| tokio::spawn(b.fire()));
    let restart_task = own_server
        .take()
        .zip(config.restarts.clone())
        .map(|(s, plan)| {
            let bind = server.authority().to_owned();
            tokio::spawn(restarts::cycle(
                s,
                plan,
                bind,
                server.clone(),
                begin,
                config.duration,
            ))
        });
    let mut clients = drive(&config, &config.urls, questions.clone(), begin, window).await;
    let wall = begin.elapsed();
    let durability = match restart_task.zip(config.restarts.as_ref()) {
        Some((task, plan)) => {
            let (mut last, downtime_ms) = task.await.context("the restart task failed")??;
            // The last kill comes after the run, before the check.
            last.kill();
            Some(restarts::verify(&plan.database_url, &clients, plan.restarts, downtime_ms).await?)
        }
        None => None,
    };
    let server_seconds = server_cpu_before
        .and_then(|before| Some(servers_seconds(&config.server_pids).ok()?? - before));
    let harness_seconds = harness_cpu_before.and_then(|before| Some(own_cpu_seconds()? - before));
    let server_rss_mib = sampler.map(rss::Sampler::finish);
    // The article is put back before anything else can fail.
    let reload = match reloading.zip(reload_task) {
        Some((prepared, task)) => {
            let outcome = task.await.unwrap_or_else(|e| reload::Outcome {
                error: Some(format!("the reload task failed: {e}")),
                ..Default::default()
            });
            let restored = prepared.restore().is_ok();
            Some(reload::ReloadReport::new(
                prepared.file(),
                outcome,
                &mut clients,
                restored,
            ))
        }
        None => None,
    };
    let bookings = match booking_task {
        Some(task) => Some(task.await.context("the booking task failed")?),
        None => None,
    };
    let totals = Totals::merge(clients, secs);
    let server_cpu = server_seconds.map(|s| cpu::CpuUse::new(s, wall, Some(totals.answered)));
    let harness_cpu = harness_seconds.map(|s| cpu::CpuUse::new(s, wall, None));
    let baseline = if config.baseline {
        Some(bare_stack(&config, questions, &totals, server_cpu).await?)
    } else {
        None
    };
    let rss_per_connection_kib = server_rss_mib
        .filter(|_| config.mode == Mode::Idle)
        .and_then(|rss| rss.per_connection_kib(totals.connected));
    Ok(Report {
        url: config.primary().to_owned(),
        urls: (config.urls.len() > 1).then(|| config.urls.clone()),
        mode: config.mode,
        duration_secs: secs,
        rate: if config.mode == Mode::Idle {
            0.0
        } else {
            config.rate
        },
        still_open: (config.mode == Mode::Idle).then_some(totals.open_at_end),
        totals,
        baseline,
        server_rss_mib,
        server_cpu,
        harness_cpu,
        rss_per_connection_kib,
        reload,
        bookings,
        durability,
    })
}

impl Config {
    /// The first chat socket: the server that reloads, bookings, restarts
    /// and the bare-stack comparison are about.
    pub fn primary(&self) -> &str {
        self.urls.first().map_or("", String::as_str)
    }
}

/// The summed CPU seconds of the server processes (`None` without any).
fn servers_seconds(pids: &[u32]) -> anyhow::Result<Option<f64>> {
    if pids.is_empty() {
        return Ok(None);
    }
    let mut total = 0.0;
    for pid in pids {
        total += cpu::process_seconds(*pid)?;
    }
    Ok(Some(total))
}

fn validate(config: &Config) -> anyhow::Result<()> {
    if config.urls.is_empty() || config.urls.len() > MAX_URLS {
        bail!("--url must be given 1..={MAX_URLS} times");
    }
    for url in &config.urls {
        check_url(url)?;
    }
    if config.urls.len() > 1
        && (config.baseline
            || config.reload.is_some()
            || config.bookings.is_some()
            || config.restarts.is_some())
    {
        bail!(
            "--baseline, --reload, --bookings and --kill-restarts are about one server: give one --url"
        );
    }
    if config.server_pids.len() > MAX_URLS {
        bail!("--server-pid may be given at most {MAX_URLS} times");
    }
    if config.connections == 0 || config.connections > MAX_CONNECTIONS {
        bail!("--connections must be 1..={MAX_CONNECTIONS}");
    }
    let secs = config.duration.as_secs_f64();
    if secs <= 0.0 || secs > MAX_DURATION_SECS as f64 {
        bail!("--duration-secs must be 1..={MAX_DURATION_SECS}");
    }
    if config.mode != Mode::Idle && !(config.rate > 0.0 && config.rate <= MAX_RATE) {
        bail!("--rate must be more than 0 and at most {MAX_RATE}");
    }
    if let Some(plan) = &config.reload
        && plan.at >= config.duration
    {
        bail!("--reload-at-secs must be less than --duration-secs");
    }
    if let Some(plan) = &config.restarts {
        if plan.restarts == 0 || plan.restarts > restarts::MAX_RESTARTS {
            bail!("--kill-restarts must be 1..={}", restarts::MAX_RESTARTS);
        }
        if config.mode == Mode::Idle {
            bail!("--kill-restarts needs messages: use steady or ramp mode");
        }
        if config.baseline
            || !config.server_pids.is_empty()
            || config.reload.is_some()
            || config.bookings.is_some()
        {
            bail!(
                "--kill-restarts runs the server itself; it does not combine with --baseline, --server-pid, --reload or --bookings"
            );
        }
    }
    Ok(())
}

/// The same load against the in-process bare stack, and Frontdesk's
/// figures as ratios of it.
async fn bare_stack(
    config: &Config,
    questions: Arc<Vec<String>>,
    totals: &Totals,
    frontdesk_cpu: Option<cpu::CpuUse>,
) -> anyhow::Result<Baseline> {
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (addr, thread) = baseline::start(stopped).context("starting the baseline server")?;
    let url = format!("ws://{addr}/chat");
    let (bare_before, process_before) =
        (cpu::threads_seconds(cpu::BARE_THREADS), own_cpu_seconds());
    let began = Instant::now();
    let bare = drive(config, &[url], questions, began, None).await;
    let wall = began.elapsed();
    // Read before the bare stack's threads stop and their times vanish.
    let bare_seconds = cpu::threads_seconds(cpu::BARE_THREADS) - bare_before;
    let process_seconds = process_before.and_then(|before| Some(own_cpu_seconds()? - before));
    let bare = Totals::merge(bare, config.duration.as_secs_f64());
    let _ = stop.send(());
    let joined = tokio::task::spawn_blocking(move || thread.join());
    let _ = tokio::time::timeout(Duration::from_secs(5), joined).await;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let server_cpu = cpu::CpuUse::new(bare_seconds, wall, Some(bare.answered));
    Ok(Baseline {
        throughput_ratio: ratio(totals.answered_per_sec, bare.answered_per_sec),
        reply_frames_ratio: ratio(totals.replies_per_sec, bare.replies_per_sec),
        p99_reply_ratio: ratio(totals.reply_latency_ms.p99, bare.reply_latency_ms.p99),
        p99_ack_ratio: ratio(totals.ack_latency_ms.p99, bare.ack_latency_ms.p99),
        harness_cpu: process_seconds
            .map(|s| cpu::CpuUse::new((s - bare_seconds).max(0.0), wall, None)),
        cpu_per_answered_ratio: frontdesk_cpu
            .and_then(|f| Some(ratio(f.us_per_answered?, server_cpu.us_per_answered?))),
        server_cpu,
        totals: bare,
    })
}

/// This process's CPU seconds so far (`None` where `/proc` cannot be read).
fn own_cpu_seconds() -> Option<f64> {
    cpu::process_seconds(std::process::id()).ok()
}

/// One run against the URLs (connection `i` to `urls[i % n]`), from
/// `begin`: what every connection saw.
async fn drive(
    config: &Config,
    urls: &[String],
    questions: Arc<Vec<String>>,
    begin: Instant,
    reload_window: Option<Arc<reload::Window>>,
) -> Vec<ClientStats> {
    let plan = Arc::new(client::Plan {
        urls: urls.to_vec(),
        rate: (config.mode != Mode::Idle).then_some(config.rate),
        questions,
        handshakes: Arc::new(tokio::sync::Semaphore::new(HANDSHAKES)),
        max_samples: (MAX_SAMPLES / config.connections).max(1),
        reload_window,
        durable: config.restarts.is_some(),
    });
    let deadline = begin + config.duration;
    let n = config.connections;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let start_at = match config.mode {
                Mode::Ramp => begin + config.duration.mul_f64(i as f64 / n as f64),
                Mode::Steady | Mode::Idle => begin,
            };
            tokio::spawn(client::run(plan.clone(), i, start_at, deadline))
        })
        .collect();
    let mut clients = Vec::with_capacity(n);
    for task in tasks {
        clients.push(task.await.unwrap_or_else(|_| ClientStats {
            dropped: true,
            ..Default::default()
        }));
    }
    clients
}

#[cfg(test)]
mod tests;
