//! The `frontdesk` binary: parse the command line and run it.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    frontdesk::cli::Cli::parse().run()
}
