//! The console's HTTP API (docs/protocol.md, "Console HTTP API").

use axum::extract::FromRef;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::ConsoleState;
use crate::chat::protocol::MessageView;
use crate::http::Gate;
use crate::http::HttpError;
use crate::ids::ConversationId;
use crate::knowledge::ArticleId;
use crate::lang::Lang;
use crate::staff::sessions::StaffSession;
use crate::store::{Callback, ConversationInfo, Note};

/// Most past chats listed at once.
const LIST_LIMIT: i64 = 100;
/// Most articles a canned-reply search returns.
const ARTICLE_LIMIT: usize = 10;

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Gate: FromRef<S>,
    ConsoleState: FromRef<S>,
{
    Router::new()
        .route("/api/agents", get(agents))
        .route("/api/callbacks", get(callbacks))
        .route("/api/callbacks/{id}/done", post(callback_done))
        .route("/api/conversations", get(conversations))
        .route("/api/conversations/{id}", get(conversation))
        .route("/api/articles", get(articles))
}

#[derive(Serialize)]
struct AgentView {
    name: String,
    role: &'static str,
    online: bool,
    status: crate::queue::AgentStatus,
}

async fn agents(
    State(state): State<ConsoleState>,
    session: StaffSession,
) -> Result<Json<Vec<AgentView>>, HttpError> {
    session.require_chat_role()?;
    let accounts = state.store.list_staff().await?;
    Ok(Json(
        accounts
            .into_iter()
            .filter(|a| !a.disabled && a.role.handles_chats())
            .map(|a| AgentView {
                online: state.hub.is_online(a.id),
                status: state.hub.status_of(a.id),
                name: a.name,
                role: a.role.as_str(),
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    all: bool,
}

/// A callback request, and whether its patient opted out of the channel
/// they asked to be reached by (then only a call will do).
#[derive(Serialize)]
struct CallbackView {
    #[serde(flatten)]
    callback: Callback,
    opted_out: bool,
}

async fn callbacks(
    State(state): State<ConsoleState>,
    session: StaffSession,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<Json<Vec<CallbackView>>, HttpError> {
    session.require_chat_role()?;
    let Query(q) = query?;
    // Callback requests hold patients' names and numbers: reading them is
    // audited like a transcript.
    let scope = if q.all { "all" } else { "open" };
    session
        .audit(&state.writer, "callbacks.list", scope, true)
        .await?;
    let list = state.store.callbacks(q.all).await?;
    let contacts: Vec<_> = list
        .iter()
        .map(|c| (c.channel, c.contact.as_str()))
        .collect();
    let opted_out = state.store.opted_out_of(&contacts).await?;
    Ok(Json(
        list.into_iter()
            .zip(opted_out)
            .map(|(callback, opted_out)| CallbackView {
                callback,
                opted_out,
            })
            .collect(),
    ))
}

async fn callback_done(
    State(state): State<ConsoleState>,
    session: StaffSession,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, HttpError> {
    session.require_chat_role()?;
    let Path(id) = id?;
    // The patient's "done" message is written with the change, and only
    // when it happened: a second mark is a 404 and sends nothing.
    state.writer.complete_callback(id, session.staff).await?;
    tracing::info!(
        callback = id,
        staff = session.staff.0,
        "callback marked done"
    );
    Ok(StatusCode::NO_CONTENT)
}

async fn conversations(
    State(state): State<ConsoleState>,
    session: StaffSession,
) -> Result<Json<Vec<ConversationInfo>>, HttpError> {
    if session.require_chat_role().is_err() {
        session
            .audit(&state.writer, "transcript.search", "-", false)
            .await?;
    }
    session.require_chat_role()?;
    let only = (!session.role.reads_all_transcripts()).then_some(session.staff);
    let scope = if only.is_some() {
        "handled-by-me"
    } else {
        "all"
    };
    session
        .audit(&state.writer, "transcript.search", scope, true)
        .await?;
    Ok(Json(
        state.store.list_conversations(only, LIST_LIMIT).await?,
    ))
}

#[derive(Serialize)]
struct Transcript {
    #[serde(flatten)]
    info: ConversationInfo,
    history: Vec<MessageView>,
    /// Older messages exist: ask again with `?before=` the first seq.
    more_history: bool,
    notes: Vec<Note>,
}

/// `?before=SEQ&limit=N`: a page of the transcript (the newest by default).
#[derive(Deserialize)]
struct TranscriptPage {
    before: Option<i64>,
    limit: Option<usize>,
}

/// Messages per transcript page, by default and at most.
const TRANSCRIPT_PAGE: usize = 500;
const MAX_TRANSCRIPT_PAGE: usize = 2_000;

async fn conversation(
    State(state): State<ConsoleState>,
    session: StaffSession,
    id: Result<Path<String>, PathRejection>,
    page: Result<Query<TranscriptPage>, QueryRejection>,
) -> Result<Json<Transcript>, HttpError> {
    let Path(id) = id?;
    let Query(page) = page?;
    let limit = page.limit.unwrap_or(TRANSCRIPT_PAGE);
    if !(1..=MAX_TRANSCRIPT_PAGE).contains(&limit) || page.before.is_some_and(|b| b < 1) {
        return Err(HttpError::BadRequest(format!(
            "limit is 1 to {MAX_TRANSCRIPT_PAGE}, before a positive seq"
        )));
    }
    let page = crate::transcript::Page {
        before: page.before,
        limit,
    };
    let id: ConversationId = id.parse().map_err(|_| HttpError::NotFound)?;
    if !super::may_read(&state, &session, &id).await? {
        tracing::info!(staff = session.staff.0, conversation = %id, "transcript access refused");
        session
            .audit(&state.writer, "transcript.view", id.as_str(), false)
            .await?;
        return Err(HttpError::Forbidden("you don't have access to this chat"));
    }
    session
        .audit(&state.writer, "transcript.view", id.as_str(), true)
        .await?;
    let info = state
        .store
        .conversation_info(&id)
        .await?
        .ok_or(HttpError::NotFound)?;
    let (history, more_history) =
        crate::chat::protocol::page_views(state.store.history(&id, page).await?);
    let notes = state.store.notes(&id).await?;
    tracing::info!(staff = session.staff.0, conversation = %id, "transcript viewed");
    Ok(Json(Transcript {
        info,
        history,
        more_history,
        notes,
    }))
}

#[derive(Deserialize)]
struct ArticleQuery {
    q: String,
    lang: Option<String>,
}

#[derive(Serialize)]
struct ArticleView {
    id: String,
    title: String,
    text: String,
    lang: Lang,
}

async fn articles(
    State(state): State<ConsoleState>,
    session: StaffSession,
    query: Result<Query<ArticleQuery>, QueryRejection>,
) -> Result<Json<Vec<ArticleView>>, HttpError> {
    session.require_chat_role()?;
    let Query(q) = query?;
    let lang = q
        .lang
        .as_deref()
        .and_then(|l| l.parse().ok())
        .unwrap_or_default();
    let knowledge = state.engine.knowledge().clone();
    let found = tokio::task::spawn_blocking(move || {
        let ids: Vec<ArticleId> = knowledge
            .explain_blocking(
                &crate::utterance::Utterance::analyse(&q.q),
                lang,
                &crate::knowledge::Calibration::LEXICAL,
            )
            .into_iter()
            .map(|s| s.id)
            .collect();
        ids.into_iter()
            .filter_map(|id| knowledge.article(&id))
            .take(ARTICLE_LIMIT)
            .map(|a| ArticleView {
                id: a.id.as_str().to_owned(),
                title: a.title.clone(),
                text: a.text.clone(),
                lang: a.lang,
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| HttpError::Internal(e.into()))?;
    Ok(Json(found))
}
