//! Stronger redaction for what staff who are not clinicians read in bulk
//! (the editors' list of unanswered questions): on top of
//! [`redact`](super::redact::redact), a name the patient introduces ("my
//! name is Ana Ruiz", "me llamo Ana"), dates written in words ("March 3rd
//! 1985", "3 de marzo"), ages ("45 years old", "tengo 45 años"), and words
//! that reveal a condition or a medication ("my HIV meds", "metformin"):
//! a built-in list, and the knowledge base's own `health-words.txt`.
//! What is replaced becomes a bracketed placeholder; the rest of the
//! question stays readable, so editors still see what was asked.

use crate::knowledge::health_words::HealthWords;
use crate::normalize::fold;

/// `text` with identifiers and personal health words (built-in, or in
/// `listed`) replaced.
pub fn redact_personal(text: &str, listed: &HealthWords) -> String {
    let basic = super::redact::redact(text);
    let tokens: Vec<&str> = basic.split_whitespace().collect();
    let bare: Vec<String> = tokens.iter().map(|t| fold(strip(t))).collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let Some(intro) = name_intro(&bare[i..], &tokens[i..]) {
            out.extend(tokens[i..i + intro].iter().map(|t| t.to_string()));
            i += intro;
            let name = name_len(&bare[i..], &tokens[i..]);
            if name > 0 {
                out.push(with_trailing("[name]", tokens[i + name - 1]));
                i += name;
            }
            continue;
        }
        if let Some(n) = date_in_words(&bare[i..]) {
            out.push(with_trailing("[date]", tokens[i + n - 1]));
            i += n;
            continue;
        }
        if let Some(n) = age(&bare[i..]) {
            out.push(with_trailing("[age]", tokens[i + n - 1]));
            i += n;
            continue;
        }
        if is_health_word(&bare[i]) || listed.contains(&bare[i]) {
            out.push(with_trailing("[health]", tokens[i]));
            i += 1;
            continue;
        }
        out.push(tokens[i].to_owned());
        i += 1;
    }
    out.join(" ")
}

/// A token without the punctuation around it.
fn strip(t: &str) -> &str {
    t.trim_matches(|c: char| !c.is_alphanumeric())
}

/// The placeholder, keeping the sentence punctuation the last replaced
/// token ended with ("Ana." → "[name].").
fn with_trailing(placeholder: &str, last: &str) -> String {
    let tail: String = last
        .chars()
        .rev()
        .take_while(|c| ".,;:!?".contains(*c))
        .collect();
    format!("{placeholder}{}", tail.chars().rev().collect::<String>())
}

/// Words that introduce a name, and whether the name must be capitalised
/// to count ("I'm Ana" is a name, "I'm sick" is not).
const INTROS: &[(&[&str], bool)] = &[
    (&["my", "name", "is"], false),
    (&["my", "names"], false),
    (&["name", "is"], false),
    (&["this", "is"], true),
    (&["i", "am"], true),
    (&["im"], true),
    (&["i'm"], true),
    (&["me", "llamo"], false),
    (&["mi", "nombre", "es"], false),
    (&["soy"], true),
    (&["patient", "name"], false),
    (&["patient", "is"], true),
];

/// How many tokens of a name introduction start here.
fn name_intro(bare: &[String], tokens: &[&str]) -> Option<usize> {
    INTROS.iter().find_map(|(words, capitalised)| {
        let n = words.len();
        let matches = bare.len() > n && bare[..n].iter().zip(*words).all(|(b, w)| b == w);
        // The intro's last word must not end the clause ("this is." no).
        let open = matches && !tokens[n - 1].ends_with(['.', ',', '!', '?', ';']);
        let named = open
            && (!capitalised
                || tokens[n]
                    .trim_start_matches(|c: char| !c.is_alphanumeric())
                    .starts_with(char::is_uppercase));
        named.then_some(n)
    })
}

/// Words that end a name: what follows it in a sentence.
const AFTER_NAME: &[&str] = &[
    "and", "y", "i", "my", "mi", "need", "want", "have", "was", "is", "necesito", "quiero",
    "tengo", "born", "dob", "from", "with", "con", "can", "could", "please", "por", "favor", "the",
    "a", "an", "el", "la", "un", "una",
];

/// How many tokens of a name follow an introduction (at most four).
fn name_len(bare: &[String], tokens: &[&str]) -> usize {
    let mut n = 0;
    while n < bare.len().min(4) {
        let word = &bare[n];
        let particle = ["de", "del", "van", "von", "da", "di"].contains(&word.as_str());
        // A capitalised word is part of the name even if it is also an
        // ordinary word ("Will", "Faith").
        let capitalised = tokens[n]
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .starts_with(char::is_uppercase);
        if word.is_empty()
            || !word
                .chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
            || (AFTER_NAME.contains(&word.as_str()) && !capitalised && !(particle && n > 0))
        {
            break;
        }
        n += 1;
        if tokens[n - 1].ends_with(['.', ',', '!', '?', ';']) {
            break;
        }
    }
    n
}

/// Short month names patients type ("Mar 3"), besides the full ones.
const MONTH_ABBREVIATIONS: &[&str] = &[
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "setiembre",
];

fn is_month(w: &str) -> bool {
    use crate::lang::{MONTHS_EN, MONTHS_ES};
    MONTHS_EN.contains(&w) || MONTHS_ES.contains(&w) || MONTH_ABBREVIATIONS.contains(&w)
}

/// A day of the month ("3", "3rd", "14th") or a year ("1985").
fn day_or_year(w: &str) -> bool {
    let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
    let rest = &w[digits.len()..];
    match digits.len() {
        1 | 2 => {
            let d: u32 = digits.parse().unwrap_or(0);
            (1..=31).contains(&d) && ["", "st", "nd", "rd", "th", "o"].contains(&rest)
        }
        4 => rest.is_empty(),
        _ => false,
    }
}

/// A date written with a month's name, next to a day or a year: "march 3rd
/// 1985", "3 de marzo de 1985", "the 14th of march". Returns its length.
fn date_in_words(bare: &[String]) -> Option<usize> {
    let connector = |w: &str| ["of", "de", "the", "del"].contains(&w);
    // Where the month is: here, or after a day and connectors.
    let mut at = 0;
    while at < bare.len().min(4) && (day_or_year(&bare[at]) || connector(&bare[at])) {
        at += 1;
    }
    let month = bare.get(at)?;
    if !is_month(month) {
        return None;
    }
    let before = bare[..at].iter().any(|w| day_or_year(w));
    let mut end = at + 1;
    while end < bare.len() && end < at + 5 && (day_or_year(&bare[end]) || connector(&bare[end])) {
        end += 1;
    }
    // Connectors at the end are not part of the date.
    while end > at + 1 && connector(&bare[end - 1]) {
        end -= 1;
    }
    let after = bare[at + 1..end].iter().any(|w| day_or_year(w));
    if !(before || after) {
        return None;
    }
    Some(end)
}

/// An age: "45 years old", "45yo", "age 45", "tengo 45 años", "6 months".
fn age(bare: &[String]) -> Option<usize> {
    let number = |w: &str| !w.is_empty() && w.len() <= 3 && w.chars().all(|c| c.is_ascii_digit());
    let unit = |w: &str| {
        [
            "years", "year", "yrs", "yr", "yo", "anos", "ano", "months", "month", "meses", "mes",
            "weeks", "semanas",
        ]
        .contains(&w)
    };
    let first = bare.first()?;
    let glued = first
        .strip_suffix("yo")
        .or_else(|| first.strip_suffix("yrs"))
        .is_some_and(number);
    if glued {
        return Some(1);
    }
    if ["age", "aged", "edad"].contains(&first.as_str()) && bare.get(1).is_some_and(|w| number(w)) {
        return Some(2);
    }
    if number(first) && bare.get(1).is_some_and(|w| unit(w)) {
        let word = |i: usize, w: &str| bare.get(i).is_some_and(|x| x == w);
        return Some(if word(2, "old") {
            3
        } else if word(2, "de") && word(3, "edad") {
            4
        } else {
            2
        });
    }
    None
}

/// Conditions whose mention says something private about the patient.
const CONDITIONS: &[&str] = &[
    "hiv",
    "aids",
    "std",
    "stds",
    "sti",
    "stis",
    "herpes",
    "chlamydia",
    "gonorrhea",
    "syphilis",
    "hepatitis",
    "cancer",
    "chemo",
    "chemotherapy",
    "diabetes",
    "diabetic",
    "depression",
    "depressed",
    "anxiety",
    "bipolar",
    "schizophrenia",
    "adhd",
    "autism",
    "autistic",
    "pregnant",
    "pregnancy",
    "miscarriage",
    "abortion",
    "dementia",
    "alzheimers",
    "alzheimer",
    "epilepsy",
    "seizures",
    "addiction",
    "addicted",
    "alcoholism",
    "rehab",
    "overdose",
    "suicidal",
    "ptsd",
    "vih",
    "sida",
    "embarazada",
    "embarazo",
    "aborto",
    "depresion",
    "ansiedad",
    "esquizofrenia",
    "epilepsia",
    "adiccion",
    "diabetico",
    "diabetica",
    "cancer",
];

/// Medicines patients name by brand or generic name.
const MEDICINES: &[&str] = &[
    "insulin",
    "insulina",
    "ozempic",
    "wegovy",
    "mounjaro",
    "adderall",
    "xanax",
    "valium",
    "ativan",
    "klonopin",
    "ambien",
    "tylenol",
    "advil",
    "motrin",
    "aleve",
    "prednisone",
    "warfarin",
    "coumadin",
    "eliquis",
    "xarelto",
    "gabapentin",
    "sertraline",
    "zoloft",
    "prozac",
    "lexapro",
    "wellbutrin",
    "suboxone",
    "methadone",
    "morphine",
    "fentanyl",
    "tramadol",
    "percocet",
    "vicodin",
    "ritalin",
    "synthroid",
    "levothyroxine",
    "lithium",
    "truvada",
    "prep",
    "viagra",
    "cialis",
    "accutane",
];

/// Endings of generic drug names ("lisinopril", "atorvastatin").
const DRUG_ENDINGS: &[&str] = &[
    "pril", "olol", "statin", "sartan", "prazole", "cillin", "mycin", "floxacin", "azepam",
    "zolam", "oxetine", "triptan", "gliptin", "glutide", "formin", "dipine", "tidine", "umab",
    "imab", "cycline", "profen", "codone", "azole", "vudine", "tegravir",
];

fn is_health_word(w: &str) -> bool {
    CONDITIONS.contains(&w)
        || MEDICINES.contains(&w)
        || (w.chars().count() > 6 && DRUG_ENDINGS.iter().any(|e| w.ends_with(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_dates_ages_and_health_words_are_replaced_and_the_question_kept() {
        let cases = [
            (
                "Hi my name is Ana Ruiz and I need my records",
                "Hi my name is [name] and I need my records",
            ),
            (
                "me llamo Ana, necesito una cita",
                "me llamo [name], necesito una cita",
            ),
            ("I'm sick can I come in", "I'm sick can I come in"),
            ("I'm Jorge Perez.", "I'm [name]."),
            (
                "born on March 3rd 1985 can you check",
                "born on [date] can you check",
            ),
            ("nací el 3 de marzo de 1985", "nací el [date]"),
            ("my son is 4 years old", "my son is [age]"),
            ("tengo 45 años y dolor", "tengo [age] y dolor"),
            (
                "refill my lisinopril and insulin",
                "refill my [health] and [health]",
            ),
            ("do you test for HIV?", "do you test for [health]?"),
            ("may I park here", "may I park here"),
            ("do you validate parking", "do you validate parking"),
        ];
        for (text, want) in cases {
            assert_eq!(
                redact_personal(text, &HealthWords::default()),
                want,
                "{text}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,300}") {
            let _ = redact_personal(&text, &HealthWords::default());
        }

        #[test]
        fn introduced_names_never_survive(
            first in "[A-Z][a-z]{2,9}",
            last in "[A-Z][a-z]{2,11}",
            intro in proptest::sample::select(vec!["my name is", "me llamo", "mi nombre es", "I'm", "this is"]),
            then in proptest::sample::select(vec!["and I need a refill", "y necesito una cita", ", can I book", ""]),
        ) {
            let r = redact_personal(&format!("hello {intro} {first} {last} {then}"), &HealthWords::default());
            proptest::prop_assert!(!r.contains(&first), "{}", r);
            proptest::prop_assert!(!r.contains(&last), "{}", r);
        }

        #[test]
        fn dates_in_words_and_ages_never_survive(
            day in 1u32..=28,
            month in proptest::sample::select(crate::lang::MONTHS_EN.to_vec()),
            year in 1930u32..2025,
            years in 1u32..110,
        ) {
            let r = redact_personal(&format!("born {month} {day} {year}, I am {years} years old"), &HealthWords::default());
            proptest::prop_assert!(!r.contains(&year.to_string()), "{}", r);
            proptest::prop_assert!(!r.to_lowercase().contains(month), "{}", r);
            proptest::prop_assert!(!r.contains(&format!(" {years} ")), "{}", r);
        }

        #[test]
        fn the_knowledge_bases_health_words_never_survive(
            word in "[a-z]{4,12}",
            case in proptest::sample::select(vec!["lower", "Title", "UPPER"]),
            around in proptest::sample::select(vec![("my ", " is worse"), ("¿el ", " es grave?"), ("", ".")]),
        ) {
            let (listed, _) = HealthWords::parse(&word);
            let shown = match case {
                "Title" => word[..1].to_uppercase() + &word[1..],
                "UPPER" => word.to_uppercase(),
                _ => word.clone(),
            };
            let r = redact_personal(&format!("{}{shown}{}", around.0, around.1), &listed);
            let left = r.split_whitespace().any(|t| fold(strip(t)) == word);
            proptest::prop_assert!(!left, "{}", r);
        }
    }
}
