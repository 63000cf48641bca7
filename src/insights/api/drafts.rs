//! Turning a group of unanswered questions into a draft article: a file in
//! `knowledge/drafts/` ending in `.md.draft`, which the loader ignores until
//! an editor writes the answer and renames it to `.md`.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::Role;
use crate::http::HttpError;
use crate::insights::InsightsState;
use crate::staff::sessions::StaffSession;

#[derive(Deserialize)]
pub struct DraftRequest {
    /// The group's label; becomes the file name.
    label: String,
    /// The questions patients asked (already redacted); the first is the title.
    examples: Vec<String>,
}

fn toml_string(s: &str) -> String {
    // A TOML basic string: escape backslashes, quotes and control characters.
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub async fn create(
    State(state): State<InsightsState>,
    session: StaffSession,
    body: Result<Json<DraftRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), HttpError> {
    if !matches!(session.role, Role::Editor | Role::Supervisor | Role::Admin) {
        return Err(HttpError::Forbidden(
            "drafts are for editors, supervisors and admins",
        ));
    }
    let Json(req) = body?;
    let examples: Vec<String> = req
        .examples
        .iter()
        .map(|e| e.trim().chars().take(200).collect::<String>())
        .filter(|e| !e.is_empty())
        .take(10)
        .collect();
    let Some(title) = examples.first() else {
        return Err(HttpError::BadRequest(
            "examples needs at least one question".into(),
        ));
    };
    let name = crate::knowledge::ArticleId::slug(&req.label, "draft");
    let dir = state.settings.data.knowledge.join("drafts");
    let questions = examples[1..]
        .iter()
        .map(|q| toml_string(q))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        "+++\nid = \"{name}\"\ntitle = {}\nquestions = [{questions}]\ntags = [\"draft\"]\nowner = {}\n+++\nWrite the answer here, then rename this file to {name}.md to publish it.\n",
        toml_string(title),
        toml_string(&session.name),
    );
    let path = dir.join(format!("{name}.md.draft"));
    let written = path.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&dir)?;
        // One step: refuses an existing file or a dangling link to one, and
        // a second request racing this one.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&written)?
            .write_all(text.as_bytes())
    })
    .await
    .map_err(|e| HttpError::Internal(e.into()))?
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            HttpError::Conflict("a draft with that name already exists")
        }
        _ => HttpError::Internal(e.into()),
    })?;
    tracing::info!(staff = session.staff.0, "draft article created");
    let relative = format!("drafts/{name}.md.draft");
    Ok((StatusCode::CREATED, Json(json!({ "path": relative }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_string("say \"hi\"\\n"), "\"say \\\"hi\\\"\\\\n\"");
    }
}
