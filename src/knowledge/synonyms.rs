//! `synonyms.txt`: groups of interchangeable single words, so a patient's
//! "shot" finds the article that says "vaccine".

use std::collections::HashMap;

use crate::normalize;

/// One problem in the synonyms file, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymsProblem {
    pub line: usize,
    pub message: String,
}

/// Parsed groups of folded words; the first word of a group is its canonical form.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
}

/// Most groups a file may define; the rest are ignored (and reported).
const MAX_GROUPS: usize = 10_000;

impl Synonyms {
    /// Parses the file. Bad lines are reported and skipped; the good ones are kept.
    pub fn parse(text: &str) -> (Synonyms, Vec<SynonymsProblem>) {
        let mut groups = Vec::new();
        let mut problems = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if groups.len() >= MAX_GROUPS {
                problems.push(SynonymsProblem {
                    line,
                    message: format!("more than {MAX_GROUPS} synonym groups; the rest are ignored"),
                });
                break;
            }
            let mut group = Vec::new();
            let mut bad = None;
            for item in trimmed.split(',') {
                let words: Vec<String> = normalize::words(item).collect();
                match words.as_slice() {
                    [w] => group.push(w.clone()),
                    [] => bad = Some("empty entry in synonym group".to_owned()),
                    _ => bad = Some(format!("synonym {:?} is not a single word", item.trim())),
                }
            }
            group.dedup();
            if bad.is_none() && group.len() < 2 {
                bad = Some("a synonym group needs at least two comma-separated words".to_owned());
            }
            if bad.is_none()
                && let Some((w, first)) = group.iter().find_map(|w| seen.get(w).map(|l| (w, *l)))
            {
                bad = Some(format!(
                    "word {w:?} is already in the group on line {first}"
                ));
            }
            match bad {
                Some(message) => problems.push(SynonymsProblem { line, message }),
                None => {
                    for w in &group {
                        seen.insert(w.clone(), line);
                    }
                    groups.push(group);
                }
            }
        }
        (Synonyms { groups }, problems)
    }

    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_and_reports_bad_lines_by_number() {
        let text = "# comment\nshot, Vaccine, immunization\n\nbill,invoice\nlonely\nfront desk, reception\nshot, jab\n";
        let (syn, problems) = Synonyms::parse(text);
        assert_eq!(
            syn.groups(),
            [
                vec!["shot", "vaccine", "immunization"],
                vec!["bill", "invoice"]
            ]
        );
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [5, 6, 7]);
        assert!(problems[1].message.contains("not a single word"));
        assert!(problems[2].message.contains("line 2"));
    }
}
