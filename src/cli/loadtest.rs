//! `frontdesk loadtest`: drives a running server on this machine with many
//! simulated patients and reports throughput and latency.
//!
//! The server under test rate-limits each connection (30 messages a minute
//! by default) and each client address (100 connections): start it with
//! e.g. `FRONTDESK_MESSAGES_PER_MINUTE=100000` and, for more than 100
//! connections, `FRONTDESK_MAX_CONNECTIONS_PER_ADDRESS=20000`.
//!
//! Optional measurements during the same run: `--server-pid` (the server's
//! memory and CPU time), `--reload FILE` (a knowledge reload under load) and
//! `--bookings N --staff-user NAME` (racing staff bookings; the password
//! comes from `FRONTDESK_LOADTEST_PASSWORD`, never a flag).
//!
//! `--kill-restarts N --database-url URL` runs the server itself instead and
//! kills it N times during the run (exit status 1 if an acknowledged message
//! is missing from the database afterwards).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::loadtest::bookings::{self, PASSWORD_ENV, Password};
use crate::loadtest::{self, Config, Mode, Questions, reload, restarts};

#[derive(clap::Args, Debug)]
pub struct LoadtestArgs {
    /// The chat socket of a running server; loopback hosts only. Give it
    /// again for each node of a cluster: connections are spread over them
    /// in turn.
    #[arg(long, default_value = "ws://127.0.0.1:8080/chat")]
    pub url: Vec<String>,
    /// Simultaneous patient connections.
    #[arg(long, default_value_t = 10)]
    pub connections: usize,
    /// How long to run (at most 600 s).
    #[arg(long, default_value_t = 10)]
    pub duration_secs: u64,
    /// Messages per second per connection (steady and ramp modes).
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    #[arg(long, value_enum, default_value_t = Mode::Steady)]
    pub mode: Mode,
    /// Knowledge directory whose titles and alternate questions are asked.
    #[arg(long, default_value = "knowledge")]
    pub knowledge: PathBuf,
    /// Ask these questions instead, one per line.
    #[arg(long)]
    pub questions: Option<PathBuf>,
    /// Also drive an in-process bare axum WebSocket server with the same
    /// load and report Frontdesk's figures as ratios of it.
    #[arg(long)]
    pub baseline: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The server's process id: its resident memory (VmRSS, Linux) is read
    /// every 250 ms and reported as start, peak and end, and in idle mode
    /// per connection; its CPU time is reported per answered message.
    /// Give it once per node: CPU is summed over them; memory is sampled for
    /// the first.
    #[arg(long, value_name = "PID")]
    pub server_pid: Vec<u32>,
    /// A knowledge article (.md) in the server's knowledge directory to edit
    /// part-way through the run: reports how long the server took to serve
    /// the new generation and the reply latency meanwhile. Put back as it
    /// was at the end.
    #[arg(long, value_name = "FILE")]
    pub reload: Option<PathBuf>,
    /// When to edit the --reload article, in seconds from the start
    /// (default: a third of the duration).
    #[arg(long, value_name = "N", requires = "reload")]
    pub reload_at_secs: Option<u64>,
    /// Staff bookings to race for a few open slots while the chat load
    /// runs (at most 1,000); needs --staff-user.
    #[arg(long, value_name = "N", requires = "staff_user")]
    pub bookings: Option<usize>,
    /// The staff account that books (agent, supervisor or admin); its
    /// password is read from FRONTDESK_LOADTEST_PASSWORD.
    #[arg(long, value_name = "NAME", requires = "bookings")]
    pub staff_user: Option<String>,
    /// Run `frontdesk serve` here on --url's port and kill it with SIGKILL
    /// this many times during the run (at most 20), starting it again each
    /// time. Patients reconnect, resume and resend what was not acked; at the
    /// end every ack is looked up in the database. Needs --database-url.
    #[arg(long, value_name = "N", requires = "database_url")]
    pub kill_restarts: Option<u32>,
    /// The database of the server that --kill-restarts runs (a fresh file is
    /// best: sqlite://path/to/chaos.db).
    #[arg(long, value_name = "URL", requires = "kill_restarts")]
    pub database_url: Option<String>,
    /// Append the log of the server that --kill-restarts runs to this file
    /// (discarded otherwise).
    #[arg(long, value_name = "FILE", requires = "kill_restarts")]
    pub server_log: Option<PathBuf>,
}

pub fn run(args: LoadtestArgs) -> anyhow::Result<ExitCode> {
    let duration = Duration::from_secs(args.duration_secs);
    let reload = args.reload.map(|file| reload::Plan {
        file,
        at: args
            .reload_at_secs
            .map_or(duration / 3, Duration::from_secs),
    });
    let bookings = match (args.bookings, args.staff_user) {
        (Some(count), Some(staff_user)) => {
            let password = std::env::var(PASSWORD_ENV).map_err(|_| {
                anyhow::anyhow!("--bookings needs the staff password in {PASSWORD_ENV}")
            })?;
            Some(bookings::Plan {
                count,
                staff_user,
                password: Password(password),
            })
        }
        _ => None,
    };
    let restarts = args
        .kill_restarts
        .zip(args.database_url)
        .map(|(restarts, database_url)| restarts::Plan {
            restarts,
            database_url,
            knowledge: args.questions.is_none().then(|| args.knowledge.clone()),
            server_log: args.server_log,
        });
    let config = Config {
        urls: args.url,
        connections: args.connections,
        duration,
        rate: args.rate,
        mode: args.mode,
        questions: match args.questions {
            Some(file) => Questions::File(file),
            None => Questions::Knowledge(args.knowledge),
        },
        baseline: args.baseline,
        server_pids: args.server_pid,
        reload,
        bookings,
        restarts,
    };
    for url in &config.urls {
        loadtest::check_url(url)?;
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(loadtest::run(config))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", loadtest::render(&report));
    }
    if let Some(r) = report.reload.as_ref().filter(|r| !r.restored) {
        eprintln!(
            "warning: {} could not be put back; it ends with a `<!-- loadtest reload -->` line to remove",
            r.file.display()
        );
    }
    if let Some(d) = &report.durability
        && (d.lost > 0 || d.duplicated > 0)
    {
        eprintln!(
            "error: {} acknowledged messages are not stored as acknowledged, {} stored twice",
            d.lost, d.duplicated
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
