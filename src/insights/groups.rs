//! Groups the unanswered questions by the words they share, so an editor
//! sees "parking validation ×3" rather than three separate lines.

use std::collections::HashMap;

use serde::Serialize;

use crate::knowledge::normalize;
use crate::lang::Lang;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    pub label: String,
    pub count: usize,
    pub examples: Vec<String>,
}

/// Most groups returned.
const MAX_GROUPS: usize = 50;

fn content_words(text: &str) -> Vec<String> {
    let mut w: Vec<String> = normalize::words(text)
        .filter(|w| {
            w.chars().count() > 2
                && !normalize::is_stop_word(Lang::En, w)
                && !normalize::is_stop_word(Lang::Es, w)
        })
        .collect();
    w.sort();
    w.dedup();
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
pub fn group(questions: &[String]) -> Vec<Group> {
    let mut groups: Vec<Forming> = Vec::new();
    for q in questions {
        let words = content_words(q);
        let found = groups
            .iter_mut()
            .find(|(key, _, _)| jaccard(key, &words) >= 0.5);
        match found {
            Some((_, members, counts)) => {
                members.push(q.clone());
                for w in words {
                    *counts.entry(w).or_default() += 1;
                }
            }
            None => {
                let counts = words.iter().map(|w| (w.clone(), 1)).collect();
                groups.push((words, vec![q.clone()], counts));
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
        let g = group(&qs);
        assert_eq!(g[0].count, 2, "{g:?}");
        assert!(g[0].label.contains("parking"));
        assert_eq!(g.iter().map(|g| g.count).sum::<usize>(), 4);
    }
}
