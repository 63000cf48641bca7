//! `GET /api/insights`: the figures for a date range, as JSON or CSV, with
//! the role split (editors see only what concerns the knowledge base); the
//! drafts and `/metrics` routes.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRef, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;
use serde_json::{Value, json};

mod drafts;
mod metrics;

use super::{Day, InsightsState, compute};
use crate::accounts::Role;
use crate::http::{Gate, HttpError};
use crate::staff::sessions::StaffSession;

/// Longest date range one insights view covers.
const MAX_RANGE_DAYS: i64 = 366;

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Gate: FromRef<S>,
    InsightsState: FromRef<S>,
{
    Router::new()
        .route("/api/insights", get(insights))
        .route("/api/insights/drafts", axum::routing::post(drafts::create))
        .route("/metrics", get(metrics::scrape))
}

#[derive(Deserialize)]
struct Range {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

async fn insights(
    State(state): State<InsightsState>,
    session: StaffSession,
    query: Result<Query<Range>, QueryRejection>,
) -> Result<Response, HttpError> {
    let everything = matches!(session.role, Role::Supervisor | Role::Admin);
    if !everything && session.role != Role::Editor {
        return Err(HttpError::Forbidden(
            "insights are for supervisors, admins and editors",
        ));
    }
    let Query(q) = query?;
    // The role split comes before any format: editors never get the daily
    // conversation, escalation and satisfaction figures, in any form.
    let csv_wanted = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") if everything => true,
        Some("csv") => {
            return Err(HttpError::Forbidden(
                "the CSV export is for supervisors and admins",
            ));
        }
        Some(_) => return Err(HttpError::BadRequest("format is json or csv".into())),
    };
    let parse = |d: &Option<String>| {
        d.as_deref()
            .map(|s| {
                s.parse::<jiff::civil::Date>()
                    .map_err(|_| HttpError::BadRequest("dates are YYYY-MM-DD".into()))
            })
            .transpose()
    };
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let to = parse(&q.to)?.unwrap_or_else(|| today.tomorrow().unwrap_or(today));
    let from = parse(&q.from)?.unwrap_or_else(|| to.checked_sub(30.days()).unwrap_or(to));
    if from >= to {
        return Err(HttpError::BadRequest("from must be before to".into()));
    }
    // Days between two civil dates (Date::until counts in days).
    if from
        .until(to)
        .map_or(true, |span| i64::from(span.get_days()) > MAX_RANGE_DAYS)
    {
        return Err(HttpError::BadRequest(format!(
            "a range is at most {MAX_RANGE_DAYS} days"
        )));
    }
    let facts = state
        .store
        .insight_facts(&from.to_string(), &to.to_string())
        .await?;
    // Grouping thousands of questions is CPU work: off the async runtime.
    let health_words = state.engine.knowledge().snapshot().health_words();
    let report =
        tokio::task::spawn_blocking(move || compute(&facts, &health_words, Timestamp::now()))
            .await
            .map_err(|e| HttpError::Internal(e.into()))?;
    if csv_wanted {
        return Ok(csv(&report.daily));
    }
    let knowledge = json!({
        "answers": report.answers,
        "unanswered": report.unanswered,
        "unanswered_grouped": report.unanswered_grouped,
        "unanswered_total": report.unanswered_total,
        "unanswered_limit": crate::store::MAX_UNANSWERED,
    });
    let body = if everything {
        let mut v = serde_json::to_value(&report).unwrap_or(Value::Null);
        v["knowledge"] = knowledge;
        v["from"] = json!(from.to_string());
        v["to"] = json!(to.to_string());
        v
    } else {
        json!({ "from": from.to_string(), "to": to.to_string(), "knowledge": knowledge })
    };
    Ok(Json(body).into_response())
}

fn csv(days: &[Day]) -> Response {
    let mut body = String::from("date,conversations,self_served,escalated,ratings,csat\n");
    for d in days {
        let csat = d.csat.map(|c| c.to_string()).unwrap_or_default();
        body.push_str(&format!(
            "{},{},{},{},{},{}\n",
            d.date, d.conversations, d.self_served, d.escalated, d.ratings, csat
        ));
    }
    crate::http::csv_attachment(body, "insights.csv")
}
