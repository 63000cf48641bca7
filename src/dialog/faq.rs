//! Answering from the knowledge base: answer when sure, offer choices when
//! torn, and admit a miss (twice means a person takes over).

use super::intents::SmallTalk;
use super::text::t;
use super::{CHOICE_HANDOFF, CHOICE_NONE, DialogState, Outcome, Reply, Turn};
use crate::knowledge::{Article, ArticleId, Decision, Knowledge};
use crate::lang::Lang;
use crate::transcript::Reason;
use crate::transcript::{Choice, Details, Sender};

/// Follow-up articles offered after an answer.
const MAX_RELATED: usize = 2;

pub async fn answer(
    knowledge: &Knowledge,
    state: &mut DialogState,
    turn: Turn<'_>,
    was_clarifying: bool,
) -> Outcome {
    let (lang, text) = (state.lang, turn.said.text());
    match knowledge.decide(turn.said, lang).await {
        Decision::Answer {
            article,
            confidence,
            ..
        } => {
            state.misses = 0;
            answer_with(knowledge, &article, Some(confidence), lang)
        }
        Decision::Clarify { candidates, .. } => {
            state.clarifying = true;
            state.clarified = Some(text.to_owned());
            let mut choices: Vec<Choice> = candidates
                .iter()
                .map(|c| Choice {
                    label: c.title.clone(),
                    value: format!("article:{}", c.id.as_str()),
                })
                .collect();
            choices.push(Choice {
                label: t(lang, "None of these", "Ninguna de estas").into(),
                value: CHOICE_NONE.into(),
            });
            Outcome::reply(Reply::bot_with(
                t(
                    lang,
                    "I want to be sure I get this right. Which of these is closest to your question?",
                    "Quiero asegurarme de entenderle bien. ¿Cuál de estas se parece más a su pregunta?",
                ),
                choices,
            ))
        }
        Decision::Escalate { .. } => {
            if was_clarifying {
                return missed(Outcome::escalate(Reason::LowConfidence), text);
            }
            state.misses += 1;
            if state.misses >= 2 {
                return missed(Outcome::escalate(Reason::RepeatedMisses), text);
            }
            missed(
                Outcome::reply(Reply::bot_with(
                    t(
                        lang,
                        "I'm sorry, I don't have a reliable answer to that. Could you put it another way? Or I can connect you with a person.",
                        "Lo siento, no tengo una respuesta confiable para eso. ¿Podría decirlo de otra manera? O puedo comunicarle con una persona.",
                    ),
                    vec![Choice {
                        label: t(lang, "Talk to a person", "Hablar con una persona").into(),
                        value: CHOICE_HANDOFF.into(),
                    }],
                )),
                text,
            )
        }
    }
}

/// Marks a turn as a question the bot could not answer.
fn missed(mut outcome: Outcome, text: &str) -> Outcome {
    outcome.unanswered = Some(text.to_owned());
    outcome
}

/// The patient pressed a button naming an article (`article:<id>`).
pub fn chosen_article(
    knowledge: &Knowledge,
    state: &mut DialogState,
    value: &str,
) -> Option<Outcome> {
    let id = ArticleId::parse(value.strip_prefix("article:")?).ok()?;
    let article = knowledge.article(&id)?;
    state.misses = 0;
    Some(answer_with(knowledge, &article, None, state.lang))
}

/// An article as the answer, said to be in another language when the
/// clinic has it only there (found by meaning across languages).
pub(super) fn answer_with(
    knowledge: &Knowledge,
    article: &Article,
    confidence: Option<f32>,
    lang: Lang,
) -> Outcome {
    let reply = article_reply(knowledge, article, confidence, lang);
    if article.lang == lang {
        return Outcome::reply(reply);
    }
    // Two languages: the article is in the one the patient does not write.
    let notice = t(
        lang,
        "This answer is only available in Spanish:",
        "Esta información solo está disponible en inglés:",
    );
    let mut outcome = Outcome::reply(Reply::bot(notice));
    outcome.replies.push(reply);
    outcome
}

fn article_reply(
    knowledge: &Knowledge,
    article: &Article,
    confidence: Option<f32>,
    lang: Lang,
) -> Reply {
    let choices = article
        .related
        .iter()
        .filter_map(|id| knowledge.article(id))
        .filter(|a| a.lang == lang || a.lang == article.lang)
        .take(MAX_RELATED)
        .map(|a| Choice {
            label: a.title.clone(),
            value: format!("article:{}", a.id.as_str()),
        })
        .collect();
    Reply {
        sender: Sender::Bot,
        text: article.text.clone(),
        details: Details {
            choices,
            html: Some(article.html.clone()),
            article: Some(article.id.as_str().to_owned()),
            confidence: confidence.map(|c| c.clamp(0.0, 1.0)),
        },
    }
}

pub fn small_talk_reply(lang: Lang, talk: SmallTalk) -> Reply {
    let text = match talk {
        SmallTalk::Hello => t(
            lang,
            "Hello! What can I help you with today?",
            "¡Hola! ¿En qué le puedo ayudar hoy?",
        ),
        SmallTalk::Thanks => t(
            lang,
            "You're welcome! Is there anything else I can help with?",
            "¡Con gusto! ¿Hay algo más en lo que le pueda ayudar?",
        ),
        SmallTalk::Bye => t(
            lang,
            "Take care! You can come back to this chat any time.",
            "¡Cuídese! Puede volver a este chat cuando quiera.",
        ),
        SmallTalk::AreYouABot => t(
            lang,
            "Yes, I'm an automated assistant. I answer common questions from the clinic's own information, and I can connect you with a person whenever you like.",
            "Sí, soy un asistente automático. Respondo preguntas frecuentes con la información de la clínica y puedo comunicarle con una persona cuando quiera.",
        ),
        SmallTalk::Yes => t(
            lang,
            "Great. What would you like to know?",
            "Muy bien. ¿Qué le gustaría saber?",
        ),
        SmallTalk::No => t(
            lang,
            "All right. If anything else comes up, just ask.",
            "De acuerdo. Si necesita algo más, solo pregunte.",
        ),
    };
    Reply::bot(text)
}
