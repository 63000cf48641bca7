//! `frontdesk agent add|list|disable|enable`: manage console accounts from
//! the shell. Passwords are read from stdin, never from arguments (which end
//! up in shell history and process lists).

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::accounts::{Role, valid_name};
use crate::config::DataArgs;
use crate::staff::password;
use crate::store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct AgentArgs {
    #[command(subcommand)]
    pub command: AgentCommand,

    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Create an account; the password is read from the first line of stdin.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// List accounts.
    List,
    /// Disable an account; a running server ends its sessions and closes
    /// its consoles within 2 seconds.
    Disable { name: String },
    /// Re-enable a disabled account.
    Enable { name: String },
}

pub fn run(args: AgentArgs) -> ExitCode {
    crate::telemetry::init(args.data.log);
    let result = tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")
        .and_then(|rt| rt.block_on(execute(args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frontdesk agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(args: AgentArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.data.database_url).await?;
    match args.command {
        AgentCommand::Add { name, role } => {
            if !valid_name(&name) {
                bail!("names are 1-64 letters, digits, '.', '_' or '-'");
            }
            let secret = read_password()?;
            let hash = password::hash(secret).await?;
            match store.create_staff(&name, role, &hash).await {
                Ok(_) => println!("created {name} ({role})"),
                Err(StoreError::Conflict(_)) => bail!("an account named {name} already exists"),
                Err(e) => return Err(e.into()),
            }
        }
        AgentCommand::List => {
            println!("{:<24} {:<11} {:<9} created", "name", "role", "status");
            for a in store.list_staff().await? {
                let status = if a.disabled { "disabled" } else { "active" };
                println!(
                    "{:<24} {:<11} {:<9} {}",
                    a.name, a.role, status, a.created_at
                );
            }
        }
        AgentCommand::Disable { name } => {
            set_disabled(&store, &name, true).await?;
            println!("disabled {name}");
        }
        AgentCommand::Enable { name } => {
            set_disabled(&store, &name, false).await?;
            println!("enabled {name}");
        }
    }
    Ok(())
}

async fn set_disabled(store: &Store, name: &str, disabled: bool) -> anyhow::Result<()> {
    match store.set_staff_disabled(name, disabled).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => bail!("no account named {name}"),
        Err(e) => Err(e.into()),
    }
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.chars().count() < password::MIN_LEN {
        bail!(
            "the password must be at least {} characters",
            password::MIN_LEN
        );
    }
    Ok(secret)
}
