//! `frontdesk safety eval`: how well the safety rules separate emergencies
//! from ordinary questions, on labelled sets (defaults: the sets the tests
//! use) plus every question phrasing in the knowledge base as benign text.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::safety::Rules;
use crate::utterance::Utterance;

#[derive(clap::Args, Debug)]
pub struct SafetyArgs {
    #[command(subcommand)]
    pub command: SafetyCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum SafetyCommand {
    /// Measure detection and false-positive rates; print every miss.
    Eval(EvalArgs),
}

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The knowledge directory (safety.toml, and articles used as benign text).
    #[arg(long, env = "FRONTDESK_KNOWLEDGE", default_value = "knowledge")]
    pub knowledge: PathBuf,
    /// Lines of `category<TAB>message` that must be caught.
    #[arg(long, default_value = "tests/fixtures/safety/emergencies.tsv")]
    pub emergencies: PathBuf,
    /// Lines of ordinary messages that must not fire.
    #[arg(long, default_value = "tests/fixtures/safety/benign.txt")]
    pub benign: PathBuf,
    /// A labelled set (`tier, category, lang, split, message`, as
    /// tests/fixtures/safety/set/messages.tsv): reports per tier, category
    /// and language on its holdout half, the rules alone and with the
    /// learned signal (trained on its tuning half and the knowledge
    /// directory's examples), and prints the training examples' misses.
    #[arg(long, value_name = "FILE")]
    pub set: Option<PathBuf>,
    /// With --set: fit the learned signal's thresholds on out-of-fold
    /// judgements of the training examples and print them.
    #[arg(long, requires = "set")]
    pub fit: bool,
    /// With --set: print JSON.
    #[arg(long, requires = "set")]
    pub json: bool,
    #[command(flatten)]
    pub meaning: super::answer::MeaningArgs,
}

pub fn run(args: SafetyArgs) -> anyhow::Result<ExitCode> {
    let SafetyCommand::Eval(a) = args.command;
    let rules = Rules::load(&a.knowledge).map_err(anyhow::Error::msg)?;
    if let Some(set) = &a.set {
        return super::safety_set::run(&rules, set, &a);
    }
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let emergencies = read(&a.emergencies)?;
    let benign = read(&a.benign)?;
    let lines = |t: &str| {
        t.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };

    let (mut caught, mut right_category, mut total) = (0, 0, 0);
    for line in lines(&emergencies) {
        let Some((category, message)) = line.split_once('\t') else {
            continue;
        };
        total += 1;
        match rules.check(&Utterance::analyse(message)) {
            Some(hit) => {
                caught += 1;
                if hit.category == category {
                    right_category += 1;
                } else {
                    println!(
                        "wrong category: {message:?} → {} (expected {category})",
                        hit.category
                    );
                }
            }
            None => println!("missed: {message:?} (expected {category})"),
        }
    }
    let mut benign_lines = lines(&benign);
    let kb_phrasings: Vec<String> = crate::safety::kb_phrasings(&a.knowledge)
        .with_context(|| "reading the knowledge base")?
        .into_iter()
        .map(|l| l.text)
        .collect();
    benign_lines.extend(kb_phrasings.iter().cloned());
    let mut fired = 0;
    for message in &benign_lines {
        if let Some(hit) = rules.check(&Utterance::analyse(message)) {
            fired += 1;
            println!("false positive: {message:?} → {}", hit.category);
        }
    }
    let rate = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    println!("emergency set      {total} messages");
    println!(
        "detected           {:.3} ({caught}/{total})",
        rate(caught, total)
    );
    println!(
        "right category     {:.3} ({right_category}/{total})",
        rate(right_category, total)
    );
    println!(
        "benign set         {} messages ({} hand-written, {} knowledge-base phrasings)",
        benign_lines.len(),
        benign_lines.len() - kb_phrasings.len(),
        kb_phrasings.len()
    );
    println!(
        "false positives    {:.3} ({fired}/{})",
        rate(fired, benign_lines.len()),
        benign_lines.len()
    );
    Ok(ExitCode::SUCCESS)
}
