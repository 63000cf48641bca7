//! `frontdesk audit verify [--expect-head HASH]`, `frontdesk audit head`
//! and `frontdesk purge [--dry-run]`.

use std::process::ExitCode;

use anyhow::Context;

use crate::compliance::key::Missing;
use crate::config::DataArgs;
use crate::store::{Store, Writer};

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the audit log's keyed hash chain; exits 1 if it was tampered
    /// with (or, with --expect-head, cut short).
    Verify {
        /// A head printed earlier by `frontdesk audit head` and kept
        /// elsewhere: it must still be in the log.
        #[arg(long, value_name = "HASH")]
        expect_head: Option<String>,
    },
    /// Print the newest entry's hash, to keep outside this machine (a
    /// ticket, an e-mail, another system) for `audit verify --expect-head`.
    Head,
}

#[derive(clap::Args, Debug)]
pub struct PurgeArgs {
    /// Count what would be purged, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Purge transcripts and appointment details older than this many days.
    #[arg(long, env = "FRONTDESK_RETENTION_DAYS", default_value_t = crate::config::DEFAULT_RETENTION_DAYS)]
    pub retention_days: u32,
    #[command(flatten)]
    pub data: DataArgs,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

pub fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    crate::telemetry::init(args.data.log);
    let key = crate::compliance::key::load(&args.data, Missing::Fail)?;
    runtime()?.block_on(async {
        let store = Store::connect(&args.data.database_url).await?;
        match args.command {
            AuditCommand::Verify { expect_head } => verify(&store, &key, expect_head).await,
            AuditCommand::Head => {
                let Some(head) = store.audit_head().await? else {
                    eprintln!("the audit log is empty");
                    return Ok(ExitCode::FAILURE);
                };
                if let Err(e) = crate::store::key_matches(Some(&head), &key) {
                    println!("TAMPERED: {e}");
                    return Ok(ExitCode::FAILURE);
                }
                eprintln!(
                    "entry {} of {}, key {}",
                    head.id,
                    head.at,
                    key.fingerprint()
                );
                println!("{}", head.hash);
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

async fn verify(
    store: &Store,
    key: &crate::store::AuditKey,
    expect_head: Option<String>,
) -> anyhow::Result<ExitCode> {
    let expected = expect_head.as_deref().map(str::trim);
    if expected.is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit())) {
        eprintln!("--expect-head takes the 64 hex characters `frontdesk audit head` printed");
        return Ok(ExitCode::from(2));
    }
    match store.verify_audit(key, expected).await? {
        Err(e) => {
            println!("TAMPERED: {e}");
            Ok(ExitCode::FAILURE)
        }
        Ok(report) if expected.is_some() && !report.has_expected => {
            println!(
                "TAMPERED: the expected head is not in the log: entries up to it were removed or rewritten"
            );
            Ok(ExitCode::FAILURE)
        }
        Ok(report) => {
            let total = report.legacy + report.keyed;
            let legacy = match report.legacy {
                0 => String::new(),
                n => format!(" ({n} from before keying, SHA-256 linked)"),
            };
            let head = if expected.is_some() {
                ", and the expected head is in it"
            } else {
                ""
            };
            println!(
                "ok: the audit log's {total} entries are intact{legacy}{head} (key {})",
                key.fingerprint()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn purge(args: PurgeArgs) -> anyhow::Result<ExitCode> {
    crate::telemetry::init(args.data.log);
    runtime()?.block_on(async {
        let store = Store::connect(&args.data.database_url).await?;
        let (writer, task) = Writer::spawn(store);
        let purged = crate::compliance::purge(&writer, args.retention_days, args.dry_run).await?;
        drop(writer);
        let _ = task.await;
        let verb = if args.dry_run { "would purge" } else { "purged" };
        println!(
            "{verb}: {} conversations ({} messages), {} appointments, {} callback requests older than {} days, and {} contact preferences with their visitors; the audit log is kept",
            purged.conversations, purged.messages, purged.appointments, purged.callbacks, args.retention_days, purged.contacts
        );
        Ok(ExitCode::SUCCESS)
    })
}
