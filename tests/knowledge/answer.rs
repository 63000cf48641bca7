//! `frontdesk answer`: one JSON line per question, in order.

use serde_json::Value;

use crate::{fixture, frontdesk, stdout};

fn answer(args: &[&str], questions: &str) -> Vec<Value> {
    let dir = fixture();
    let mut all = vec!["answer", "--knowledge", dir.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let out = frontdesk(&all, questions);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn answers_each_question_on_its_own_line_in_order() {
    // Words alone: the decisions below are the word matcher's, whether or
    // not this machine has the model.
    let lines = answer(
        &["--no-semantic"],
        "where do i park\nwhat is the capital of France\nappointment\n\ncan I pay my bill in installments\n",
    );
    let asked: Vec<&str> = lines
        .iter()
        .map(|l| l["question"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        asked,
        [
            "where do i park",
            "what is the capital of France",
            "appointment",
            "",
            "can I pay my bill in installments"
        ]
    );
    let decisions: Vec<&str> = lines
        .iter()
        .map(|l| l["decision"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        decisions,
        ["answer", "escalate", "clarify", "escalate", "answer"]
    );
    assert_eq!(lines[0]["article"], "parking");
    assert_eq!(lines[1]["article"], Value::Null);
    assert_eq!(lines[4]["article"], "billing-payment-plans");
}

#[test]
fn every_line_has_the_fixed_fields() {
    for line in answer(&[], "where do i park\nappointment\nxyzzy\n") {
        let confidence = line["confidence"].as_f64().expect("confidence is a number");
        assert!((0.0..=1.0).contains(&confidence), "{line}");
        let candidates = line["candidates"].as_array().expect("candidates array");
        for c in candidates {
            assert!(c["id"].is_string() && c["score"].is_number(), "{line}");
        }
        if line["decision"] == "clarify" {
            assert!((2..=3).contains(&candidates.len()), "{line}");
        }
    }
}

#[test]
fn spanish_questions_get_spanish_articles() {
    let lines = answer(&["--lang", "es"], "¿Dónde me estaciono?\n");
    assert_eq!(lines[0]["article"], "parking-es");
}

#[test]
fn a_stricter_threshold_turns_answers_into_choices_or_escalations() {
    let lines = answer(&["--answer-threshold", "0.999"], "where do i park\n");
    assert_ne!(lines[0]["decision"], "answer");
}

#[test]
fn without_lang_each_question_is_answered_in_its_own_language() {
    let lines = answer(
        &["--no-semantic"],
        "¿A qué hora abren?\nWhen are you open?\n¿Dónde puedo estacionar?\n",
    );
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["lang"].as_str().unwrap_or_default(),
                l["article"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("es", "hours-es"), ("en", "hours"), ("es", "parking-es")]
    );
    // --lang still decides.
    let forced = answer(&["--no-semantic", "--lang", "en"], "¿A qué hora abren?\n");
    assert_eq!(forced[0]["lang"], "en");
}

/// The model in data/models (.ci/run fetches it), or `None` outside CI.
fn have_model() -> bool {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/models/e5-small-q4.bin");
    if file.exists() {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but the model is missing (`frontdesk model fetch`)"
    );
    eprintln!("skipped: no model in data/models (`frontdesk model fetch` gets it)");
    false
}

#[test]
fn meaning_answers_what_the_words_miss_in_either_language() {
    if !have_model() {
        return;
    }
    let questions =
        "how do i get my meds renewed\n¿dónde dejo el carro?\nwhat is the capital of France\n";
    let words = answer(&["--no-semantic"], questions);
    let meaning = answer(&[], questions);
    // Words alone hand the first two over; meaning answers the refill, and
    // answers parking or offers it among the choices (Spanish, no shared
    // word).
    assert_eq!(words[0]["decision"], "escalate", "{}", words[0]);
    assert_eq!(meaning[0]["decision"], "answer", "{}", meaning[0]);
    assert_eq!(meaning[0]["article"], "prescription-refills");
    assert_eq!(words[1]["decision"], "escalate", "{}", words[1]);
    let offered: Vec<&str> = meaning[1]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(
        meaning[1]["article"] == "parking-es" || offered.contains(&"parking-es"),
        "{}",
        meaning[1]
    );
    // A question no article answers is still not answered.
    assert_ne!(meaning[2]["decision"], "answer", "{}", meaning[2]);
}
