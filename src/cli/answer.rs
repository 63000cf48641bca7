//! `frontdesk answer`: the decision engine on stdin/stdout, one JSON line per
//! question, for scripts, editors trying their articles, and tests.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::editors::verdict::verdict;
use crate::knowledge::{DecisionSettings, Knowledge};
use crate::lang::Lang;
use crate::semantic::{Embedder, Model};
use crate::utterance::Utterance;

#[derive(clap::Args, Debug)]
pub struct AnswerArgs {
    /// The knowledge directory.
    #[arg(long, env = "FRONTDESK_KNOWLEDGE", default_value = "knowledge")]
    pub knowledge: PathBuf,
    /// Language the questions are in; without it, each question's own
    /// language is detected (English when it cannot be told).
    #[arg(long)]
    pub lang: Option<Lang>,
    #[command(flatten)]
    pub decision: DecisionSettings,
    #[command(flatten)]
    pub meaning: MeaningArgs,
}

/// The model, for commands that answer questions.
#[derive(clap::Args, Debug)]
pub struct MeaningArgs {
    /// Decide from words alone, without the sentence-embedding model.
    #[arg(long)]
    pub no_semantic: bool,
    /// Folder of the model file (never downloaded here: `frontdesk model fetch`).
    #[arg(long, env = "FRONTDESK_MODEL_DIR", default_value = "data/models")]
    pub model_dir: PathBuf,
}

impl MeaningArgs {
    /// The model served from a worker thread, or `None` (said on stderr).
    pub fn embedder(&self) -> anyhow::Result<Option<Embedder>> {
        if self.no_semantic {
            return Ok(None);
        }
        match crate::semantic::fetch::present(&self.model_dir)? {
            Some(path) => Ok(Some(Embedder::with_model(Model::load_shared(&path)?))),
            None => {
                eprintln!(
                    "note: no model in {}; deciding from words alone (`frontdesk model fetch` gets it)",
                    self.model_dir.display()
                );
                Ok(None)
            }
        }
    }

    pub fn vector_cache(&self) -> PathBuf {
        crate::semantic::VectorCache::path_in(&self.model_dir)
    }
}

pub fn run(args: AnswerArgs) -> anyhow::Result<ExitCode> {
    // Safety first, as in the chat: a question that may mean danger is an
    // emergency, whatever the articles say.
    let rules = crate::safety::Rules::load(&args.knowledge).map_err(anyhow::Error::msg)?;
    let safety = crate::safety::SafetyHandle::new(rules);
    let embedder = args.meaning.embedder()?;
    if let Some(model) = embedder.as_ref().and_then(Embedder::model) {
        let labelled =
            crate::safety::training_examples(&args.knowledge).map_err(anyhow::Error::msg)?;
        let mut cache = crate::semantic::VectorCache::open(
            Some(args.meaning.model_dir.join("safety-vectors.bin")),
            crate::semantic::fetch::FILE_SHA256,
        );
        safety.set_examples(crate::safety::learned::Examples::build(
            &labelled,
            &model,
            &mut cache,
            &safety.get(),
        )?);
    }
    let kb = Knowledge::open_blocking(args.knowledge, args.decision)?;
    if let Some(e) = &embedder {
        kb.use_meaning_blocking(e.clone(), Some(args.meaning.vector_cache()));
    }
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let question = line?;
        let meaning = embedder.as_ref().and_then(|e| e.query_blocking(&question));
        let said = Utterance::analyse(&question).with_meaning(meaning);
        let lang = args.lang.unwrap_or_else(|| said.detected().or(Lang::En));
        let hit = safety.check(&said);
        let (verdict, _) = verdict(&question, lang, hit, || kb.decide_blocking(&said, lang));
        serde_json::to_writer(&mut out, &verdict)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
