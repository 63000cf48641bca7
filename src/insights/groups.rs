//! Groups the unanswered questions by the words they share, so an editor
//! sees "parking validation ×3" rather than three separate lines.
//!
//! Questions are redacted again, more strongly, before anything else
//! (names, dates in words, ages, health words: staff who are not clinicians
//! read this list in bulk), and grouped through an index from word to
//! group, so each question is compared only with groups it shares a word
//! with: thousands of distinct questions stay a fraction of a second.

use std::collections::HashMap;

use serde::Serialize;

use crate::knowledge::health_words::HealthWords;
use crate::lang::Lang;
use crate::normalize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    pub label: String,
    pub count: usize,
    pub examples: Vec<String>,
}

/// Most groups returned.
const MAX_GROUPS: usize = 50;

/// Groups remembered per word in the index.
const MAX_PER_WORD: usize = 64;
/// Content words looked at per question.
const MAX_WORDS: usize = 24;

fn content_words(text: &str) -> Vec<String> {
    // Placeholders ("[name]") are not what a question is about.
    let without: String = text
        .split_whitespace()
        .filter(|t| {
            !t.trim_matches(|c: char| !c.is_alphanumeric() && c != '[')
                .starts_with('[')
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut w: Vec<String> = normalize::words(&without)
        .take(MAX_WORDS * 2)
        .filter(|w| {
            w.chars().count() > 2
                && !normalize::is_stop_word(Lang::En, w)
                && !normalize::is_stop_word(Lang::Es, w)
        })
        .collect();
    w.sort();
    w.dedup();
    w.truncate(MAX_WORDS);
    w
}

fn jaccard(a: &[String], b: &[String]) -> f64 {
    let inter = a.iter().filter(|x| b.contains(x)).count();
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// A group while it forms: its key words, its questions, word counts.
type Forming = (Vec<String>, Vec<String>, HashMap<String, usize>);

/// Greedy grouping: a question joins the first group whose words it shares
/// at least half of (Jaccard ≥ 0.5); largest groups first.
pub fn group(questions: &[String], health_words: &HealthWords) -> Vec<Group> {
    let mut groups: Vec<Forming> = Vec::new();
    // Word → the groups whose key has it.
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for q in questions {
        let q = crate::safety::redact_personal::redact_personal(q, health_words);
        let words = content_words(&q);
        let mut candidates: Vec<usize> = words
            .iter()
            .filter_map(|w| index.get(w))
            .flatten()
            .copied()
            .collect();
        // The first group formed wins, as before.
        candidates.sort_unstable();
        candidates.dedup();
        let found = candidates
            .into_iter()
            .find(|g| jaccard(&groups[*g].0, &words) >= 0.5);
        match found {
            Some(g) => {
                let (_, members, counts) = &mut groups[g];
                members.push(q);
                for w in words {
                    *counts.entry(w).or_default() += 1;
                }
            }
            None => {
                for w in &words {
                    // A word in very many groups ("appointment") says little
                    // about which one a question belongs to; its list stops
                    // growing, so each question costs a bounded number of
                    // comparisons.
                    let list = index.entry(w.clone()).or_default();
                    if list.len() < MAX_PER_WORD {
                        list.push(groups.len());
                    }
                }
                let counts = words.iter().map(|w| (w.clone(), 1)).collect();
                groups.push((words, vec![q], counts));
            }
        }
    }
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|(_, members, counts)| {
            let mut words: Vec<(String, usize)> = counts.into_iter().collect();
            words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let label = words
                .iter()
                .take(3)
                .map(|(w, _)| w.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            Group {
                label,
                count: members.len(),
                examples: members.into_iter().take(3).collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    out.truncate(MAX_GROUPS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_questions_group_together() {
        let qs: Vec<String> = [
            "do you validate parking",
            "parking validation?",
            "can you validate my parking ticket",
            "is there wifi",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let g = group(&qs, &HealthWords::default());
        assert_eq!(g[0].count, 2, "{g:?}");
        assert!(g[0].label.contains("parking"));
        assert_eq!(g.iter().map(|g| g.count).sum::<usize>(), 4);
    }

    #[test]
    fn names_and_health_words_never_reach_labels_or_examples() {
        let qs: Vec<String> = [
            "my name is Rosa Delgado do you validate parking",
            "me llamo Rosa, parking validation?",
            "can I refill my metformin online",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let g = group(&qs, &HealthWords::default());
        let shown = format!("{g:?}");
        for gone in ["Rosa", "Delgado", "metformin", "name]"] {
            let in_labels = g.iter().any(|g| g.label.contains(gone));
            assert!(!in_labels, "{gone} in a label: {shown}");
        }
        assert!(
            !shown.contains("Rosa") && !shown.contains("metformin"),
            "{shown}"
        );
    }

    #[test]
    fn thousands_of_distinct_questions_are_grouped_by_index() {
        // Distinct words per question: the old all-pairs scan was quadratic.
        let qs: Vec<String> = (0..20_000)
            .map(|i| format!("question w{i} x{} y{}", i / 2, i / 3))
            .collect();
        let g = group(&qs, &HealthWords::default());
        assert!(!g.is_empty());
        assert!(g.len() <= MAX_GROUPS);
    }
}
