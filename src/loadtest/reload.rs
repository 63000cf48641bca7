//! A knowledge reload under load (`--reload FILE`): part-way through the
//! run the harness edits one article, as an editor saving it would, times
//! how long the server takes to serve the new generation (from `/health`),
//! and measures the replies to messages sent meanwhile. The article is put
//! back as it was at the end of the run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use tokio::time::{Instant, sleep, sleep_until};

use super::http::Server;
use super::stats::{ClientStats, Latency, MAX_SAMPLES};

/// How often `/health` is asked for the generation while waiting.
pub const POLL: Duration = Duration::from_millis(50);
/// How long to wait for the new generation before calling it not reloaded.
pub const GIVE_UP: Duration = Duration::from_secs(60);
/// Replies to messages sent up to this long after the new generation was
/// seen still count as "during the reload".
pub const SETTLE: Duration = Duration::from_secs(1);

const MARKER: &str = "<!-- loadtest reload ";

/// What `--reload FILE --reload-at-secs N` asks for.
#[derive(Debug, Clone)]
pub struct Plan {
    pub file: PathBuf,
    /// From the start of the run.
    pub at: Duration,
}

/// What happened, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    pub file: PathBuf,
    /// When the file was written, from the start of the run.
    pub at_secs: f64,
    /// The server served a new generation within 60 s of the write.
    pub reloaded: bool,
    /// File written → new generation seen on `/health` (none when not reloaded).
    pub seconds: Option<f64>,
    pub generation_before: u64,
    pub generation_after: u64,
    /// Send → first reply, for messages sent from the write until 1 s after
    /// the new generation was seen.
    pub reply_latency_ms: Latency,
    /// Connections that closed or failed in that window.
    pub dropped_connections: usize,
    /// The article has its original content again.
    pub restored: bool,
    /// Why the reload could not be timed, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// When the reload window is open, shared by every connection: offsets in
/// microseconds from the start of the run, `u64::MAX` while not yet known.
#[derive(Debug)]
pub struct Window {
    epoch: Instant,
    start: AtomicU64,
    end: AtomicU64,
}

impl Window {
    pub fn new(epoch: Instant) -> Window {
        Window {
            epoch,
            start: AtomicU64::new(u64::MAX),
            end: AtomicU64::new(u64::MAX),
        }
    }

    fn offset(&self, t: Instant) -> u64 {
        let us = t.saturating_duration_since(self.epoch).as_micros();
        us.min(u128::from(u64::MAX - 1)) as u64
    }

    fn open(&self, at: Instant) {
        self.start.store(self.offset(at), Ordering::Release);
    }

    fn close(&self, at: Instant) {
        self.end.store(self.offset(at), Ordering::Release);
    }

    /// Whether `t` is in the window. Asked at or after `t` (when a reply
    /// or a drop arrives), so an end not yet known means one after `t`.
    pub fn contains(&self, t: Instant) -> bool {
        let start = self.start.load(Ordering::Acquire);
        let end = self.end.load(Ordering::Acquire);
        let t = self.offset(t);
        start != u64::MAX && t >= start && t < end
    }
}

/// Checked before the run: the article is readable and the server reports
/// its knowledge generation.
#[derive(Debug, Clone)]
pub struct Prepared {
    file: PathBuf,
    /// From the start of the run.
    at: Duration,
    original: String,
    server: Server,
}

/// How the edit went, before the connections' figures are added.
#[derive(Debug, Default)]
pub struct Outcome {
    /// When the file was written, from the start of the run.
    pub at_secs: f64,
    pub generation_before: u64,
    pub generation_after: u64,
    pub seconds: Option<f64>,
    pub error: Option<String>,
}

impl Prepared {
    pub async fn new(plan: &Plan, server: Server) -> anyhow::Result<Prepared> {
        if plan.file.extension().and_then(|e| e.to_str()) != Some("md") {
            bail!(
                "--reload needs an article file (.md) in the server's knowledge directory: {}",
                plan.file.display()
            );
        }
        let original = std::fs::read_to_string(&plan.file)
            .with_context(|| format!("reading {}", plan.file.display()))?;
        generation(&server).await?;
        Ok(Prepared {
            file: plan.file.clone(),
            at: plan.at,
            original,
            server,
        })
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// At its time into the run (which started at the window's epoch),
    /// edits the article and waits for the server to serve a new
    /// generation, opening and closing `window` around it.
    pub async fn trigger(self, window: Arc<Window>) -> Outcome {
        sleep_until(window.epoch + self.at).await;
        let mut outcome = Outcome::default();
        let before = match generation(&self.server).await {
            Ok(g) => g,
            Err(e) => {
                outcome.error = Some(format!("{e:#}"));
                return outcome;
            }
        };
        outcome.generation_before = before;
        outcome.generation_after = before;
        if let Err(e) = write_atomically(&self.file, &with_marker(&self.original)) {
            outcome.error = Some(format!("{e:#}"));
            return outcome;
        }
        let written = Instant::now();
        outcome.at_secs = written
            .saturating_duration_since(window.epoch)
            .as_secs_f64();
        window.open(written);
        match self.wait_for_new_generation(before, written).await {
            Ok((after, seen)) => {
                window.close(seen + SETTLE);
                outcome.generation_after = after;
                outcome.seconds = Some((seen - written).as_secs_f64());
            }
            Err(e) => {
                window.close(Instant::now());
                outcome.error = Some(format!("{e:#}"));
            }
        }
        outcome
    }

    /// Polls `/health` until the generation is no longer `before`: the new
    /// one and when it was seen.
    async fn wait_for_new_generation(
        &self,
        before: u64,
        written: Instant,
    ) -> anyhow::Result<(u64, Instant)> {
        let mut last_error = None;
        while written.elapsed() < GIVE_UP {
            sleep(POLL).await;
            match generation(&self.server).await {
                Ok(g) if g != before => return Ok((g, Instant::now())),
                Ok(_) => {}
                // A busy server may miss a poll; only the deadline ends the wait.
                Err(e) => last_error = Some(e),
            }
        }
        let gave_up = anyhow::anyhow!("no new generation within {} s", GIVE_UP.as_secs());
        Err(match last_error {
            Some(e) => gave_up.context(format!("last poll: {e:#}")),
            None => gave_up,
        })
    }

    /// Puts the article back as it was before the run.
    pub fn restore(&self) -> anyhow::Result<()> {
        // Unchanged (the edit never happened): writing would only cause
        // another reload.
        if std::fs::read_to_string(&self.file).is_ok_and(|now| now == self.original) {
            return Ok(());
        }
        write_atomically(&self.file, &self.original)
    }
}

/// The generation `/health` reports.
pub async fn generation(server: &Server) -> anyhow::Result<u64> {
    let response = server.get("/health", None).await?;
    if response.status != 200 {
        bail!("{} answered {}", server.url("/health"), response.status);
    }
    let body: serde_json::Value = response.json()?;
    body["knowledge"]["generation"].as_u64().with_context(|| {
        format!(
            "{} does not report knowledge.generation (a server older than the loadtest?)",
            server.url("/health")
        )
    })
}

/// The article with a trailing marker comment that differs from any it
/// already ends with: still a valid article (raw HTML is dropped from
/// answers), but a different file, so the watcher reloads it.
pub fn with_marker(original: &str) -> String {
    let body = original.trim_end();
    let (rest, n) = match body.rsplit_once('\n') {
        Some((rest, last)) => match marker_number(last) {
            Some(n) => (rest.trim_end(), n + 1),
            None => (body, 1),
        },
        None => (body, 1),
    };
    format!("{rest}\n\n{MARKER}{n} -->\n")
}

fn marker_number(line: &str) -> Option<u64> {
    line.trim()
        .strip_prefix(MARKER)?
        .strip_suffix("-->")?
        .trim()
        .parse()
        .ok()
}

/// Writes through a hidden temporary file and a rename, so the server never
/// reads a half-written article.
fn write_atomically(file: &Path, content: &str) -> anyhow::Result<()> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("the article path has no file name")?;
    let temp = file.with_file_name(format!(".{name}.loadtest.tmp"));
    std::fs::write(&temp, content).with_context(|| format!("writing {}", temp.display()))?;
    if let Ok(meta) = std::fs::metadata(file) {
        let _ = std::fs::set_permissions(&temp, meta.permissions());
    }
    std::fs::rename(&temp, file).with_context(|| format!("replacing {}", file.display()))
}

impl ReloadReport {
    /// The outcome with the connections' figures for the window; takes the
    /// window's samples out of `clients`.
    pub fn new(
        file: &Path,
        outcome: Outcome,
        clients: &mut [ClientStats],
        restored: bool,
    ) -> ReloadReport {
        let (reply_latency_ms, dropped_connections) = window_figures(clients);
        ReloadReport {
            file: file.to_owned(),
            at_secs: outcome.at_secs,
            reloaded: outcome.seconds.is_some(),
            seconds: outcome.seconds,
            generation_before: outcome.generation_before,
            generation_after: outcome.generation_after,
            reply_latency_ms,
            dropped_connections,
            restored,
            error: outcome.error,
        }
    }
}

/// Takes the window's samples out of every connection's figures.
fn window_figures(clients: &mut [ClientStats]) -> (Latency, usize) {
    let mut samples = Vec::new();
    let mut dropped = 0;
    for c in clients {
        let taken = std::mem::take(&mut c.reload_reply_us);
        samples.extend(taken.into_iter().take(MAX_SAMPLES - samples.len()));
        dropped += usize::from(c.dropped_during_reload);
    }
    (Latency::of(samples), dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_changes_the_article_every_time_and_keeps_the_front_matter() {
        let original = "+++\ntitle = \"Parking\"\n+++\nFree parking on Alder Street.\n";
        let once = with_marker(original);
        assert_eq!(
            once,
            "+++\ntitle = \"Parking\"\n+++\nFree parking on Alder Street.\n\n<!-- loadtest reload 1 -->\n"
        );
        let twice = with_marker(&once);
        assert!(
            twice.ends_with("Street.\n\n<!-- loadtest reload 2 -->\n"),
            "{twice}"
        );
        assert_ne!(twice, once);
    }

    #[test]
    fn the_window_holds_from_the_write_until_it_closes() {
        let epoch = Instant::now();
        let window = Window::new(epoch);
        let at = |ms| epoch + Duration::from_millis(ms);
        assert!(!window.contains(at(10)), "not open yet");
        window.open(at(100));
        assert!(!window.contains(at(99)));
        assert!(window.contains(at(100)));
        assert!(window.contains(at(5_000)), "open-ended until closed");
        window.close(at(1_600));
        assert!(window.contains(at(1_599)));
        assert!(!window.contains(at(1_600)));
    }

    #[test]
    fn only_the_window_samples_are_taken_out() {
        let mut clients = vec![
            ClientStats {
                reply_us: vec![1_000, 2_000],
                reload_reply_us: vec![2_000],
                ..Default::default()
            },
            ClientStats {
                dropped: true,
                dropped_during_reload: true,
                ..Default::default()
            },
        ];
        let (latency, dropped) = window_figures(&mut clients);
        assert_eq!((latency.samples, latency.max, dropped), (1, 2.0, 1));
        assert!(clients[0].reload_reply_us.is_empty());
        assert_eq!(clients[0].reply_us.len(), 2);
    }
}
