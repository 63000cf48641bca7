//! Which kind of appointment a patient means, in their own words: "a
//! checkup for my son" is an annual physical, "something for my cough" a
//! sick visit.
//!
//! Two signals. By words: the clinic's names for its appointment types and
//! the phrases its editors list for each (`examples` in clinic.toml), so an
//! editor who sees a miss can fix it without a release. By meaning, when the
//! model is loaded: how close the message is to any of those names and
//! phrases in the embedding space, with a threshold fitted on the tuning
//! half of tests/fixtures/booking/kinds.tsv (`frontdesk eval --kinds`).
//! Words win when they name exactly one kind; meaning decides only with a
//! clear lead, and otherwise ranks the choices the patient is offered.

use std::sync::Arc;

use crate::clinic::{AppointmentType, Schedule};
use crate::normalize;
use crate::semantic::{Embedding, Model, Role, cosine};
use crate::utterance::Utterance;

/// How close the best kind must be, and how far ahead of the next, for
/// meaning alone to pick it. Fitted with `frontdesk eval --kinds
/// tests/fixtures/booking/kinds.tsv --fit` on the tuning half only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindThresholds {
    pub similarity: f32,
    pub lead: f32,
}

impl KindThresholds {
    pub const FITTED: KindThresholds = KindThresholds {
        similarity: 0.82,
        lead: 0.005,
    };
}

/// Words that name no kind on their own, even inside a kind's name.
const GENERIC: &[&str] = &[
    "visit",
    "visits",
    "appointment",
    "appointments",
    "appt",
    "patient",
    "patients",
    "consulta",
    "cita",
    "citas",
    "paciente",
    "pacientes",
    "primera",
    "first",
    "nuevo",
    "nueva",
    "new",
    "contra",
    "para",
    "por",
];

/// Words left out of an example phrase's required words.
const FILLER: &[&str] = &[
    "a", "an", "the", "for", "my", "of", "to", "and", "de", "la", "el", "los", "las", "un", "una",
    "mi", "y", "del", "al",
];

/// What was understood of the kind of appointment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Heard {
    /// The kind, when the words or the meaning name exactly one.
    pub kind: Option<String>,
    /// Kinds to offer when none was picked, closest first (empty: no
    /// ranking, offer them all).
    pub closest: Vec<String>,
}

/// A kind named by a message's words: one type's name or example phrase,
/// and no other's as strongly.
pub fn by_words(schedule: &Schedule, said: &Utterance) -> Option<String> {
    best(schedule, said.first_words(MAX_WORDS))
}

/// A kind named by words, with the index of the first of the message's
/// words that named it ("I need a flu shot": 3).
pub fn named(schedule: &Schedule, said: &Utterance) -> Option<(String, usize)> {
    let words = said.first_words(MAX_WORDS);
    let id = best(schedule, words)?;
    let k = schedule.appointment_type(&id)?;
    let own: Vec<String> = name_words(k)
        .into_iter()
        .chain(
            k.examples
                .iter()
                .flat_map(|p| normalize::words(p).collect::<Vec<_>>())
                .filter(|w| !FILLER.contains(&w.as_str())),
        )
        .collect();
    let at = words
        .iter()
        .position(|x| own.iter().any(|w| same_word(x, w)))?;
    Some((id, at))
}

/// Words of a message looked at.
const MAX_WORDS: usize = 60;

fn best(schedule: &Schedule, words: &[String]) -> Option<String> {
    let mut scored: Vec<(usize, &str)> = schedule
        .types
        .iter()
        .map(|k| (word_score(k, words), k.id.as_str()))
        .filter(|(score, _)| *score > 0)
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    match scored.as_slice() {
        [(best, id), rest @ ..] if rest.first().is_none_or(|(next, _)| next < best) => {
            Some((*id).to_owned())
        }
        _ => None,
    }
}

fn word_score(k: &AppointmentType, words: &[String]) -> usize {
    let has = |w: &str| words.iter().any(|x| same_word(x, w));
    let from_names = name_words(k).iter().filter(|w| has(w)).count();
    let from_examples: usize = k
        .examples
        .iter()
        .map(|phrase| {
            let needed: Vec<String> = normalize::words(phrase)
                .filter(|w| !FILLER.contains(&w.as_str()))
                .collect();
            // A listed phrase says more than a word of a name.
            if !needed.is_empty() && needed.iter().all(|w| has(w)) {
                needed.len() + 1
            } else {
                0
            }
        })
        .max()
        .unwrap_or(0);
    from_names + from_examples
}

/// The words of a kind's names that name it alone ("physical", "gripe").
fn name_words(k: &AppointmentType) -> Vec<String> {
    let mut words: Vec<String> = [Some(k.name.as_str()), k.name_es.as_deref()]
        .into_iter()
        .flatten()
        .flat_map(|n| normalize::words(n).collect::<Vec<_>>())
        .filter(|w| w.chars().count() > 3 && !GENERIC.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    words
}

/// The same word, allowing a plural and a patient's cut-off typing
/// ("vaccin" for "vaccine").
fn same_word(typed: &str, known: &str) -> bool {
    let long = |w: &str| w.chars().count() > 3;
    typed == known
        || (long(known) && typed.strip_suffix('s') == Some(known))
        || (long(typed) && known.strip_suffix('s') == Some(typed))
        || (typed.chars().count() > 4 && known.starts_with(typed))
}

/// Answers that name no kind, in both languages: when a message is as
/// close to one of these as to any kind, meaning picks nothing.
const NO_KIND: &[&str] = &[
    "an appointment",
    "una cita",
    "as soon as possible",
    "lo antes posible",
    "I'm not sure",
    "no estoy seguro",
    "next week in the afternoon",
    "la semana que viene por la tarde",
    "with my usual doctor",
    "con mi doctor de siempre",
    "anything is fine",
    "lo que sea",
];

/// Every kind's names and example phrases, embedded: built once per clinic
/// file (blocking), then compared with each message's one embedding.
#[derive(Debug)]
pub struct Meanings {
    /// Which schedule's phrases these are.
    key: u64,
    kinds: Vec<(String, Vec<Embedding>)>,
    /// [`NO_KIND`], embedded.
    none: Vec<Embedding>,
}

impl Meanings {
    /// Embeds the phrases of every kind (blocking; well under a second for
    /// a clinic's handful of kinds).
    pub fn build(schedule: &Schedule, model: &Model) -> anyhow::Result<Meanings> {
        let phrases: Vec<(usize, &str)> = schedule
            .types
            .iter()
            .enumerate()
            .flat_map(|(i, k)| phrases(k).map(move |p| (i, p)))
            .collect();
        let texts: Vec<&str> = phrases.iter().map(|(_, p)| *p).collect();
        let vectors = model.embed(&texts, Role::Query)?;
        let none = model.embed(NO_KIND, Role::Query)?;
        let mut kinds: Vec<(String, Vec<Embedding>)> = schedule
            .types
            .iter()
            .map(|k| (k.id.clone(), Vec::new()))
            .collect();
        for ((i, _), v) in phrases.iter().zip(vectors) {
            kinds[*i].1.push(v);
        }
        Ok(Meanings {
            key: key(schedule),
            kinds,
            none,
        })
    }

    /// Whether these are the phrases of `schedule` (a reload may change them).
    pub fn is_for(&self, schedule: &Schedule) -> bool {
        self.key == key(schedule)
    }

    /// Every kind with its closeness to `query` (its nearest phrase), best
    /// first.
    pub fn rank(&self, query: &[f32]) -> Vec<(String, f32)> {
        let mut ranked: Vec<(String, f32)> = self
            .kinds
            .iter()
            .map(|(id, vs)| {
                let best = vs.iter().map(|v| cosine(v, query)).fold(f32::MIN, f32::max);
                (id.clone(), best)
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked
    }

    /// How close `query` is to an answer that names no kind.
    pub fn no_kind(&self, query: &[f32]) -> f32 {
        self.none
            .iter()
            .map(|v| cosine(v, query))
            .fold(f32::MIN, f32::max)
    }
}

/// The texts that stand for a kind: its names and its example phrases.
fn phrases(k: &AppointmentType) -> impl Iterator<Item = &str> {
    [Some(k.name.as_str()), k.name_es.as_deref()]
        .into_iter()
        .flatten()
        .chain(k.examples.iter().map(String::as_str))
}

fn key(schedule: &Schedule) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for k in &schedule.types {
        k.id.hash(&mut h);
        for p in phrases(k) {
            p.hash(&mut h);
        }
    }
    h.finish()
}

/// What the patient's words and, when known, their meaning say about the
/// kind of appointment.
pub fn hear(
    schedule: &Schedule,
    said: &Utterance,
    meanings: Option<&Meanings>,
    thresholds: KindThresholds,
) -> Heard {
    let words = by_words(schedule, said);
    let meaning = said.meaning().map(|q| &q[..]).zip(meanings);
    let Some((query, meanings)) = meaning.filter(|(_, m)| m.is_for(schedule)) else {
        return Heard {
            kind: words,
            closest: Vec::new(),
        };
    };
    let ranked = meanings.rank(query);
    let kind = words.or_else(|| pick(&ranked, meanings.no_kind(query), thresholds));
    Heard {
        kind,
        closest: ranked.into_iter().map(|(id, _)| id).collect(),
    }
}

/// The best kind by meaning, when it is close enough and clearly ahead of
/// the next kind and of answers that name none.
pub fn pick(ranked: &[(String, f32)], no_kind: f32, t: KindThresholds) -> Option<String> {
    let (id, best) = ranked.first()?;
    let next = ranked.get(1).map_or(f32::MIN, |(_, s)| *s).max(no_kind);
    (*best >= t.similarity && best - next >= t.lead).then(|| id.clone())
}

/// The kinds' embeddings for the clinic file in force, built on first need
/// once the model is loaded, and rebuilt when the file's kinds change.
#[derive(Clone)]
pub struct KindMeanings {
    embedder: crate::semantic::Embedder,
    built: Arc<std::sync::Mutex<Option<Arc<Meanings>>>>,
    /// Held while building: one build at a time, and the messages that
    /// arrive meanwhile wait for it instead of each starting its own (a
    /// burst after a start ran dozens of builds on the blocking pool at
    /// once, each a pass of the model over every kind's phrases).
    building: Arc<tokio::sync::Mutex<()>>,
}

impl KindMeanings {
    pub fn new(embedder: crate::semantic::Embedder) -> Self {
        KindMeanings {
            embedder,
            built: Arc::default(),
            building: Arc::default(),
        }
    }

    /// The meanings for `schedule`, building them off the runtime when they
    /// are missing or stale; `None` without the model.
    pub async fn get(&self, schedule: &Arc<crate::clinic::Clinic>) -> Option<Arc<Meanings>> {
        if let Some(m) = self.current(&schedule.schedule) {
            return Some(m);
        }
        let model = self.embedder.model()?;
        let _building = self.building.lock().await;
        // Built by another message while this one waited?
        if let Some(m) = self.current(&schedule.schedule) {
            return Some(m);
        }
        let this = self.clone();
        let clinic = schedule.clone();
        tokio::task::spawn_blocking(move || this.build(&clinic.schedule, &model))
            .await
            .ok()
            .flatten()
    }

    fn current(&self, schedule: &Schedule) -> Option<Arc<Meanings>> {
        let built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        built.as_ref().filter(|m| m.is_for(schedule)).cloned()
    }

    /// Blocking.
    fn build(&self, schedule: &Schedule, model: &Model) -> Option<Arc<Meanings>> {
        if let Some(m) = self.current(schedule) {
            return Some(m);
        }
        match Meanings::build(schedule, model) {
            Ok(m) => {
                let m = Arc::new(m);
                *self.built.lock().unwrap_or_else(|e| e.into_inner()) = Some(m.clone());
                Some(m)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot embed the appointment kinds");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        let clinic = crate::clinic::Clinic::parse(include_str!("../../knowledge/clinic.toml"))
            .expect("the bundled clinic file parses");
        clinic.schedule
    }

    /// Messages that need the kinds' meanings before they exist share one
    /// build: every caller gets the same one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_first_needs_builds_the_kinds_meanings_once() {
        let Some(model) = crate::semantic::tests::shared_model() else {
            return;
        };
        let kinds = KindMeanings::new(crate::semantic::Embedder::with_model(model));
        let clinic = Arc::new(
            crate::clinic::Clinic::parse(include_str!("../../knowledge/clinic.toml")).unwrap(),
        );
        let asks: Vec<_> = (0..6)
            .map(|_| {
                let (kinds, clinic) = (kinds.clone(), clinic.clone());
                tokio::spawn(async move { kinds.get(&clinic).await })
            })
            .collect();
        let mut built = Vec::new();
        for ask in asks {
            built.push(ask.await.unwrap().expect("built with the model"));
        }
        assert!(built.iter().all(|m| Arc::ptr_eq(m, &built[0])));
    }

    #[test]
    fn words_name_a_kind_through_its_examples() {
        let s = schedule();
        assert_eq!(
            by_words(&s, &Utterance::analyse("something for my cough")).as_deref(),
            Some("sick-visit")
        );
        assert_eq!(
            by_words(&s, &Utterance::analyse("a checkup for my son")).as_deref(),
            Some("annual-physical")
        );
        assert_eq!(
            by_words(&s, &Utterance::analyse("la vacuna de la gripe")).as_deref(),
            Some("flu-shot")
        );
        assert_eq!(
            by_words(&s, &Utterance::analyse("I'm a new patient")).as_deref(),
            Some("new-patient")
        );
    }

    #[test]
    fn generic_and_time_words_name_no_kind() {
        let s = schedule();
        for text in [
            "an appointment",
            "a visit please",
            "next tuesday morning",
            "a primera hora",
            "first available",
            "with dr lee",
            "",
        ] {
            assert_eq!(by_words(&s, &Utterance::analyse(text)), None, "{text}");
        }
    }

    #[test]
    fn meaning_picks_only_with_a_clear_lead() {
        let t = KindThresholds {
            similarity: 0.8,
            lead: 0.05,
        };
        let r = |a: f32, b: f32| vec![("x".to_owned(), a), ("y".to_owned(), b)];
        assert_eq!(pick(&r(0.9, 0.8), 0.0, t).as_deref(), Some("x"));
        assert_eq!(pick(&r(0.9, 0.88), 0.0, t), None);
        assert_eq!(pick(&r(0.79, 0.5), 0.0, t), None);
        assert_eq!(pick(&r(0.9, 0.8), 0.89, t), None);
        assert_eq!(pick(&[], 0.0, t), None);
    }
}
