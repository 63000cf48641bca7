//! `frontdesk eval` on a clinic's own labelled questions: what counts as a
//! right answer.

use crate::{frontdesk, stdout};

/// A knowledge folder with opening hours and parking in English, and both
/// in Spanish, marked as translations or not.
fn knowledge(dir: &std::path::Path, translations: bool) {
    let article = |path: &str, id: &str, title: &str, lang: &str, of: &str, body: &str| {
        let of = if translations && !of.is_empty() {
            format!("translation_of = \"{of}\"\n")
        } else {
            String::new()
        };
        let text = format!(
            "+++\nid = \"{id}\"\ntitle = \"{title}\"\nlang = \"{lang}\"\n{of}+++\n{body}\n"
        );
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    article(
        "en/hours.md",
        "hours",
        "What are your opening hours?",
        "en",
        "",
        "Weekdays 8 to 5.",
    );
    article(
        "en/parking.md",
        "parking",
        "Where do I park?",
        "en",
        "",
        "In the garage on Alder Street.",
    );
    article(
        "es/horario.md",
        "horario",
        "¿Cuál es su horario de atención?",
        "es",
        "hours",
        "Entre semana de 8 a 5.",
    );
    article(
        "es/estacionamiento.md",
        "estacionamiento",
        "¿Dónde me estaciono?",
        "es",
        "parking",
        "En el estacionamiento de Alder Street.",
    );
}

/// `eval` over that folder, in-sample, from words alone (the same with or
/// without the model on this machine).
fn eval(translations: bool) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    knowledge(&dir.path().join("kb"), translations);
    let questions = dir.path().join("questions.tsv");
    std::fs::write(
        &questions,
        "lang\texpected\tquestion\n\
         en\thours\twhat are your opening hours\n\
         es\thours\t¿cuál es su horario de atención?\n",
    )
    .unwrap();
    let kb = dir.path().join("kb");
    let out = frontdesk(
        &[
            "eval",
            "--kb",
            kb.to_str().unwrap(),
            "--queries",
            questions.to_str().unwrap(),
            "--cv",
            "0",
            "--no-semantic",
            "--json",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout(&out)).expect("JSON")
}

#[test]
fn an_answer_from_a_translation_of_the_expected_article_counts_as_right() {
    // The Spanish question finds the Spanish article; the set expects the
    // English one it translates.
    let report = eval(true);
    assert_eq!(report["es"]["top1_accuracy"], 1.0, "{report}");
    assert_eq!(report["en"]["top1_accuracy"], 1.0, "{report}");
    // Without `translation_of` they are different answers.
    let report = eval(false);
    assert_eq!(report["es"]["top1_accuracy"], 0.0, "{report}");
    assert_eq!(report["en"]["top1_accuracy"], 1.0, "{report}");
}
