//! The `frontdesk` binary: parse the command line and run it.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    frontdesk::semantic::one_thread_per_pass();
    // A panic's message could quote data it was handling: report only where
    // it happened, never what it said.
    std::panic::set_hook(Box::new(|info| {
        // `println!` panics when stdout is a pipe whose reader has gone
        // (`frontdesk answer < qs | head`): end quietly, with the status a
        // process killed by SIGPIPE has, as other command-line tools do.
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
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
