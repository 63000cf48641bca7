//! The bundled rules against the emergency and benign sets in
//! tests/fixtures/safety (the same sets `frontdesk safety eval` measures).

use std::path::Path;

use super::*;

fn bundled() -> Rules {
    Rules::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"))
        .expect("bundled safety.toml loads")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/safety")
            .join(name),
    )
    .unwrap()
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

#[test]
fn every_emergency_in_the_set_is_caught_with_its_category() {
    let rules = bundled();
    let set = fixture("emergencies.tsv");
    for line in lines(&set) {
        let (category, message) = line.split_once('\t').expect("category<TAB>message");
        let hit = rules.check(&Utterance::analyse(message));
        assert_eq!(
            hit.as_ref().map(|h| h.category.as_str()),
            Some(category),
            "{message}"
        );
    }
}

#[test]
fn ordinary_clinic_questions_do_not_fire() {
    let rules = bundled();
    let set = fixture("benign.txt");
    for message in lines(&set) {
        assert_eq!(rules.check(&Utterance::analyse(message)), None, "{message}");
    }
}

#[test]
fn guidance_names_the_right_number() {
    let rules = bundled();
    assert!(rules.guidance(Kind::Medical, Lang::En).contains("911"));
    assert!(rules.guidance(Kind::Crisis, Lang::En).contains("988"));
    assert!(rules.guidance(Kind::Crisis, Lang::Es).contains("988"));
}

#[test]
fn broken_rules_are_reported_at_their_line() {
    let text = "[numbers]\nemergency = \"911\"\ncrisis = \"988\"\n[guidance]\nmedical_en = \"a\"\nmedical_es = \"a\"\ncrisis_en = \"a\"\ncrisis_es = \"a\"\n[[rule]]\ncategory = \"x\"\nkind = \"weird\"\n";
    let (line, _) = Rules::parse(text)
        .err()
        .expect("an unknown kind is refused");
    assert_eq!(line, 11);
}

proptest::proptest! {
    #[test]
    fn checking_never_panics(text in "\\PC{0,400}") {
        let _ = bundled().check(&Utterance::analyse(&text));
    }
}
