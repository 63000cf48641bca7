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
    let lines = answer(
        &[],
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
