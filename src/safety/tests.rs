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

#[test]
fn urgent_care_guidance_is_built_in_for_files_written_before_it() {
    let bundled = bundled();
    assert!(bundled.guidance(Kind::Urgent, Lang::En).contains("911"));
    assert!(bundled.guidance(Kind::Urgent, Lang::Es).contains("911"));
    // A clinic's file without the urgent texts still loads, with ours.
    let old = r#"
[numbers]
emergency = "911"
crisis = "988"

[guidance]
medical_en = "m"
medical_es = "m"
crisis_en = "c"
crisis_es = "c"

[[rule]]
category = "x"
kind = "medical"
phrases = ["xyzzy now"]
"#;
    let rules = Rules::parse(old).expect("an older file parses");
    assert!(
        rules
            .guidance(Kind::Urgent, Lang::En)
            .contains("urgent care")
    );
    assert!(
        rules
            .guidance(Kind::Urgent, Lang::Es)
            .contains("atención urgente")
    );
}

fn judged(emergency: f32, crisis: f32, urgent: f32) -> learned::Judgement {
    let ordinary = 1.0 - emergency - crisis - urgent;
    learned::Judgement::new(
        classifier::Probabilities([emergency, crisis, urgent, ordinary]),
        ["chest_pain_cardiac", "suicide", "sprain"].map(String::from),
    )
}

#[test]
fn the_learned_signal_sets_aside_a_rule_only_when_the_message_is_ordinary() {
    let t = learned::Thresholds {
        emergency: 0.7,
        crisis: 0.7,
        urgent: 0.8,
        veto: 0.4,
    };
    let hit = || {
        Some(Hit {
            category: "stroke".into(),
            kind: Kind::Medical,
        })
    };
    // Without the model, the rules alone decide.
    assert_eq!(decide(hit(), None, &t), hit());
    // A rule's hit stands unless the message is more ordinary than the veto.
    assert_eq!(decide(hit(), Some(&judged(0.65, 0.0, 0.0)), &t), hit());
    // Clearly ordinary ("what are the signs of a stroke?"): set aside.
    assert_eq!(decide(hit(), Some(&judged(0.01, 0.0, 0.0)), &t), None);
    // Set aside in doubt ("my chest hurts"): urgent care's guidance.
    assert_eq!(
        decide(hit(), Some(&judged(0.3, 0.0, 0.0)), &t),
        Some(Hit {
            category: "stroke".into(),
            kind: Kind::Urgent,
        })
    );
}

#[test]
fn the_learned_signal_alone_names_the_likelier_tier_and_its_nearest_category() {
    let t = learned::Thresholds {
        emergency: 0.7,
        crisis: 0.7,
        urgent: 0.8,
        veto: 0.4,
    };
    let crisis = decide(None, Some(&judged(0.3, 0.5, 0.0)), &t).unwrap();
    assert_eq!(
        (crisis.kind, crisis.category.as_str()),
        (Kind::Crisis, "suicide")
    );
    let medical = decide(None, Some(&judged(0.75, 0.0, 0.0)), &t).unwrap();
    assert_eq!(medical.kind, Kind::Medical);
    let urgent = decide(None, Some(&judged(0.0, 0.0, 0.85)), &t).unwrap();
    assert_eq!(
        (urgent.kind, urgent.category.as_str()),
        (Kind::Urgent, "sprain")
    );
    // Below every threshold: nothing.
    assert_eq!(decide(None, Some(&judged(0.4, 0.2, 0.3)), &t), None);
}
