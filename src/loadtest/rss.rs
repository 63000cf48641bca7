//! The server's resident memory during a run (`--server-pid`), read from
//! `/proc/PID/status` (Linux): how the README can say what an idle
//! connection costs the server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;

/// How often the server's memory is read during the run.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// Resident memory in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rss {
    /// Just before the first connection.
    pub start: f64,
    /// Highest reading during the run.
    pub peak: f64,
    /// After the last connection closed (the last reading when the process
    /// went away meanwhile).
    pub end: f64,
}

impl Rss {
    /// Extra KiB per connection at the peak: `(peak - start) × 1024 / connected`.
    pub fn per_connection_kib(&self, connected: usize) -> Option<f64> {
        (connected > 0).then(|| (self.peak - self.start).max(0.0) * 1024.0 / connected as f64)
    }
}

/// VmRSS of `pid` in KiB, or why it cannot be read.
pub fn read_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| {
        format!("cannot read {path}: --server-pid needs Linux and the pid of a running server")
    })?;
    match vm_rss_kib(&status) {
        Some(kib) => Ok(kib),
        None => bail!("{path} has no VmRSS line (a kernel thread or a zombie?)"),
    }
}

/// The `VmRSS:   12345 kB` line of a `/proc/PID/status` text.
fn vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(value)
}

/// Samples a process every [`INTERVAL`] until [`Sampler::finish`].
pub struct Sampler {
    pid: u32,
    start_kib: u64,
    /// (peak, last) in KiB; written by the sampling task only.
    seen: Arc<Mutex<(u64, u64)>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    /// Takes the first reading (failing clearly if the pid cannot be read)
    /// and starts sampling.
    pub fn start(pid: u32) -> anyhow::Result<Sampler> {
        let start_kib = read_kib(pid)?;
        let seen = Arc::new(Mutex::new((start_kib, start_kib)));
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                // A server that exited keeps its last readings.
                let Ok(kib) = read_kib(pid) else { break };
                record(&shared, kib);
            }
        });
        Ok(Sampler {
            pid,
            start_kib,
            seen,
            task,
        })
    }

    /// Stops sampling after one last reading.
    pub fn finish(self) -> Rss {
        self.task.abort();
        if let Ok(kib) = read_kib(self.pid) {
            record(&self.seen, kib);
        }
        // The task is aborted, so nothing else holds the lock now.
        let (peak, last) = *self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mib = |kib: u64| kib as f64 / 1024.0;
        Rss {
            start: mib(self.start_kib),
            peak: mib(peak),
            end: mib(last),
        }
    }
}

fn record(seen: &Mutex<(u64, u64)>, kib: u64) {
    // Held only for the update; never across an await.
    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    seen.0 = seen.0.max(kib);
    seen.1 = kib;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_from_a_status_text() {
        let status = "Name:\tfrontdesk\nVmPeak:\t  900000 kB\nVmRSS:\t   64000 kB\nThreads:\t4\n";
        assert_eq!(vm_rss_kib(status), Some(64_000));
        assert_eq!(vm_rss_kib("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn per_connection_cost_is_the_growth_over_connections() {
        let rss = Rss {
            start: 60.0,
            peak: 80.0,
            end: 70.0,
        };
        assert_eq!(rss.per_connection_kib(1024), Some(20.0));
        assert_eq!(rss.per_connection_kib(0), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_can_be_sampled_and_a_missing_one_cannot() {
        assert!(read_kib(std::process::id()).unwrap() > 0);
        let err = read_kib(u32::MAX).unwrap_err().to_string();
        assert!(err.contains("--server-pid"), "{err}");
    }
}
