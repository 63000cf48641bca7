//! The command line: `frontdesk` (same as `frontdesk serve`) and its
//! subcommands. Each subcommand parses its own arguments and runs; `main`
//! only dispatches.

pub mod agent;
pub mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(name = "frontdesk", version, about = "Self-hosted patient front desk")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// With no subcommand, `frontdesk` serves with these settings.
    #[command(flatten)]
    pub serve: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the chat server (the default).
    Serve(Settings),
    /// Manage console accounts (agents, supervisors, admins, editors).
    Agent(agent::AgentArgs),
}

impl Cli {
    pub fn run(self) -> ExitCode {
        match self.command {
            None => serve::run(self.serve),
            Some(Command::Serve(settings)) => serve::run(settings),
            Some(Command::Agent(args)) => agent::run(args),
        }
    }
}
