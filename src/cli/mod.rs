//! The command line: `frontdesk` (same as `frontdesk serve`) and its
//! subcommands. Each subcommand parses its own arguments and runs; `main`
//! only dispatches.

pub mod agent;
pub mod answer;
pub mod compliance;
pub mod eval;
pub mod knowledge;
pub mod loadtest;
pub mod model;
pub mod safety;
mod safety_set;
pub mod serve;
pub mod widget;

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
    Serve(Box<Settings>),
    /// Answer questions read from stdin, one JSON line each (batch testing).
    Answer(answer::AnswerArgs),
    /// Check or import knowledge files.
    Knowledge(knowledge::KnowledgeArgs),
    /// Manage console accounts (agents, supervisors, admins, editors).
    Agent(agent::AgentArgs),
    /// Measure answer quality or search speed on a dataset.
    Eval(eval::EvalArgs),
    /// Measure the emergency and crisis rules.
    Safety(safety::SafetyArgs),
    /// The widget's embed tag.
    Widget(widget::WidgetArgs),
    /// Check the audit log's hash chain.
    Audit(compliance::AuditArgs),
    /// Delete transcripts and appointment details past the retention period.
    Purge(compliance::PurgeArgs),
    /// Drive a running server on this machine with simulated patients.
    Loadtest(loadtest::LoadtestArgs),
    /// Get the sentence-embedding model.
    Model(model::ModelArgs),
}

impl Cli {
    pub fn run(self) -> ExitCode {
        if matches!(
            self.command,
            Some(
                Command::Answer(_) | Command::Knowledge(_) | Command::Eval(_) | Command::Safety(_)
            )
        ) {
            crate::telemetry::init_from_env();
        }
        match self.command {
            None => serve::run(self.serve),
            Some(Command::Serve(settings)) => serve::run(*settings),
            Some(Command::Agent(args)) => agent::run(args),
            Some(Command::Answer(args)) => report(answer::run(args)),
            Some(Command::Knowledge(args)) => report(knowledge::run(args)),
            Some(Command::Eval(args)) => report(eval::run(args)),
            Some(Command::Safety(args)) => report(safety::run(args)),
            Some(Command::Widget(args)) => widget::run(args),
            Some(Command::Audit(args)) => report(compliance::audit(args)),
            Some(Command::Purge(args)) => report(compliance::purge(args)),
            Some(Command::Loadtest(args)) => report(loadtest::run(args)),
            Some(Command::Model(args)) => report(model::run(args)),
        }
    }
}

/// Prints a command's error and turns it into exit code 2.
fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    result.unwrap_or_else(|e| {
        // The reader of our output went away (`| head`): not an error to
        // report, and the status is the one a SIGPIPE death gives.
        let broken_pipe = e.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        });
        if broken_pipe {
            return ExitCode::from(141);
        }
        eprintln!("frontdesk: {e:#}");
        ExitCode::from(2)
    })
}
