//! The `frontdesk` binary: parse the command line and run it.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A panic's message could quote data it was handling: report only where
    // it happened, never what it said.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "frontdesk: internal error at {at} (details withheld: they may contain patient data)"
        );
    }));
    frontdesk::cli::Cli::parse().run()
}
