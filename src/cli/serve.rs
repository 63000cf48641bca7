//! `frontdesk serve`: start the server and run until SIGINT or SIGTERM.

use std::process::ExitCode;

use crate::config::Settings;
use crate::semantic::ModelStatus;
use crate::startup::{Application, shutdown_signal};
use crate::telemetry;

pub fn run(settings: Settings) -> ExitCode {
    telemetry::init(settings.data.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("frontdesk: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "frontdesk stopped");
            eprintln!("frontdesk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    let addr = app.local_addr();
    let host = if addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        addr.ip().to_string()
    };
    let base = if addr.is_ipv6() && host != "localhost" {
        format!("http://[{host}]:{}", addr.port())
    } else {
        format!("http://{host}:{}", addr.port())
    };
    println!("Frontdesk is running.");
    println!("  Demo clinic page with the chat widget: {base}/");
    println!("  Agent console:                         {base}/console");
    let files = app.files();
    println!(
        "  Chats at once: up to {} (open-file limit {}, {} kept for the database, files and staff)",
        files.max_chats,
        files.open_files,
        crate::fds::RESERVE
    );
    println!("  Messages to patients: {}", app.channels());
    if let Some(secret) = app.initial_admin_password() {
        println!();
        println!("  First start: created the console account \"admin\" with password");
        println!("      {secret}");
        println!("  It is shown only this once; sign in and keep it somewhere safe.");
        println!();
    }
    // Said once the model has loaded or failed, without holding up serving.
    let status = app.model_status();
    tokio::spawn(async move {
        match status.await {
            ModelStatus::Ready => {
                println!("  Language model: ready (answers use meaning as well as words)")
            }
            ModelStatus::Loading => println!(
                "  Language model: still loading (fetched on the first start); answers use words alone until it is ready"
            ),
            ModelStatus::Missing { reason } => {
                println!("  WARNING: no language model: {reason}");
                println!(
                    "  Answers use words alone: fewer questions answered, no help across languages."
                );
                println!(
                    "  `frontdesk model fetch` gets it; docs/operations.md has an offline install."
                );
            }
        }
    });
    println!("Press Ctrl-C to stop.");
    tracing::info!(%addr, "listening");
    app.run_until(shutdown_signal()).await
}
