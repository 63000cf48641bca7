//! `frontdesk audit verify` and `frontdesk purge [--dry-run]`.

use std::process::ExitCode;

use anyhow::Context;

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
    /// Check the audit log's hash chain; exits 1 if it was tampered with.
    Verify,
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
    runtime()?.block_on(async {
        let store = Store::connect(&args.data.database_url).await?;
        let AuditCommand::Verify = args.command;
        match store.verify_audit().await? {
            Ok(count) => {
                println!("ok: the audit log's {count} entries are intact");
                Ok(ExitCode::SUCCESS)
            }
            Err(id) => {
                println!("TAMPERED: audit entry {id} does not follow from the entry before it");
                Ok(ExitCode::FAILURE)
            }
        }
    })
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
            "{verb}: {} conversations ({} messages), {} appointments, {} callback requests older than {} days; the audit log is kept",
            purged.conversations, purged.messages, purged.appointments, purged.callbacks, args.retention_days
        );
        Ok(ExitCode::SUCCESS)
    })
}
