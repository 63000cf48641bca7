//! Each article's versions across languages: an article and its
//! translations (`translation_of`) are one answer in several languages.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::article::{Article, ArticleId};
use crate::lang::Lang;

/// Which article answers the same in each language.
#[derive(Default)]
pub struct Versions {
    /// Each article's original: the article it translates, or itself.
    original: HashMap<ArticleId, ArticleId>,
    /// (an original, a language) → its version in that language.
    by_lang: HashMap<(ArticleId, Lang), ArticleId>,
    /// (an article's language, a language it has no version in), for each
    /// pair where at least one article is missing.
    missing: HashSet<(Lang, Lang)>,
}

impl Versions {
    pub fn build<'a>(articles: impl Iterator<Item = &'a Arc<Article>> + Clone) -> Versions {
        let mut v = Versions::default();
        for a in articles.clone() {
            let original = a.translation_of.clone().unwrap_or_else(|| a.id.clone());
            v.by_lang
                .entry((original.clone(), a.lang))
                .or_insert_with(|| a.id.clone());
            v.original.insert(a.id.clone(), original);
        }
        for a in articles {
            for to in Lang::ALL {
                if v.of(&a.id, to).is_none() {
                    v.missing.insert((a.lang, to));
                }
            }
        }
        v
    }

    /// The id of the article's version in `lang` (itself, when it is in
    /// `lang`), if there is one.
    pub fn of(&self, id: &ArticleId, lang: Lang) -> Option<&ArticleId> {
        let original = self.original.get(id)?;
        self.by_lang.get(&(original.clone(), lang))
    }

    /// Every version of the article, in every language, itself included.
    pub fn all(&self, id: &ArticleId) -> impl Iterator<Item = &ArticleId> {
        Lang::ALL.into_iter().filter_map(move |l| self.of(id, l))
    }

    /// Whether some article in `from` has no version in `to`: only then
    /// can a fallback from `to` to `from` offer anything new.
    pub fn any_missing(&self, from: Lang, to: Lang) -> bool {
        self.missing.contains(&(from, to))
    }
}
