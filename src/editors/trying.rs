//! `POST /api/knowledge/try` asks the engine a question as a patient would
//! (safety first, the language detected), of the saved knowledge or of a
//! draft; `POST /api/knowledge/check` checks a draft as it is typed and
//! renders its answer as the widget shows it. Neither changes what
//! patients get, and neither logs the question or the draft.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::fields::{Fields, line_problems, render};
use super::files;
use super::verdict::verdict;
use super::{EditorsState, Kind, blocking};
use crate::http::HttpError;
use crate::knowledge::{Article, ArticleId, Decision, Knowledge};
use crate::lang::Lang;
use crate::staff::sessions::StaffSession;
use crate::utterance::Utterance;

/// Longest question tried, in characters.
const MAX_QUESTION_CHARS: usize = 2_000;
/// How long a question waits for its meaning (an editor can wait longer
/// than a patient's turn does, and the verdict is then the model's too).
const MEANING_WAIT: Duration = Duration::from_secs(3);

#[derive(Deserialize)]
pub(super) struct TryRequest {
    question: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    draft: Option<Fields>,
}

/// The file a draft would be, and where: an existing article's file edited
/// in place (so problems are at the lines saving would give them), or a
/// new one where creating it would put it.
fn draft_file(knowledge: &Knowledge, fields: &Fields) -> (PathBuf, String) {
    let id = fields
        .id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| ArticleId::parse(s).ok());
    if let Some(served) = id.as_ref().and_then(|id| knowledge.article(id))
        && let Ok(Some(text)) = files::read(&served.path)
    {
        return (served.path.clone(), render(Some(&text), fields, None));
    }
    let id = id.unwrap_or_else(|| ArticleId::slug(&fields.title, "article"));
    let lang = fields.lang.as_deref().unwrap_or("en");
    let lang = lang.parse::<Lang>().unwrap_or(Lang::En);
    let served = knowledge.snapshot().articles();
    let path = files::new_path(knowledge.dir(), lang, &fields.tags, &id, &served);
    (path, render(None, fields, Some(id.as_str())))
}

pub(super) async fn check(
    State(state): State<EditorsState>,
    session: StaffSession,
    body: Result<Json<Fields>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    state
        .admit(&session, Kind::Read, "knowledge.check", "draft")
        .await?;
    let Json(fields) = body?;
    fields.bounded()?;
    let _permit = state.shared.drafts.acquire().await.ok();
    let knowledge = state.knowledge().clone();
    let out = blocking(move || {
        let (path, text) = draft_file(&knowledge, &fields);
        let checked = knowledge.check_draft(&path, &text);
        json!({
            "problems": line_problems(&text, &checked.problems),
            "html": crate::knowledge::render::to_html(fields.body.trim()),
            "file": text,
        })
    })
    .await?;
    Ok(Json(out))
}

pub(super) async fn try_question(
    State(state): State<EditorsState>,
    session: StaffSession,
    body: Result<Json<TryRequest>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    state
        .admit(&session, Kind::Read, "knowledge.try", "question")
        .await?;
    let Json(req) = body?;
    let question = req.question.trim().to_owned();
    if question.is_empty() {
        return Err(HttpError::BadRequest("question is empty".into()));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(HttpError::BadRequest(format!(
            "question is longer than {MAX_QUESTION_CHARS} characters"
        )));
    }
    let asked: Option<Lang> = req
        .lang
        .as_deref()
        .map(|l| {
            l.parse()
                .map_err(|e: crate::lang::UnknownLang| e.to_string())
        })
        .transpose()
        .map_err(HttpError::BadRequest)?;
    if let Some(d) = &req.draft {
        d.bounded()?;
    }
    let knowledge = state.knowledge().clone();
    // The draft as the article it would be; one that does not parse cannot
    // be tried (its problems say why).
    let draft = match req.draft {
        None => None,
        Some(fields) => {
            let k = knowledge.clone();
            let (text, checked) = blocking(move || {
                let (path, text) = draft_file(&k, &fields);
                let checked = k.check_draft(&path, &text);
                (text, checked)
            })
            .await?;
            match checked.article {
                Some(a) => Some(Arc::new(a)),
                None => {
                    return Err(HttpError::Invalid(
                        "the draft cannot be tried until its problems are fixed".into(),
                        line_problems(&text, &checked.problems),
                    ));
                }
            }
        }
    };
    let meaning = state.embedder.query(&question, MEANING_WAIT).await;
    let said = Utterance::analyse(&question).with_meaning(meaning);
    let lang = asked.unwrap_or_else(|| said.detected().or(Lang::En));
    let hit = state.engine.safety().check(&said);
    let decision = match (hit.as_ref().is_some_and(|h| h.kind.is_alarm()), &draft) {
        (true, _) => None,
        (false, None) => Some(knowledge.decide(&said, lang).await),
        (false, Some(draft)) => {
            let _permit = state.shared.drafts.acquire().await.ok();
            let (k, s, d) = (knowledge.clone(), said.clone(), (**draft).clone());
            Some(blocking(move || k.decide_draft(d, &s, lang)).await?)
        }
    };
    let (mut line, decision) = verdict(&question, lang, hit, || {
        decision.unwrap_or_else(Decision::escalate_empty)
    });
    line["knowledge"] = json!(if draft.is_some() { "draft" } else { "saved" });
    line["matched"] = match decision.and_then(|d| chosen(&knowledge, &d, draft.as_deref())) {
        Some(article) => {
            let phrasing = knowledge.matched_phrasing(&said, &article);
            // Which part of the article the question met: one of its
            // phrasings, else (sharing no word with any) its meaning or
            // the words of its answer.
            let by = match (&phrasing, said.meaning()) {
                (Some(_), _) => "phrasing",
                (None, Some(_)) => "meaning",
                (None, None) => "answer",
            };
            json!({"article": article.id, "phrasing": phrasing, "by": by})
        }
        None => Value::Null,
    };
    Ok(Json(line))
}

/// The article a decision answers with, or else its first candidate (the
/// draft's own version when it is the draft).
fn chosen(knowledge: &Knowledge, d: &Decision, draft: Option<&Article>) -> Option<Arc<Article>> {
    if let Some(a) = d.article() {
        return Some(a.clone());
    }
    let first = &d.candidates().first()?.id;
    match draft {
        Some(a) if a.id == *first => Some(Arc::new(a.clone())),
        _ => knowledge.article(first),
    }
}
