//! Patient safety: every patient message is checked for a medical emergency,
//! a mental-health crisis or a need for care today before anything else.
//! The rules live in `safety.toml` in the knowledge directory, so clinicians
//! can review and edit them; this module reads, checks and matches them,
//! and weighs them with the learned signal (`learned`, `classifier`; its
//! thresholds fitted by `fit`) in [`decide`].

pub mod classifier;
pub mod fit;
pub mod learned;
mod matcher;
pub mod redact;
pub mod redact_personal;
pub mod set;

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Deserialize;

use crate::lang::Lang;
use crate::utterance::Utterance;
use matcher::Phrase;

pub const SAFETY_FILE: &str = "safety.toml";
/// Labelled example messages the learned signal compares with.
pub const EXAMPLES_FILE: &str = "safety-examples.tsv";

/// The bundled rules, compiled in.
const BUILT_IN: &str = include_str!("../../knowledge/safety.toml");

/// Emergencies call for the emergency number; crises for the crisis line;
/// urgent care for the nurse line or urgent care today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Medical,
    Crisis,
    Urgent,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Medical => "medical",
            Kind::Crisis => "crisis",
            Kind::Urgent => "urgent",
        }
    }

    /// The kind named by [`Kind::as_str`].
    pub fn parse(word: &str) -> Option<Kind> {
        [Kind::Medical, Kind::Crisis, Kind::Urgent]
            .into_iter()
            .find(|k| k.as_str() == word)
    }

    /// The tier of the labelled sets this kind answers.
    pub fn tier(self) -> set::Tier {
        match self {
            Kind::Medical => set::Tier::Emergency,
            Kind::Crisis => set::Tier::Crisis,
            Kind::Urgent => set::Tier::Urgent,
        }
    }

    /// An alarm: the emergency number or the crisis line, the chat to the
    /// top of the queue. Urgent care is guidance, and the chat goes on.
    pub fn is_alarm(self) -> bool {
        !matches!(self, Kind::Urgent)
    }
}

/// A message that may mean the patient is in danger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub category: String,
    pub kind: Kind,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    numbers: Numbers,
    guidance: Guidance,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbers {
    pub emergency: String,
    pub crisis: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Guidance {
    medical_en: String,
    medical_es: String,
    crisis_en: String,
    crisis_es: String,
    /// Care today, not an emergency (optional: files written before the
    /// urgent tier have none, and get the built-in text).
    #[serde(default = "urgent_en")]
    urgent_en: String,
    #[serde(default = "urgent_es")]
    urgent_es: String,
}

fn urgent_en() -> String {
    "This sounds like it needs care today. Please call our nurse line or go to an urgent care clinic today. If it gets worse, or you think it may be an emergency, call 911 now.".to_owned()
}

fn urgent_es() -> String {
    "Esto parece necesitar atención hoy mismo. Llame a nuestra línea de enfermería o vaya hoy a una clínica de atención urgente. Si empeora, o cree que puede ser una emergencia, llame al 911 ahora.".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    category: String,
    kind: Kind2,
    #[serde(default)]
    all: Vec<Vec<String>>,
    #[serde(default)]
    phrases: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind2 {
    Medical,
    Crisis,
}

struct Rule {
    category: String,
    kind: Kind,
    all: Vec<Vec<Phrase>>,
    phrases: Vec<Phrase>,
    unless: Vec<Phrase>,
}

/// The parsed rules.
pub struct Rules {
    pub numbers: Numbers,
    guidance: Guidance,
    rules: Vec<Rule>,
}

impl Rules {
    /// Parses safety.toml; errors carry the 1-based line.
    pub fn parse(text: &str) -> Result<Rules, (usize, String)> {
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            (line, e.message().to_owned())
        })?;
        let mut rules = Vec::new();
        for r in file.rule {
            if r.all.is_empty() && r.phrases.is_empty() {
                let line = text
                    .find(&format!("\"{}\"", r.category))
                    .map_or(1, |at| text[..at].matches('\n').count() + 1);
                return Err((
                    line,
                    format!("rule {:?} needs `all` or `phrases`", r.category),
                ));
            }
            rules.push(Rule {
                category: r.category,
                kind: match r.kind {
                    Kind2::Medical => Kind::Medical,
                    Kind2::Crisis => Kind::Crisis,
                },
                all: r
                    .all
                    .iter()
                    .map(|g| g.iter().map(|p| Phrase::new(p)).collect())
                    .collect(),
                phrases: r.phrases.iter().map(|p| Phrase::new(p)).collect(),
                unless: r.unless.iter().map(|p| Phrase::new(p)).collect(),
            });
        }
        Ok(Rules {
            numbers: file.numbers,
            guidance: file.guidance,
            rules,
        })
    }

    /// Reads `dir/safety.toml`. Without one, the rules built into the
    /// binary apply: the bot never runs without its safety net.
    pub fn load(dir: &Path) -> Result<Rules, String> {
        let path = dir.join(SAFETY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                Rules::parse(&text).map_err(|(line, m)| format!("{}:{line}: {m}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Rules::built_in()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The rules shipped with Frontdesk (the bundled knowledge/safety.toml).
    pub fn built_in() -> Rules {
        Rules::parse(BUILT_IN).expect("the bundled safety rules parse (a unit test checks)")
    }

    /// The first rule the message triggers. Never panics; bounded work.
    pub fn check(&self, said: &Utterance) -> Option<Hit> {
        let words = matcher::matched_words(said.words());
        self.rules.iter().find_map(|r| {
            let fires = r.phrases.iter().any(|p| p.found_in(&words))
                || (!r.all.is_empty()
                    && r.all
                        .iter()
                        .all(|group| group.iter().any(|p| p.found_in(&words))));
            let cancelled = r.unless.iter().any(|p| p.found_exactly_in(&words));
            (fires && !cancelled).then(|| Hit {
                category: r.category.clone(),
                kind: r.kind,
            })
        })
    }

    /// What to tell the patient at once.
    pub fn guidance(&self, kind: Kind, lang: Lang) -> &str {
        match (kind, lang) {
            (Kind::Medical, Lang::En) => &self.guidance.medical_en,
            (Kind::Medical, Lang::Es) => &self.guidance.medical_es,
            (Kind::Crisis, Lang::En) => &self.guidance.crisis_en,
            (Kind::Crisis, Lang::Es) => &self.guidance.crisis_es,
            (Kind::Urgent, Lang::En) => &self.guidance.urgent_en,
            (Kind::Urgent, Lang::Es) => &self.guidance.urgent_es,
        }
    }
}

/// The live rules, and the learned signal's embedded examples once the
/// model has embedded them; both swapped when the knowledge directory changes.
#[derive(Clone)]
pub struct SafetyHandle {
    rules: Arc<ArcSwap<Rules>>,
    examples: Arc<ArcSwap<Option<learned::Examples>>>,
    /// How many examples serve (0 until the model has embedded them).
    counted: Arc<tokio::sync::watch::Sender<usize>>,
}

impl SafetyHandle {
    pub fn new(rules: Rules) -> Self {
        SafetyHandle {
            rules: Arc::new(ArcSwap::from_pointee(rules)),
            examples: Arc::new(ArcSwap::from_pointee(None)),
            counted: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    pub fn get(&self) -> Arc<Rules> {
        self.rules.load_full()
    }

    pub fn set(&self, rules: Rules) {
        self.rules.store(Arc::new(rules));
    }

    pub fn set_examples(&self, examples: learned::Examples) {
        let n = examples.len();
        self.examples.store(Arc::new(Some(examples)));
        self.counted.send_replace(n);
    }

    /// Examples the learned signal compares with (0 until the model has
    /// embedded them, or without a model).
    pub fn examples(&self) -> usize {
        *self.counted.borrow()
    }

    /// Follows that count (tests wait on it).
    pub fn subscribe_examples(&self) -> tokio::sync::watch::Receiver<usize> {
        self.counted.subscribe()
    }

    /// The rules' verdict on a message, and, with its embedding, the
    /// learned signal's: a rule's hit stands unless the ordinary examples
    /// clearly lead (a figure of speech, a question about a condition);
    /// without a rule, the learned signal can fire for 911 or 988.
    pub fn check(&self, said: &Utterance) -> Option<Hit> {
        let rules = self.get();
        let examples = self.examples.load();
        let hit = rules.check(said);
        let judgement = said
            .meaning()
            .zip(examples.as_ref().as_ref())
            .and_then(|(q, e)| e.judge(said, q, hit.as_ref().map(|h| h.kind)));
        decide(hit, judgement.as_ref(), &learned::Thresholds::FITTED)
    }
}

/// The verdict from a rule's hit and the learned signal's judgement (none
/// without the model): a rule's hit stands unless the message is clearly
/// ordinary by the learned signal (a figure of speech, a question about a
/// condition), and one set aside in doubt still gets urgent care's
/// guidance; without a rule, the learned signal may fire on its own.
pub fn decide(
    hit: Option<Hit>,
    judgement: Option<&learned::Judgement>,
    thresholds: &learned::Thresholds,
) -> Option<Hit> {
    let Some(judgement) = judgement else {
        return hit;
    };
    if let Some(hit) = hit {
        if !judgement.vetoes(thresholds) {
            return Some(hit);
        }
        if judgement.doubtful() {
            return Some(Hit {
                category: hit.category,
                kind: Kind::Urgent,
            });
        }
        return None;
    }
    let (tier, category) = judgement.fires(thresholds)?;
    let kind = match tier {
        set::Tier::Emergency => Kind::Medical,
        set::Tier::Crisis => Kind::Crisis,
        set::Tier::Urgent => Kind::Urgent,
        set::Tier::None => return None,
    };
    Some(Hit {
        category: category.to_owned(),
        kind,
    })
}

/// Reads `dir/safety-examples.tsv` (none: no examples).
pub fn load_examples(dir: &Path) -> Result<Vec<set::Labelled>, String> {
    let path = dir.join(EXAMPLES_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            set::parse(&text).map_err(|(line, m)| format!("{}:{line}: {m}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The category of article phrasings among the learned signal's examples.
pub const PHRASING: &str = "knowledge_phrasing";

/// Every phrasing of every article that is not itself about an emergency
/// (those are asked in emergency words), as an ordinary message: the
/// clinic's own questions must never sound an alarm.
pub fn kb_phrasings(dir: &Path) -> std::io::Result<Vec<set::Labelled>> {
    let kb = crate::knowledge::loader::load_dir(dir, &Default::default())?;
    let about_danger = |tags: &[String]| {
        tags.iter().any(|t| {
            [
                "emergency",
                "urgent",
                "crisis",
                "safety",
                "urgencias",
                "emergencia",
            ]
            .contains(&t.as_str())
        })
    };
    Ok(kb
        .articles
        .iter()
        .filter(|l| !about_danger(&l.article.tags))
        .flat_map(|l| {
            l.article.phrasings().map(|p| set::Labelled {
                tier: set::Tier::None,
                category: PHRASING.to_owned(),
                lang: l.article.lang,
                tune: true,
                text: p.to_owned(),
            })
        })
        .collect())
}

/// What the learned signal trains on: the labelled examples, and the
/// articles' phrasings as ordinary messages. Without labelled examples,
/// nothing: phrasings alone teach only "ordinary".
pub fn training_examples(dir: &Path) -> Result<Vec<set::Labelled>, String> {
    let mut examples = load_examples(dir)?;
    if examples.is_empty() {
        return Ok(examples);
    }
    examples.extend(kb_phrasings(dir).map_err(|e| format!("{}: {e}", dir.display()))?);
    Ok(examples)
}

#[cfg(test)]
mod tests;
