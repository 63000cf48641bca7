//! `frontdesk knowledge check|import`: keep the article files correct, and
//! bring in an existing FAQ export.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::knowledge::{check, import};

#[derive(clap::Args, Debug)]
pub struct KnowledgeArgs {
    #[command(subcommand)]
    pub command: KnowledgeCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum KnowledgeCommand {
    /// Validate every file; one `path:line: message` line per problem.
    Check(CheckArgs),
    /// Turn an FAQ export (.jsonl, .jsonl.gz or .csv) into article files.
    Import(ImportArgs),
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Directory to check (overrides --knowledge).
    pub dir: Option<PathBuf>,
    /// The knowledge directory.
    #[arg(long, env = "FRONTDESK_KNOWLEDGE", default_value = "knowledge")]
    pub knowledge: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The export: JSON Lines (`question`, `answer`, optional `questions`/`alternates`,
    /// `id`, `tags`, `lang`; may be gzipped) or CSV with a header row
    /// (`question,answer[,alternates]`, alternates separated by `|`).
    pub file: PathBuf,
    /// Directory to write the article files into.
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: KnowledgeArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KnowledgeCommand::Check(a) => run_check(a),
        KnowledgeCommand::Import(a) => run_import(a),
    }
}

fn run_check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let dir = args.dir.unwrap_or(args.knowledge);
    let (mut problems, articles) = check::check_dir(&dir)
        .with_context(|| format!("reading knowledge directory {}", dir.display()))?;
    problems.extend(check_clinic_file(&dir));
    problems.extend(check_safety_file(&dir));
    problems.extend(check_safety_examples(&dir));
    problems.extend(check_messages_file(&dir));
    if problems.is_empty() {
        println!("ok: {articles} articles in {}, no problems", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        println!("{p}");
    }
    Ok(ExitCode::FAILURE)
}

/// clinic.toml, when present, must parse: its problems are reported like
/// any article's.
fn check_clinic_file(dir: &std::path::Path) -> Option<crate::knowledge::Problem> {
    let path = dir.join(crate::clinic::CLINIC_FILE);
    let text = std::fs::read_to_string(&path).ok()?;
    let (line, message) = crate::clinic::Clinic::parse_located(&text).err()?;
    Some(crate::knowledge::Problem::new(&path, line, message))
}

/// messages.toml, when present, must parse and hold every message in every
/// language with known placeholders only (without one the bundled words
/// apply).
fn check_messages_file(dir: &std::path::Path) -> Option<crate::knowledge::Problem> {
    use crate::outbound::messages::{MESSAGES_FILE, Messages};
    let path = dir.join(MESSAGES_FILE);
    let text = std::fs::read_to_string(&path).ok()?;
    let (line, message) = Messages::parse(&text).err()?;
    Some(crate::knowledge::Problem::new(&path, line, message))
}

/// safety.toml, when present, must parse (without one the built-in rules
/// apply).
fn check_safety_file(dir: &std::path::Path) -> Option<crate::knowledge::Problem> {
    let path = dir.join(crate::safety::SAFETY_FILE);
    let text = std::fs::read_to_string(&path).ok()?;
    let (line, message) = crate::safety::Rules::parse(&text).err()?;
    Some(crate::knowledge::Problem::new(&path, line, message))
}

/// safety-examples.tsv, when present, must parse line by line, and hold
/// enough of each tier for the learned signal to serve at all.
fn check_safety_examples(dir: &std::path::Path) -> Option<crate::knowledge::Problem> {
    use crate::safety::learned::MIN_PER_TIER;
    use crate::safety::set::Tier;
    let path = dir.join(crate::safety::EXAMPLES_FILE);
    let text = std::fs::read_to_string(&path).ok()?;
    let examples = match crate::safety::set::parse(&text) {
        Ok(examples) => examples,
        Err((line, message)) => return Some(crate::knowledge::Problem::new(&path, line, message)),
    };
    let (tier, n) = [Tier::Emergency, Tier::Crisis, Tier::None]
        .into_iter()
        .map(|t| (t, examples.iter().filter(|l| l.tier == t).count()))
        .find(|(_, n)| *n < MIN_PER_TIER)?;
    Some(crate::knowledge::Problem::new(
        &path,
        1,
        format!(
            "only {n} examples of tier {}; the learned safety check needs at least {MIN_PER_TIER} of each of 911, 988 and none, so only the rules of safety.toml would apply",
            tier.as_str()
        ),
    ))
}

fn run_import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let records = import::read_records(&args.file)?;
    let (files, skipped) = import::to_files(&records);
    for s in &skipped {
        eprintln!("{}: skipped {s}", args.file.display());
    }
    import::write_files(&args.out, &files, args.force)?;
    println!(
        "imported {} articles into {} ({} skipped)",
        files.len(),
        args.out.display(),
        skipped.len()
    );
    Ok(if skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
