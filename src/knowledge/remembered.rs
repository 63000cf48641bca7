//! The decisions a knowledge snapshot made for questions asked before,
//! word for word: a repeated question costs a lookup, not a search and
//! thousands of comparisons by meaning. Part of one snapshot, so a reload
//! starts afresh.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::decide::Decision;
use crate::lang::Lang;
use crate::utterance::Utterance;

/// Decisions kept per snapshot; when full, they are all forgotten.
pub const MAX_REMEMBERED: usize = 4096;
/// Longer questions are decided afresh each time (they are rarely repeated).
const MAX_REMEMBERED_BYTES: usize = 300;

/// A question as it is filed: its language, whether its meaning was used,
/// and its exact text (its meaning depends on every character).
pub type Key = (Lang, bool, String);

#[derive(Default)]
pub struct Remembered {
    decisions: Mutex<HashMap<Key, Decision>>,
}

impl Remembered {
    /// The key for a question in `lang`, decided with meaning or not; none
    /// for a question too long to keep.
    pub fn key(said: &Utterance, lang: Lang, semantic: bool) -> Option<Key> {
        let text = said.text();
        (text.len() <= MAX_REMEMBERED_BYTES).then(|| (lang, semantic, text.to_owned()))
    }

    pub fn get(&self, key: &Key) -> Option<Decision> {
        self.lock().get(key).cloned()
    }

    /// Keeps a decision; past the bound, everything kept is forgotten first.
    pub fn insert(&self, key: Key, d: Decision) {
        let mut decisions = self.lock();
        if decisions.len() >= MAX_REMEMBERED {
            decisions.clear();
        }
        decisions.insert(key, d);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Decision>> {
        // Entries are inserted whole: a panic leaves none half-made.
        self.decisions.lock().unwrap_or_else(|e| e.into_inner())
    }
}
