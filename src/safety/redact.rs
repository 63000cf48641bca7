//! Redaction of identifiers from anything that leaves the transcript store
//! as aggregate data (the unanswered-question list, analytics, exports):
//! phone numbers, e-mail addresses, dates (of birth), SSNs, record numbers,
//! street addresses. What cannot be recognised is not guessed at: callers
//! still never log text.

/// Replaces identifiers in `text` with placeholders like `[phone]`.
pub fn redact(text: &str) -> String {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        let bare = t.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '+');
        // A street address: a house number followed by a street word.
        if is_house_number(bare) && street_follows(&tokens[i + 1..]) {
            out.push("[address]".into());
            i += street_len(&tokens[i + 1..]) + 1;
            continue;
        }
        // Phone numbers written in parts: "(555) 010-1234", "555 010 1234".
        if let Some(n) = phone_run(&tokens[i..]) {
            out.push("[phone]".into());
            i += n;
            continue;
        }
        out.push(match classify(bare) {
            Some(label) => t.replace(bare, label),
            None => t.to_owned(),
        });
        i += 1;
    }
    out.join(" ")
}

fn digits(s: &str) -> usize {
    s.chars().filter(char::is_ascii_digit).count()
}

fn classify(t: &str) -> Option<&'static str> {
    if t.contains('@') && t.contains('.') {
        return Some("[email]");
    }
    let d = digits(t);
    let only = t
        .chars()
        .all(|c| c.is_ascii_digit() || "-/.()+".contains(c));
    if only && d == 9 && t.matches('-').count() == 2 && t.len() == 11 {
        return Some("[ssn]");
    }
    if only && (t.contains('/') || (t.matches('-').count() == 2 && d == 8)) && (6..=8).contains(&d)
    {
        return Some("[date]");
    }
    if only && (10..=15).contains(&d) {
        return Some("[phone]");
    }
    // Record numbers: long digit runs, or letters then digits ("MRN12345678").
    let letters = t.chars().take_while(char::is_ascii_alphabetic).count();
    if d >= 6
        && (only
            || (letters > 0
                && letters <= 4
                && t[letters..].chars().all(|c| c.is_ascii_digit() || c == '-')))
    {
        return Some("[number]");
    }
    None
}

fn phone_run(tokens: &[&str]) -> Option<usize> {
    let mut total = 0;
    for (n, t) in tokens.iter().take(4).enumerate() {
        let bare = t.trim_matches(|c: char| !c.is_ascii_digit());
        if bare.is_empty()
            || !t
                .chars()
                .all(|c| c.is_ascii_digit() || "-().+,".contains(c))
        {
            return None;
        }
        total += digits(t);
        if n >= 1 && (10..=15).contains(&total) {
            return Some(n + 1);
        }
    }
    None
}

fn is_house_number(t: &str) -> bool {
    (1..=6).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit())
}

const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "lane",
    "ln",
    "drive",
    "dr",
    "boulevard",
    "blvd",
    "way",
    "court",
    "ct",
    "place",
    "pl",
    "calle",
    "avenida",
    "camino",
];

fn street_len(rest: &[&str]) -> usize {
    rest.iter()
        .take(4)
        .position(|w| {
            STREET_WORDS.contains(
                &w.trim_matches(|c: char| !c.is_alphabetic())
                    .to_lowercase()
                    .as_str(),
            )
        })
        .map_or(0, |p| p + 1)
}

fn street_follows(rest: &[&str]) -> bool {
    street_len(rest) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_replaced_and_words_kept() {
        let r = redact(
            "Call me at (555) 010-1234 or ana.ruiz@example.org, DOB 03/14/1985, SSN 123-45-6789, MRN 00123456, I live at 42 Alder Street Apt 3",
        );
        for gone in [
            "555",
            "1234",
            "ana.ruiz",
            "03/14/1985",
            "123-45-6789",
            "00123456",
            "42 Alder",
        ] {
            assert!(!r.contains(gone), "{gone} survived in {r}");
        }
        for kept in [
            "Call me at",
            "[phone]",
            "[email]",
            "[date]",
            "[ssn]",
            "[number]",
            "[address]",
            "Apt",
        ] {
            assert!(r.contains(kept), "{kept} missing in {r}");
        }
        assert_eq!(
            redact("do you take medicaid for 2 kids?"),
            "do you take medicaid for 2 kids?"
        );
    }

    proptest::proptest! {
        #[test]
        fn redaction_never_panics(text in "\\PC{0,300}") {
            let _ = redact(&text);
        }

        #[test]
        fn ten_digit_numbers_never_survive(n in 1_000_000_000u64..9_999_999_999u64) {
            let r = redact(&format!("my number is {n} thanks"));
            proptest::prop_assert!(!r.contains(&n.to_string()));
        }
    }
}
