//! One question's verdict as a JSON object: the line `frontdesk answer`
//! prints, and what the workspace's `try` answers. Safety first, as in the
//! chat: a question that may mean danger is an emergency whatever the
//! articles say; urgent care's guidance is noted and the question answered.

use serde_json::{Value, json};

use crate::knowledge::Decision;
use crate::lang::Lang;
use crate::safety::Hit;

fn round(x: f32) -> f64 {
    (f64::from(x) * 10_000.0).round() / 10_000.0
}

/// The fixed JSON fields of one decision.
pub fn decision_json(question: &str, d: &Decision) -> Value {
    let candidates: Vec<_> = d
        .candidates()
        .iter()
        .map(|c| json!({"id": c.id, "score": round(c.score), "title": c.title}))
        .collect();
    json!({
        "question": question,
        "decision": d.kind(),
        "article": d.article().map(|a| a.id.clone()),
        "confidence": round(d.confidence()),
        "candidates": candidates,
    })
}

/// The verdict on `question` in `lang`, given what the safety rules found;
/// `decide` is only asked when nothing alarming was.
pub fn verdict(
    question: &str,
    lang: Lang,
    hit: Option<Hit>,
    decide: impl FnOnce() -> Decision,
) -> (Value, Option<Decision>) {
    let (mut line, decision) = match hit.clone().filter(|h| h.kind.is_alarm()) {
        Some(hit) => (
            json!({
                "question": question,
                "decision": "emergency",
                "category": hit.category,
                "kind": hit.kind,
                "article": null,
                "confidence": 1.0,
                "candidates": [],
            }),
            None,
        ),
        None => {
            let d = decide();
            (decision_json(question, &d), Some(d))
        }
    };
    if let Some(hit) = hit.filter(|h| !h.kind.is_alarm()) {
        line["urgent_care"] = json!({"category": hit.category, "kind": hit.kind});
    }
    line["lang"] = json!(lang);
    (line, decision)
}
