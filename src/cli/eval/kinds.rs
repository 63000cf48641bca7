//! `frontdesk eval --kinds FILE`: how well the booking flow understands the
//! kind of appointment in a patient's own words (tests/fixtures/booking/
//! kinds.tsv), by words alone and with the model; `--fit` fits the meaning
//! thresholds on the tuning half. Figures are reported per half, so the
//! holdout half says what to expect of phrasings nobody tuned on.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::clinic::{Clinic, Schedule};
use crate::dialog::kinds::{self, KindThresholds, Meanings};
use crate::semantic::{Embedding, Role};
use crate::utterance::Utterance;

/// One labelled line: the patient's words and the kind meant (`None`: the
/// words name no kind, and the chat must ask).
struct Line {
    text: String,
    kind: Option<String>,
    lang: String,
    holdout: bool,
}

/// Lines beyond this are refused (a set, not a dump).
const MAX_LINES: usize = 20_000;

fn read(path: &Path, schedule: &Schedule) -> anyhow::Result<Vec<Line>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.starts_with('#') || raw.starts_with("text\t") {
            continue;
        }
        let cols: Vec<&str> = raw.split('\t').collect();
        let [text, kind, lang, split] = cols[..] else {
            anyhow::bail!(
                "{}:{}: expected 4 tab-separated columns: text, kind, lang, split",
                path.display(),
                n + 1
            );
        };
        let kind = (kind != "none").then(|| kind.to_owned());
        if let Some(k) = &kind
            && schedule.appointment_type(k).is_none()
        {
            anyhow::bail!(
                "{}:{}: {k:?} is not an appointment type in clinic.toml",
                path.display(),
                n + 1
            );
        }
        let holdout = match split {
            "tune" => false,
            "holdout" => true,
            other => anyhow::bail!(
                "{}:{}: split is tune or holdout, not {other:?}",
                path.display(),
                n + 1
            ),
        };
        lines.push(Line {
            text: text.to_owned(),
            kind,
            lang: lang.to_owned(),
            holdout,
        });
        if lines.len() > MAX_LINES {
            anyhow::bail!("{}: more than {MAX_LINES} lines", path.display());
        }
    }
    Ok(lines)
}

#[derive(Default)]
struct Tally {
    lines: usize,
    right: usize,
    wrong: usize,
    asked: usize,
    /// Asked, and the right kind was among the choices offered first.
    closest_had_it: usize,
}

impl Tally {
    fn add(&mut self, line: &Line, heard: &kinds::Heard) {
        self.lines += 1;
        match (&heard.kind, &line.kind) {
            (Some(got), Some(want)) if got == want => self.right += 1,
            (Some(_), _) => self.wrong += 1,
            (None, want) => {
                self.asked += 1;
                let offered = &heard.closest[..heard.closest.len().min(3)];
                if want.as_ref().is_some_and(|w| offered.contains(w)) {
                    self.closest_had_it += 1;
                }
            }
        }
    }

    fn row(&self, name: &str) -> String {
        let of = |n: usize| n as f64 / self.lines.max(1) as f64;
        format!(
            "{name:<22} {:>5} {:>7.3} {:>7.3} {:>7.3} {:>13.3}",
            self.lines,
            of(self.right),
            of(self.wrong),
            of(self.asked),
            of(self.closest_had_it)
        )
    }
}

pub fn run(args: &super::EvalArgs, path: &Path) -> anyhow::Result<ExitCode> {
    let clinic_file = args.kb.join("clinic.toml");
    let clinic = Clinic::parse(
        &std::fs::read_to_string(&clinic_file)
            .with_context(|| format!("cannot read {}", clinic_file.display()))?,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", clinic_file.display()))?;
    let schedule = &clinic.schedule;
    let lines = read(path, schedule)?;
    let model = match args.meaning.embedder()? {
        Some(e) => e.model(),
        None => None,
    };
    let meaning: Option<(Meanings, Vec<Embedding>)> = match &model {
        Some(m) => {
            let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
            Some((Meanings::build(schedule, m)?, m.embed(&texts, Role::Query)?))
        }
        None => None,
    };
    // Each line analysed once, with its meaning when there is a model.
    let said: Vec<Utterance> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let v = meaning.as_ref().map(|(_, vs)| vs[i].clone());
            Utterance::analyse(&l.text).with_meaning(v)
        })
        .collect();
    let meanings = meaning.as_ref().map(|(ms, _)| ms);
    let thresholds = match meanings {
        Some(meanings) if args.fit => {
            let fitted = fit(&lines, &said, meanings, schedule);
            println!(
                "fitted on the tuning half: similarity {:.3}, lead {:.3}",
                fitted.similarity, fitted.lead
            );
            fitted
        }
        _ => KindThresholds::FITTED,
    };
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for (line, said) in lines.iter().zip(&said) {
        let heard = kinds::hear(schedule, said, meanings, thresholds);
        let split = if line.holdout { "holdout" } else { "tune" };
        for key in [split.to_owned(), format!("{split} {}", line.lang)] {
            tallies.entry(key).or_default().add(line, &heard);
        }
        if !line.holdout && heard.kind != line.kind {
            eprintln!(
                "tune miss: {:?} meant {} heard {}",
                line.text,
                line.kind.as_deref().unwrap_or("none"),
                heard.kind.as_deref().unwrap_or("none")
            );
        }
    }
    println!(
        "kinds of appointment, {} (similarity {:.3}, lead {:.3})",
        if meaning.is_some() {
            "words and meaning"
        } else {
            "words alone"
        },
        thresholds.similarity,
        thresholds.lead
    );
    println!(
        "{:<22} {:>5} {:>7} {:>7} {:>7} {:>13}",
        "split", "lines", "right", "wrong", "asked", "asked+offered"
    );
    for (name, t) in &tallies {
        println!("{}", t.row(name));
    }
    Ok(ExitCode::SUCCESS)
}

/// The thresholds that get the most kinds right on the tuning half with at
/// most one wrong pick in twenty; of those, the most cautious (largest lead,
/// then largest similarity).
fn fit(
    lines: &[Line],
    said: &[Utterance],
    meanings: &Meanings,
    schedule: &Schedule,
) -> KindThresholds {
    let mut best = (0usize, KindThresholds::FITTED);
    for l in 0..=40 {
        for s in 60..=95 {
            let t = KindThresholds {
                similarity: s as f32 / 100.0,
                lead: l as f32 / 400.0,
            };
            let mut tally = Tally::default();
            for (line, said) in lines.iter().zip(said).filter(|(l, _)| !l.holdout) {
                tally.add(line, &kinds::hear(schedule, said, Some(meanings), t));
            }
            if tally.wrong * 20 <= tally.lines && tally.right >= best.0 {
                best = (tally.right, t);
            }
        }
    }
    best.1
}
