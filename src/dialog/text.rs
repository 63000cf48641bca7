//! Picking the patient's language for the bot's own words.

use crate::lang::Lang;

/// The English or Spanish version of a phrase.
pub fn t<'a>(lang: Lang, en: &'a str, es: &'a str) -> &'a str {
    match lang {
        Lang::En => en,
        Lang::Es => es,
    }
}
