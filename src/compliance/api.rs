//! `GET /api/audit`: the audit log for admins, as JSON or CSV.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRef, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::accounts::Role;
use crate::http::{Gate, HttpError};
use crate::staff::sessions::StaffSession;

/// Most audit rows returned at once.
const AUDIT_LIMIT: i64 = 10_000;

/// The handles the audit log API uses.
#[derive(Clone)]
pub struct ComplianceState {
    pub store: crate::store::Store,
    pub writer: crate::store::Writer,
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Gate: FromRef<S>,
    ComplianceState: FromRef<S>,
{
    Router::new().route("/api/audit", get(audit))
}

#[derive(Deserialize)]
struct AuditQuery {
    /// RFC 3339 or YYYY-MM-DD; default: everything.
    from: Option<String>,
    to: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// `GET /api/audit`: admins only; viewing and exporting are audited too.
async fn audit(
    State(state): State<ComplianceState>,
    session: StaffSession,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let csv = query
        .as_ref()
        .is_ok_and(|Query(q)| q.format.as_deref() == Some("csv"));
    let action = if csv { "audit.export" } else { "audit.view" };
    if session.role != Role::Admin {
        session
            .audit(&state.writer, action, "audit_log", false)
            .await?;
        return Err(HttpError::Forbidden("only admins read the audit log"));
    }
    let Query(q) = query?;
    session
        .audit(&state.writer, action, "audit_log", true)
        .await?;
    let from = q.from.unwrap_or_else(|| "0000".into());
    let to = q.to.unwrap_or_else(|| "9999".into());
    let rows = state.store.audit(&from, &to, AUDIT_LIMIT).await?;
    if !csv {
        return Ok(Json(rows).into_response());
    }
    let field = |s: &str| format!("\"{}\"", spreadsheet_safe(s).replace('"', "\"\""));
    let mut body = String::from("id,at,actor,role,action,target,outcome\n");
    for r in rows {
        let line = [
            r.id.to_string(),
            r.at,
            r.actor,
            r.role,
            r.action,
            r.target,
            r.outcome,
        ]
        .iter()
        .map(|s| field(s))
        .collect::<Vec<_>>()
        .join(",");
        body.push_str(&line);
        body.push('\n');
    }
    Ok(crate::http::csv_attachment(body, "audit-log.csv"))
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`
/// or a tab or carriage return is a formula to Excel and LibreOffice
/// (`=HYPERLINK(...)`), so it gets a leading apostrophe.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formula_cells_are_defused_and_others_left_alone() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
        assert_eq!(spreadsheet_safe("transcript.view"), "transcript.view");
        assert_eq!(spreadsheet_safe(""), "");
    }
}
