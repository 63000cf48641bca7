//! `/api/knowledge/articles`: the list, one article with its version tag,
//! and the writes (save with `If-Match`, create, retire). Every write is
//! checked as `knowledge check` would check the file, audited with the
//! file's hash before and after, written atomically, and then picked up by
//! the live reload before the answer returns (`live`).

use std::path::Path;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::fields::{Fields, line_problems, render};
use super::files::{self, etag, if_match};
use super::{EditorsState, Kind, article_id, blocking};
use crate::http::HttpError;
use crate::http::error::LineProblem;
use crate::knowledge::parse::{key_line, parse_article};
use crate::knowledge::{Article, ArticleId, Knowledge};
use crate::lang::Lang;
use crate::staff::sessions::StaffSession;

/// How long a write waits for the reload that serves it.
const RELOAD_WAIT: Duration = Duration::from_secs(10);

/// One row of the list.
#[derive(Serialize)]
pub(super) struct Summary {
    id: ArticleId,
    title: String,
    lang: Lang,
    tags: Vec<String>,
    path: String,
    modified: Option<String>,
    translation_of: Option<ArticleId>,
    /// The same answer in the other languages, by language.
    versions: std::collections::BTreeMap<&'static str, ArticleId>,
    /// How many alternative phrasings it has.
    questions: usize,
}

/// A path inside the knowledge folder, as the workspace shows it.
fn relative(knowledge: &Knowledge, path: &Path) -> String {
    let rel = path.strip_prefix(knowledge.dir()).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

pub(super) async fn list(
    State(state): State<EditorsState>,
    session: StaffSession,
) -> Result<Json<Vec<Summary>>, HttpError> {
    state
        .admit(&session, Kind::Read, "knowledge.list", "articles")
        .await?;
    let knowledge = state.knowledge().clone();
    let rows = blocking(move || {
        let kb = knowledge.snapshot();
        kb.articles()
            .iter()
            .map(|a| Summary {
                id: a.id.clone(),
                title: a.title.clone(),
                lang: a.lang,
                tags: a.tags.clone(),
                path: relative(&knowledge, &a.path),
                modified: files::modified(&a.path),
                translation_of: a.translation_of.clone(),
                versions: kb
                    .versions_of(&a.id)
                    .into_iter()
                    .filter_map(|v| kb.article(&v))
                    .filter(|v| v.lang != a.lang)
                    .map(|v| (v.lang.as_str(), v.id.clone()))
                    .collect(),
                questions: a.questions.len(),
            })
            .collect()
    })
    .await?;
    Ok(Json(rows))
}

fn rounded(c: Option<f32>) -> Option<f64> {
    c.map(|c| (f64::from(c) * 1000.0).round() / 1000.0)
}

/// The article's fields as the workspace edits them.
fn fields_json(a: &Article) -> Value {
    json!({
        "id": a.id,
        "title": a.title,
        "questions": a.questions,
        "tags": a.tags,
        "lang": a.lang,
        "related": a.related,
        "translation_of": a.translation_of,
        "min_confidence": rounded(a.min_confidence),
        "owner": a.owner,
        "review_by": a.review_by.map(|d| d.to_string()),
        "body": a.body_markdown,
        "html": a.html,
    })
}

fn with_etag(status: StatusCode, tag: &str, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{tag}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

pub(super) async fn read(
    State(state): State<EditorsState>,
    session: StaffSession,
    raw: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, HttpError> {
    state
        .admit(&session, Kind::Read, "knowledge.read", "article")
        .await?;
    let UrlPath(raw) = raw?;
    let id = article_id(&raw)?;
    let knowledge = state.knowledge().clone();
    let served = knowledge.article(&id).ok_or(HttpError::NotFound)?;
    let path = served.path.clone();
    let (text, modified) = blocking(move || (files::read(&path), files::modified(&path))).await?;
    let text = text
        .map_err(|e| HttpError::Internal(e.into()))?
        .ok_or(HttpError::NotFound)?;
    // The file as it is now; when it is broken, the version patients get
    // (its last good one) with the problem, so saving mends it.
    let (mut body, problems) = match parse_article(&served.path, &text) {
        Ok(p) => (fields_json(&p.article), p.warnings),
        Err(problem) => (fields_json(&served), vec![problem]),
    };
    let tag = etag(text.as_bytes());
    body["path"] = json!(relative(&knowledge, &served.path));
    body["modified"] = json!(modified);
    body["etag"] = json!(tag);
    body["problems"] = json!(line_problems(&text, &problems));
    Ok(with_etag(StatusCode::OK, &tag, body))
}

/// Refuses a draft whose file would have problems.
async fn checked(
    knowledge: &Knowledge,
    path: &Path,
    text: &str,
) -> Result<Option<Article>, HttpError> {
    if text.len() as u64 > crate::knowledge::loader::MAX_FILE_BYTES {
        return Err(HttpError::Invalid(
            "the article is too long to be saved".into(),
            vec![LineProblem::new(
                1,
                "an article file may be at most 1 MiB",
                Some("body"),
            )],
        ));
    }
    let (k, p, t) = (knowledge.clone(), path.to_owned(), text.to_owned());
    let checked = blocking(move || k.check_draft(&p, &t)).await?;
    if checked.problems.is_empty() {
        return Ok(checked.article);
    }
    Err(HttpError::Invalid(
        "the article has problems and was not saved; fix them and save again".into(),
        line_problems(text, &checked.problems),
    ))
}

/// Waits for the reload that serves what was just written.
async fn reload(knowledge: &Knowledge) -> bool {
    matches!(
        tokio::time::timeout(RELOAD_WAIT, knowledge.reload_now()).await,
        Ok(Ok(_))
    )
}

fn wanted_version(headers: &HeaderMap) -> Result<Option<String>, HttpError> {
    headers
        .get(header::IF_MATCH)
        .map(|v| {
            v.to_str()
                .map(|s| if_match(s).to_owned())
                .map_err(|_| HttpError::BadRequest("If-Match is not a version tag".into()))
        })
        .transpose()
}

/// The file's text and version now; 409 when it is gone from disk.
async fn current(path: &Path) -> Result<(String, String), HttpError> {
    let p = path.to_owned();
    let text = blocking(move || files::read(&p))
        .await?
        .map_err(|e| HttpError::Internal(e.into()))?
        .ok_or(HttpError::Conflict(GONE))?;
    let tag = etag(text.as_bytes());
    Ok((text, tag))
}

/// Audits the write (the article and the file's versions before and
/// after, never its text), then makes it: an entry that cannot be written
/// stops the write, and a write that fails is audited again as refused
/// ("not written"), so the log never shows a change that did not happen
/// as done alone. Returns the new version.
async fn write_audited(
    state: &EditorsState,
    session: &StaffSession,
    (action, id): (&str, &ArticleId),
    before: &str,
    (path, text): (&Path, String),
    create: bool,
) -> Result<String, HttpError> {
    let after = etag(text.as_bytes());
    let target = format!("{id} {before}..{after}");
    session.audit(&state.writer, action, &target, true).await?;
    let p = path.to_owned();
    let written = blocking(move || files::write_atomic(&p, &text, create)).await?;
    if let Err(e) = written {
        not_written(state, session, action, &target).await;
        return Err(write_failed(e));
    }
    tracing::info!(staff = session.staff.0, article = %id, action, "article written");
    Ok(after)
}

/// Audits that a write already audited did not happen on disk. The write's
/// own error is what the editor is told; this entry failing too is logged.
async fn not_written(state: &EditorsState, session: &StaffSession, action: &str, target: &str) {
    let target = format!("{target} not written");
    if let Err(e) = session.audit(&state.writer, action, &target, false).await {
        tracing::error!(error = %e, action, "cannot audit a failed knowledge write");
    }
}

/// What a write that failed on disk tells the editor.
fn write_failed(e: std::io::Error) -> HttpError {
    use std::io::ErrorKind::{AlreadyExists, PermissionDenied, ReadOnlyFilesystem};
    match e.kind() {
        AlreadyExists => {
            HttpError::Conflict("a file with this article's name already exists; choose another id")
        }
        PermissionDenied | ReadOnlyFilesystem => HttpError::Unavailable(
            "This server may not write the knowledge files (its folder is read-only for it); ask whoever runs Frontdesk.",
        ),
        _ => HttpError::Internal(e.into()),
    }
}

const CHANGED_SINCE: &str = "This article was changed since you opened it (by hand, in git or in another window). Reload it to see that change, then make yours again.";
const GONE: &str = "This article's file is no longer on disk. Reload the list.";

pub(super) async fn save(
    State(state): State<EditorsState>,
    session: StaffSession,
    raw: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<Fields>, JsonRejection>,
) -> Result<Response, HttpError> {
    state
        .admit(&session, Kind::Write, "knowledge.save", "article")
        .await?;
    let UrlPath(raw) = raw?;
    let id = article_id(&raw)?;
    let wanted = wanted_version(&headers)?.ok_or(HttpError::PreconditionRequired(
        "send If-Match with the etag the article was opened with, so a change made since is not overwritten",
    ))?;
    let Json(fields) = body?;
    fields.bounded()?;
    if fields
        .id
        .as_deref()
        .is_some_and(|f| f.trim() != id.as_str())
    {
        return Err(HttpError::Invalid(
            "an article's id cannot be changed; create a new article and retire this one".into(),
            vec![LineProblem::new(1, "the id cannot be changed", Some("id"))],
        ));
    }
    let knowledge = state.knowledge().clone();
    let path = knowledge
        .article(&id)
        .ok_or(HttpError::NotFound)?
        .path
        .clone();
    let writing = state.shared.writing.lock().await;
    let (before, before_tag) = current(&path).await?;
    if before_tag != wanted {
        return Err(HttpError::Conflict(CHANGED_SINCE));
    }
    let text = render(Some(&before), &fields, None);
    checked(&knowledge, &path, &text).await?;
    // Saved unchanged: nothing to write or audit.
    let after_tag = match text == before {
        true => before_tag,
        false => {
            let write = ("knowledge.save", &id);
            write_audited(&state, &session, write, &before_tag, (&path, text), false).await?
        }
    };
    drop(writing);
    let live = reload(&knowledge).await;
    let modified = blocking(move || files::modified(&path)).await?;
    let body = json!({"id": id, "etag": after_tag, "modified": modified, "live": live});
    Ok(with_etag(StatusCode::OK, &after_tag, body))
}

pub(super) async fn create(
    State(state): State<EditorsState>,
    session: StaffSession,
    body: Result<Json<Fields>, JsonRejection>,
) -> Result<Response, HttpError> {
    state
        .admit(&session, Kind::Write, "knowledge.create", "article")
        .await?;
    let Json(mut fields) = body?;
    fields.bounded()?;
    let invalid = |field: &'static str, message: String| {
        HttpError::Invalid(
            message.clone(),
            vec![LineProblem::new(1, message, Some(field))],
        )
    };
    let lang: Lang = fields
        .lang
        .as_deref()
        .unwrap_or("en")
        .parse()
        .map_err(|e: crate::lang::UnknownLang| invalid("lang", e.to_string()))?;
    fields.lang = Some(lang.as_str().to_owned());
    let id = match fields
        .id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => ArticleId::parse(raw).map_err(|e| invalid("id", e.to_string()))?,
        None => ArticleId::slug(&fields.title, "article"),
    };
    let knowledge = state.knowledge().clone();
    if knowledge.article(&id).is_some() {
        return Err(HttpError::Conflict(
            "an article with this id already exists; choose another id",
        ));
    }
    let served = knowledge.snapshot().articles();
    let path = files::new_path(knowledge.dir(), lang, &fields.tags, &id, &served);
    let text = render(None, &fields, Some(id.as_str()));
    let writing = state.shared.writing.lock().await;
    checked(&knowledge, &path, &text).await?;
    let write = ("knowledge.create", &id);
    let tag = write_audited(&state, &session, write, "none", (&path, text), true).await?;
    drop(writing);
    let live = reload(&knowledge).await;
    let rel = relative(&knowledge, &path);
    let modified = blocking(move || files::modified(&path)).await?;
    let body = json!({"id": id, "etag": tag, "path": rel, "modified": modified, "live": live});
    let mut response = with_etag(StatusCode::CREATED, &tag, body);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/knowledge/articles/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The articles that name `id` (`related`, `translation_of`), as problems
/// at the line of each file that does.
fn links_to(knowledge: &Knowledge, id: &ArticleId) -> Vec<LineProblem> {
    let kb = knowledge.snapshot();
    let mut out = Vec::new();
    for a in kb.articles().iter().filter(|a| a.id != *id) {
        let keys = [
            ("related", a.related.contains(id)),
            ("translation_of", a.translation_of.as_ref() == Some(id)),
        ];
        for (key, names) in keys {
            if names {
                let text = std::fs::read_to_string(&a.path).unwrap_or_default();
                let line = key_line(&text, key).unwrap_or(1);
                let message = format!(
                    "{} names this article in `{key}`",
                    relative(knowledge, &a.path)
                );
                out.push(LineProblem::new(line, message, None));
            }
        }
    }
    out
}

pub(super) async fn retire(
    State(state): State<EditorsState>,
    session: StaffSession,
    raw: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    state
        .admit(&session, Kind::Write, "knowledge.retire", "article")
        .await?;
    let UrlPath(raw) = raw?;
    let id = article_id(&raw)?;
    let wanted = wanted_version(&headers)?;
    let knowledge = state.knowledge().clone();
    let path = knowledge
        .article(&id)
        .ok_or(HttpError::NotFound)?
        .path
        .clone();
    let writing = state.shared.writing.lock().await;
    let (k, i) = (knowledge.clone(), id.clone());
    let links = blocking(move || links_to(&k, &i)).await?;
    if !links.is_empty() {
        return Err(HttpError::Invalid(
            "other articles still link to this one; remove those links first".into(),
            links,
        ));
    }
    let (_, before_tag) = current(&path).await?;
    if wanted.is_some_and(|w| w != before_tag) {
        return Err(HttpError::Conflict(CHANGED_SINCE));
    }
    let target = format!("{id} {before_tag}..retired");
    session
        .audit(&state.writer, "knowledge.retire", &target, true)
        .await?;
    let p = path.clone();
    let retired = match blocking(move || files::retire(&p)).await? {
        Ok(to) => to,
        Err(e) => {
            not_written(&state, &session, "knowledge.retire", &target).await;
            return Err(write_failed(e));
        }
    };
    tracing::info!(staff = session.staff.0, article = %id, "article retired");
    drop(writing);
    reload(&knowledge).await;
    let body = json!({"id": id, "retired": relative(&knowledge, &retired)});
    Ok((StatusCode::OK, Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn a_folder_the_server_may_not_write_is_said_plainly() {
        // Tests run as root, which no permission stops: the mapping is
        // checked here, the writes themselves in tests/api.
        for kind in [ErrorKind::PermissionDenied, ErrorKind::ReadOnlyFilesystem] {
            let e = write_failed(Error::from(kind));
            assert!(matches!(e, HttpError::Unavailable(m) if m.contains("read-only")));
        }
        assert!(matches!(
            write_failed(Error::from(ErrorKind::AlreadyExists)),
            HttpError::Conflict(_)
        ));
        assert!(matches!(
            write_failed(Error::from(ErrorKind::StorageFull)),
            HttpError::Internal(_)
        ));
    }
}
