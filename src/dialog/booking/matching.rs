//! The patient's words the booking flow matches: a provider's name, a yes,
//! "no preference".

use crate::clinic::Schedule;
use crate::normalize;
use crate::utterance::Utterance;

/// Short assent: "yes", "sure, book it", "sí, claro".
pub(super) fn is_yes(said: &Utterance) -> bool {
    let words = said.first_words(6);
    !words.is_empty()
        && words.iter().all(|w| {
            [
                "yes", "yeah", "yep", "sure", "ok", "okay", "please", "si", "claro", "book", "it",
                "reservar", "confirm",
            ]
            .contains(&w.as_str())
        })
}

/// "Whoever is free first", "no preference", "me da igual".
pub(super) fn no_preference(said: &Utterance) -> bool {
    let words: Vec<String> = said
        .first_words(12)
        .iter()
        .map(|w| w.replace(['\'', '\u{2019}'], ""))
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    [
        "any",
        "anyone",
        "anybody",
        "whoever",
        "cualquier",
        "cualquiera",
        "igual",
        "primero",
    ]
    .iter()
    .any(|w| has(w))
        || (has("no") && (has("preference") || has("preferencia") || has("importa")))
        || ((has("doesnt") || has("dont")) && (has("matter") || has("care")))
        || (has("first") && (has("available") || has("free") || has("open")))
}

/// A provider named in free text ("Dr. Lee", "Patel").
pub(super) fn match_provider(schedule: &Schedule, said: &Utterance) -> Option<String> {
    let words = said.words();
    schedule.providers.iter().find_map(|p| {
        let names: Vec<String> = normalize::words(&p.name)
            .filter(|w| w.len() > 2 && !["dr", "np", "md"].contains(&w.as_str()))
            .collect();
        names
            .iter()
            .any(|n| words.contains(n))
            .then(|| p.id.clone())
    })
}
