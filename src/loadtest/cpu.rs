//! CPU time spent during a run, read from `/proc` (Linux): the server's
//! (`--server-pid`), the harness's own, and the bare stack's threads.
//!
//! With the client on the same machine, throughput at saturation says as
//! much about the harness as about the server: the more load it offers, the
//! more of the cores it takes. CPU time per answered message does not
//! depend on that split, so it is the figure to compare between Frontdesk
//! and the bare stack, and between runs.

use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

/// Linux reports process times in USER_HZ ticks, 100 a second on every
/// architecture it supports (the kernel's `times(2)` ABI).
const TICKS_PER_SEC: f64 = 100.0;

/// The name of the bare stack's runtime threads, so that their CPU time can
/// be told apart from the harness's in this process.
pub const BARE_THREADS: &str = "bare-echo";

/// CPU used over a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CpuUse {
    /// CPU seconds, user and system.
    pub seconds: f64,
    /// Average cores busy: `seconds` over the run's wall time.
    pub cores: f64,
    /// CPU microseconds per answered message (for a server, when it answered any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub us_per_answered: Option<f64>,
}

impl CpuUse {
    pub fn new(seconds: f64, wall: Duration, answered: Option<u64>) -> CpuUse {
        let wall = wall.as_secs_f64();
        CpuUse {
            seconds,
            cores: if wall > 0.0 { seconds / wall } else { 0.0 },
            us_per_answered: answered
                .filter(|n| *n > 0)
                .map(|n| seconds * 1e6 / n as f64),
        }
    }
}

/// CPU seconds used so far by process `pid` (all its threads, living or not).
pub fn process_seconds(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| {
        format!("cannot read {path}: --server-pid needs Linux and the pid of a running server")
    })?;
    stat_seconds(&stat).with_context(|| format!("{path} is not in the expected format"))
}

/// CPU seconds used so far by this process's running threads named `name`.
/// (An exited thread's time is no longer listed: read before they stop.)
pub fn threads_seconds(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter(|stat| thread_name(stat) == Some(name))
        .filter_map(|stat| stat_seconds(&stat))
        .sum()
}

/// `utime + stime` of a `/proc/.../stat` line, in seconds.
fn stat_seconds(stat: &str) -> Option<f64> {
    // The name (field 2) is in parentheses and may hold spaces and ')':
    // the fields after the last ')' start with field 3, the state.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
    Some((ticks(14)? + ticks(15)?) as f64 / TICKS_PER_SEC)
}

/// The thread or process name of a `/proc/.../stat` line.
fn thread_name(stat: &str) -> Option<&str> {
    Some(&stat[stat.find('(')? + 1..stat.rfind(')')?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_and_name_are_read_from_a_stat_line() {
        let stat =
            "4242 (bare-echo) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 3 0 100 0 0";
        assert_eq!(stat_seconds(stat), Some(3.25));
        assert_eq!(thread_name(stat), Some("bare-echo"));
        // A name with a space and a parenthesis does not shift the fields.
        let odd = "7 (a b) c) R 1 7 7 0 -1 0 0 0 0 0 10 10 0 0 20 0 1 0 5 0 0";
        assert_eq!(stat_seconds(odd), Some(0.2));
        assert_eq!(thread_name(odd), Some("a b) c"));
        assert_eq!(stat_seconds("garbage"), None);
    }

    #[test]
    fn use_is_given_per_core_and_per_answered_message() {
        let u = CpuUse::new(5.0, Duration::from_secs(10), Some(20_000));
        assert_eq!(u.cores, 0.5);
        assert_eq!(u.us_per_answered, Some(250.0));
        assert_eq!(
            CpuUse::new(1.0, Duration::ZERO, Some(0)).us_per_answered,
            None
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_and_its_named_threads_can_be_read() {
        let spin = std::thread::Builder::new()
            .name("cpu-test-spin".into())
            .spawn(|| {
                let start = std::time::Instant::now();
                let mut x = 0u64;
                while start.elapsed() < Duration::from_millis(300) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                std::thread::sleep(Duration::from_millis(500));
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        assert!(threads_seconds("cpu-test-spin") > 0.0);
        assert_eq!(threads_seconds("no-such-thread"), 0.0);
        assert!(process_seconds(std::process::id()).unwrap() > 0.0);
        spin.join().unwrap();
        let err = process_seconds(u32::MAX).unwrap_err().to_string();
        assert!(err.contains("--server-pid"), "{err}");
    }
}
