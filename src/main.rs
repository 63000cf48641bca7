//! The `frontdesk` binary: parse the command line, set up logging, run.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use frontdesk::cli;

#[derive(Parser)]
#[command(name = "frontdesk", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer questions read from stdin, one JSON line each.
    Answer(cli::answer::AnswerArgs),
    /// Check or import knowledge files.
    Knowledge(cli::knowledge::KnowledgeArgs),
    /// Measure answer quality or speed on a dataset.
    Eval(cli::eval::EvalArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FRONTDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Answer(args) => cli::answer::run(args),
        Command::Knowledge(args) => cli::knowledge::run(args),
        Command::Eval(args) => cli::eval::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}
