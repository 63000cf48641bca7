//! `--kill-restarts N`: acked means stored, under load, across crashes. The
//! harness runs the server itself, kills it with SIGKILL N times during the
//! run and starts it again; the simulated patients reconnect, resume their
//! conversation and resend what was not acknowledged, as the widget does.
//! At the end every acknowledgement received is looked up in the database.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use tokio::time::Instant;

use super::http;
use super::stats::ClientStats;
use crate::ids::ConversationId;
use crate::store::Store;

/// Most kills in one run.
pub const MAX_RESTARTS: u32 = 20;
/// How long a (re)started server may take to answer `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What to run and where its data lives.
#[derive(Debug, Clone)]
pub struct Plan {
    pub restarts: u32,
    /// The database the server writes and the check reads.
    pub database_url: String,
    /// The server's knowledge directory (its questions are asked).
    pub knowledge: Option<PathBuf>,
    /// Where the server's log goes (appended); discarded when `None`.
    pub server_log: Option<PathBuf>,
}

/// The server process under test.
pub struct Server {
    child: Child,
}

impl Server {
    /// Starts `frontdesk serve` (this same binary) on `bind`, with limits
    /// high enough for a load run unless the environment sets them.
    pub fn start(plan: &Plan, bind: &str) -> anyhow::Result<Server> {
        let exe = std::env::current_exe().context("cannot find the frontdesk binary")?;
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .env("FRONTDESK_BIND", bind)
            .env("FRONTDESK_DATABASE_URL", &plan.database_url)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        for (name, value) in [
            ("FRONTDESK_MESSAGES_PER_MINUTE", "1000000"),
            ("FRONTDESK_MAX_CONNECTIONS_PER_ADDRESS", "50000"),
        ] {
            if std::env::var_os(name).is_none() {
                command.env(name, value);
            }
        }
        if let Some(dir) = plan
            .knowledge
            .as_ref()
            .filter(|_| std::env::var_os("FRONTDESK_KNOWLEDGE").is_none())
        {
            command.env("FRONTDESK_KNOWLEDGE", dir);
        }
        let stderr = match &plan.server_log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?,
            ),
            None => Stdio::null(),
        };
        let child = command
            .stderr(stderr)
            .spawn()
            .context("cannot start frontdesk serve")?;
        Ok(Server { child })
    }

    /// Waits until `/health` answers 200; fails if the process exits first.
    pub async fn ready(&mut self, http: &http::Server) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited ({status}) before it answered /health");
            }
            if http
                .get("/health", None)
                .await
                .is_ok_and(|r| r.status == 200)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("the server did not answer /health within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no last commit, no goodbye to the sockets.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills the server `plan.restarts` times, evenly spread over `duration`
/// from `begin`, and starts it again each time; returns it running, and how
/// long each restart took until `/health` answered.
pub async fn cycle(
    mut server: Server,
    plan: Plan,
    bind: String,
    http: http::Server,
    begin: Instant,
    duration: Duration,
) -> anyhow::Result<(Server, Vec<f64>)> {
    let mut downtime_ms = Vec::new();
    for k in 1..=plan.restarts {
        let at = begin + duration.mul_f64(f64::from(k) / f64::from(plan.restarts + 1));
        tokio::time::sleep_until(at).await;
        let killed = Instant::now();
        server.kill();
        server = Server::start(&plan, &bind)?;
        server.ready(&http).await?;
        downtime_ms.push(killed.elapsed().as_secs_f64() * 1e3);
    }
    Ok((server, downtime_ms))
}

/// What the database holds of what the patients were told.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DurabilityReport {
    pub restarts: u32,
    /// Kill → `/health` answering again, per restart.
    pub downtime_ms: Vec<f64>,
    pub conversations: usize,
    /// Tries to reconnect (the server may still be starting), and successes.
    pub reconnect_attempts: u64,
    /// Why tries failed, by reason, counting each client's last failure.
    pub reconnect_failures: std::collections::BTreeMap<&'static str, u64>,
    pub reconnects: u64,
    pub resent: u64,
    /// Distinct messages acknowledged.
    pub acknowledged: u64,
    /// Of those, stored once with the acknowledged seq.
    pub stored: u64,
    /// Acknowledged but absent, or stored under another seq.
    pub lost: u64,
    /// Sent, never acknowledged by the end (in flight at the last kill, or
    /// refused); each may be stored at most once.
    pub never_acknowledged: u64,
    /// Messages stored more than once (must be 0).
    pub duplicated: u64,
}

/// Looks every acknowledgement up in the database.
pub async fn verify(
    database_url: &str,
    clients: &[ClientStats],
    restarts: u32,
    downtime_ms: Vec<f64>,
) -> anyhow::Result<DurabilityReport> {
    let store = Store::connect(database_url)
        .await
        .context("cannot open the database to check the acknowledgements")?;
    let mut report = DurabilityReport {
        restarts,
        downtime_ms,
        ..Default::default()
    };
    for client in clients {
        report.reconnect_attempts += client.reconnect_attempts;
        if let Some(why) = client.last_reconnect_failure {
            *report.reconnect_failures.entry(why).or_default() += 1;
        }
        report.reconnects += client.reconnects;
        report.resent += client.resent;
        let Some(conversation) = &client.conversation else {
            continue;
        };
        report.conversations += 1;
        let id: ConversationId = conversation
            .parse()
            .map_err(|_| anyhow::anyhow!("the server sent a malformed conversation id"))?;
        let mut stored: HashMap<String, Vec<i64>> = HashMap::new();
        for (client_id, seq) in store.client_messages(&id).await? {
            stored.entry(client_id).or_default().push(seq);
        }
        report.duplicated += stored.values().filter(|s| s.len() > 1).count() as u64;
        // A resend of an acked message is acked again with the same seq;
        // another seq would be a second message.
        let mut acked: HashMap<&str, i64> = HashMap::new();
        for (id, seq) in &client.acked {
            if acked.insert(id, *seq).is_some_and(|before| before != *seq) {
                report.lost += 1;
            }
        }
        for (id, seq) in acked {
            report.acknowledged += 1;
            match stored.get(id).map(Vec::as_slice) {
                Some([s]) if *s == seq => report.stored += 1,
                _ => report.lost += 1,
            }
        }
        report.never_acknowledged += client.never_acked.len() as u64;
    }
    Ok(report)
}
