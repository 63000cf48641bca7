use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;

use super::super::loader::Loaded;
use super::*;

static FIXTURE: LazyLock<Kb> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge");
    let load = super::super::loader::load_dir(&dir, &HashMap::new()).expect("fixture loads");
    assert!(load.problems.is_empty(), "{:?}", load.problems);
    Kb::build(&load).expect("fixture builds")
});

fn decide(text: &str, lang: Lang) -> Decision {
    FIXTURE.decide(
        &Utterance::analyse(text),
        lang,
        &DecisionSettings::default(),
    )
}

fn answered(text: &str, lang: Lang) -> Option<String> {
    decide(text, lang).article().map(|a| a.id.to_string())
}

#[test]
fn the_fallback_across_languages_offers_only_articles_missing_in_the_patients_language() {
    let kb = &*FIXTURE;
    let id = |s: &str| ArticleId::parse(s).unwrap();
    // Parking is written in both languages, refills in English only.
    assert!(kb.has_version(&id("parking"), Lang::Es));
    assert!(kb.has_version(&id("parking-es"), Lang::En));
    assert!(!kb.has_version(&id("prescription-refills"), Lang::Es));
    assert!(!kb.has_version(&id("no-such-article"), Lang::Es));
    let said = Utterance::analyse("where do i park, and how do i refill my medicine");
    let english = kb.explain(&said, Lang::En, &Calibration::CROSS);
    assert!(english.iter().any(|s| s.id == id("parking")));
    let offered = kb.only_untranslated(english, Lang::Es);
    assert!(
        offered.iter().any(|s| s.id == id("prescription-refills")),
        "{offered:?}"
    );
    assert!(offered.iter().all(|s| !kb.has_version(&s.id, Lang::Es)));
    // Every Spanish article has an English version: an English question
    // has nothing to fall back on there.
    assert!(kb.versions.any_missing(Lang::En, Lang::Es));
    assert!(!kb.versions.any_missing(Lang::Es, Lang::En));
}

#[test]
fn a_repeated_question_gets_the_decision_it_got_before_and_memory_is_bounded() {
    let kb = Kb::build(
        &super::super::loader::load_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge"),
            &HashMap::new(),
        )
        .unwrap(),
    )
    .unwrap();
    let s = DecisionSettings::default();
    let said = Utterance::analyse("where do i park");
    assert!(kb.recall(&said, Lang::En).is_none());
    let first = kb.decide_remembered(&said, Lang::En, &s);
    let again = kb.recall(&said, Lang::En).expect("remembered");
    assert_eq!(
        (first.kind(), first.article().map(|a| a.id.to_string())),
        (again.kind(), again.article().map(|a| a.id.to_string()))
    );
    // Another language, or another spelling, is another question.
    assert!(kb.recall(&said, Lang::Es).is_none());
    assert!(
        kb.recall(&Utterance::analyse("Where do I park"), Lang::En)
            .is_none()
    );
    // Long questions are not kept, and the memory never passes its bound.
    let long = Utterance::analyse(&"parking ".repeat(60));
    kb.decide_remembered(&long, Lang::En, &s);
    assert!(kb.recall(&long, Lang::En).is_none());
    for i in 0..remembered::MAX_REMEMBERED + 10 {
        kb.decide_remembered(&Utterance::analyse(&format!("park {i}")), Lang::En, &s);
    }
    assert!(kb.remembered.len() <= remembered::MAX_REMEMBERED);
}

#[test]
fn an_article_found_in_another_language_is_given_in_the_patients() {
    let d = decide("where do i park", Lang::En);
    assert_eq!(
        d.article().map(|a| a.id.to_string()).as_deref(),
        Some("parking")
    );
    // Its Spanish version (translation_of = "parking") replaces it.
    let es = FIXTURE.in_language(d, Lang::Es);
    let article = es.article().expect("still an answer");
    assert_eq!(
        (article.id.as_str(), article.lang),
        ("parking-es", Lang::Es)
    );
    // Without a version in that language, the article stays as it is.
    let d = decide("can I pay my invoice in installments", Lang::En);
    let kept = FIXTURE.in_language(d, Lang::Es);
    assert_eq!(
        kept.article().map(|a| a.id.to_string()).as_deref(),
        Some("billing-payment-plans")
    );
}

#[test]
fn clear_questions_are_answered_with_their_article() {
    assert_eq!(
        answered("where do i park", Lang::En).as_deref(),
        Some("parking")
    );
    assert_eq!(
        answered("When are you OPEN?", Lang::En).as_deref(),
        Some("hours")
    );
    assert_eq!(
        answered("how do i get my results", Lang::En).as_deref(),
        Some("lab-results")
    );
}

#[test]
fn synonyms_and_typos_still_find_the_article() {
    assert_eq!(
        answered("can I pay my invoice in installments", Lang::En).as_deref(),
        Some("billing-payment-plans")
    );
    assert_eq!(
        answered("i need a flu jab", Lang::En).as_deref(),
        Some("flu-vaccine")
    );
    assert_eq!(
        answered("parkng garage", Lang::En).as_deref(),
        Some("parking")
    );
}

#[test]
fn unrelated_questions_escalate_without_choices() {
    for q in ["what is the capital of France", "", "🙂🙂🙂", "the of and"] {
        let d = decide(q, Lang::En);
        assert!(matches!(d, Decision::Escalate { .. }), "{q}: {d:?}");
        assert!(d.candidates().is_empty(), "{q}: {d:?}");
    }
}

#[test]
fn a_vague_question_gets_two_or_three_choices() {
    let d = decide("appointment", Lang::En);
    let Decision::Clarify { candidates, .. } = &d else {
        panic!("{d:?}")
    };
    assert!((2..=3).contains(&candidates.len()), "{d:?}");
    assert!(
        candidates
            .iter()
            .any(|c| c.id.as_str() == "appointment-cancel")
    );
}

#[test]
fn min_confidence_keeps_risky_articles_from_direct_answers() {
    let d = decide("chest pain", Lang::En);
    assert!(d.article().is_none(), "{d:?}");
    assert_eq!(d.candidates()[0].id.as_str(), "emergency");
}

#[test]
fn spanish_searches_spanish_first_then_english() {
    assert_eq!(
        answered("¿Dónde puedo estacionar?", Lang::Es).as_deref(),
        Some("parking-es")
    );
    assert_eq!(
        answered("vacuna", Lang::Es).as_deref(),
        Some("flu-vaccine-es")
    );
    assert_eq!(
        answered("medicare", Lang::Es).as_deref(),
        Some("billing-insurance")
    );
}

#[test]
fn confidence_is_a_probability_and_orders_candidates() {
    let d = decide("where do i park", Lang::En);
    assert!((0.0..=1.0).contains(&d.confidence()));
    let scores: Vec<f32> = d.candidates().iter().map(|c| c.score).collect();
    assert!(scores.iter().all(|s| *s <= d.confidence()), "{d:?}");
}

proptest! {
    #[test]
    fn decide_never_panics(s in "\\PC{0,300}", es in any::<bool>()) {
        let d = decide(&s, if es { Lang::Es } else { Lang::En });
        prop_assert!((0.0..=1.0).contains(&d.confidence()));
        prop_assert!(d.candidates().len() <= 3);
    }

    #[test]
    fn decide_never_panics_on_long_noise(s in proptest::collection::vec(any::<char>(), 1500..2500)) {
        let text: String = s.into_iter().collect();
        let _ = decide(&text, Lang::En);
    }
}

/// An article as an FAQ import makes it: a title and an answer, no
/// alternative questions.
fn imported(id: &str, title: &str, questions: &[&str], body: &str) -> Loaded {
    Loaded {
        article: Arc::new(Article {
            id: ArticleId::parse(id).unwrap(),
            title: title.into(),
            questions: questions.iter().map(|q| q.to_string()).collect(),
            tags: vec![],
            lang: Lang::En,
            related: vec![],
            translation_of: None,
            min_confidence: None,
            owner: None,
            review_by: None,
            body_markdown: body.into(),
            html: super::super::render::to_html(body),
            text: body.into(),
            path: format!("{id}.md").into(),
        }),
        phrasing_lines: vec![],
        body_line: 0,
        stale: false,
    }
}

#[test]
fn one_phrasing_added_to_a_knowledge_base_without_phrasings_finds_its_article() {
    // Hundreds of imported articles whose answers mention bicycles, and one
    // an editor gave a phrasing. The phrasing must win over the answers'
    // words, however few articles have phrasings.
    let mut articles: Vec<Loaded> = (0..400)
        .map(|n| {
            let body = match n % 40 {
                0 => "Gentle exercise helps: riding a bicycle, or a stationary bicycle. Leave a day of rest between bicycle rides.",
                _ => "It is treated with rest, fluids and follow-up visits.",
            };
            imported(
                &format!("topic-{n}"),
                &format!("What is condition {n} ?"),
                &[],
                body,
            )
        })
        .collect();
    articles.push(imported(
        "bike-racks",
        "Where is the clinic?",
        &["where do I leave my bicycle"],
        "On Alder Street, with racks by the door.",
    ));
    // The blanks standing in for missing phrasings can never be asked.
    assert_eq!(crate::normalize::words("\u{2400} \u{2400}").count(), 0);
    let load = LoadResult {
        articles,
        ..Default::default()
    };
    let kb = Kb::build(&load).unwrap();
    let d = kb.decide(
        &Utterance::analyse("where do I leave my bicycle"),
        Lang::En,
        &DecisionSettings::default(),
    );
    assert_eq!(
        d.article().map(|a| a.id.as_str()),
        Some("bike-racks"),
        "{d:?}"
    );
}
