//! KPIs for supervisors and editors (docs/kpis.md): computed from the
//! store's own records for a date range, served as JSON or CSV.

pub mod api;
mod groups;
pub mod metrics;

pub use api::routes;

/// The handles the insights, drafts and `/metrics` routes use.
#[derive(Clone)]
pub struct InsightsState {
    pub settings: std::sync::Arc<crate::config::Settings>,
    pub store: crate::store::Store,
    pub writer: crate::store::Writer,
    pub engine: std::sync::Arc<crate::dialog::Engine>,
    pub embedder: crate::semantic::Embedder,
    pub scheduler: std::sync::Arc<crate::appointments::Scheduler>,
    pub hub: std::sync::Arc<crate::queue::Hub>,
    pub metrics: std::sync::Arc<metrics::Metrics>,
    pub files: crate::fds::FileBudget,
    /// One permit per open chat connection.
    pub connections: std::sync::Arc<tokio::sync::Semaphore>,
}

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use crate::knowledge::health_words::HealthWords;
use crate::store::Facts;

#[derive(Debug, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: Option<i64>,
    pub p90: Option<i64>,
}

/// Nearest-rank percentiles of whole seconds.
fn percentiles(mut v: Vec<i64>) -> Percentiles {
    v.sort_unstable();
    let at = |p: f64| {
        if v.is_empty() {
            return None;
        }
        let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(v[rank - 1])
    };
    Percentiles {
        p50: at(0.5),
        p90: at(0.9),
    }
}

fn secs_between(a: &Option<String>, b: &Option<String>) -> Option<i64> {
    let a: Timestamp = a.as_deref()?.parse().ok()?;
    let b: Timestamp = b.as_deref()?.parse().ok()?;
    Some(b.duration_since(a).as_secs().max(0))
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 1000.0).round() / 1000.0)
}

/// Conversations, self-service rate and escalated conversations for each
/// channel patients used in the range.
fn per_channel(f: &Facts) -> Value {
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for c in &f.conversations {
        let handed = f.escalations.contains_key(&c.id) || f.with_callback.contains(&c.id);
        let (total, escalated) = by.entry(c.channel.as_str()).or_default();
        *total += 1;
        *escalated += usize::from(handed);
    }
    by.into_iter()
        .map(|(channel, (total, escalated))| {
            let stats = json!({"conversations": total, "escalated": escalated,
                               "self_service_rate": ratio(total - escalated, total)});
            (channel.to_owned(), stats)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Messages to patients per kind: sent, failed (and of those, to patients
/// who had opted out), pending.
fn per_kind(rows: &[(String, String, bool, i64)]) -> Value {
    let mut by: BTreeMap<&str, [i64; 4]> = BTreeMap::new();
    for (kind, status, opted_out, n) in rows {
        let counts = by.entry(kind.as_str()).or_default();
        match status.as_str() {
            "sent" => counts[0] += n,
            "failed" => {
                counts[1] += n;
                if *opted_out {
                    counts[2] += n;
                }
            }
            _ => counts[3] += n,
        }
    }
    by.into_iter()
        .map(|(kind, [sent, failed, opted_out, pending])| {
            let counts =
                json!({"sent": sent, "failed": failed, "opted_out": opted_out, "pending": pending});
            (kind.to_owned(), counts)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub conversations: usize,
    pub self_service_rate: Option<f64>,
    pub escalations: Value,
    pub first_contact_resolution: Option<f64>,
    pub queue: Value,
    pub satisfaction: Value,
    pub appointments: Value,
    /// Conversations, self-service rate and escalations per channel
    /// (`web`, `sms`).
    pub channels: Value,
    /// Messages to patients per kind: sent, failed (of which opted out),
    /// still pending.
    pub messages: Value,
    #[serde(skip)]
    pub answers: Vec<Value>,
    #[serde(skip)]
    pub unanswered: Vec<groups::Group>,
    /// How many of the range's unanswered questions were grouped (the
    /// newest), and how many there were.
    #[serde(skip)]
    pub unanswered_grouped: usize,
    #[serde(skip)]
    pub unanswered_total: i64,
    pub daily: Vec<Day>,
}

#[derive(Debug, Serialize, Default, Clone)]
pub struct Day {
    pub date: String,
    pub conversations: usize,
    pub self_served: usize,
    pub escalated: usize,
    pub ratings: usize,
    pub csat: Option<f64>,
}

pub fn compute(f: &Facts, health_words: &HealthWords, now: Timestamp) -> Report {
    let total = f.conversations.len();
    let handed = |id: &str| f.escalations.contains_key(id) || f.with_callback.contains(id);
    let self_served: Vec<_> = f.conversations.iter().filter(|c| !handed(&c.id)).collect();

    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    let mut offline = 0;
    let mut escalation_total = 0;
    for events in f.escalations.values() {
        let mut reasons: Vec<&str> = events.iter().map(|(r, _)| r.as_str()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        for r in reasons {
            *by_reason.entry(r.to_owned()).or_default() += 1;
        }
        escalation_total += events.len();
        offline += events.iter().filter(|(_, o)| o == "offline").count();
    }
    let by_reason: serde_json::Map<String, Value> = by_reason
        .into_iter()
        .map(|(r, n)| (r, json!({"count": n, "rate": ratio(n, total)})))
        .collect();

    // First-contact resolution: no new conversation from the same patient
    // within 7 days, judged once those 7 days have passed.
    let week = 7 * 24 * 3600;
    let mut fcr_base = 0;
    let mut fcr_ok = 0;
    for c in &self_served {
        let Ok(start) = c.created_at.parse::<Timestamp>() else {
            continue;
        };
        if now.duration_since(start).as_secs() < week {
            continue;
        }
        fcr_base += 1;
        let came_back = f.visitor_starts.get(&c.visitor).is_some_and(|starts| {
            starts
                .iter()
                .filter_map(|s| s.parse::<Timestamp>().ok())
                .any(|s| {
                    let d = s.duration_since(start).as_secs();
                    d > 0 && d <= week
                })
        });
        if !came_back {
            fcr_ok += 1;
        }
    }

    let queued: Vec<_> = f
        .conversations
        .iter()
        .filter(|c| c.queued_at.is_some())
        .collect();
    let abandoned = queued
        .iter()
        .filter(|c| c.claimed_at.is_none() && c.ended)
        .count();
    let claimed: Vec<_> = queued.iter().filter(|c| c.claimed_at.is_some()).collect();
    let waits = |cs: &[&&crate::store::ConversationFacts]| {
        cs.iter()
            .filter_map(|c| secs_between(&c.queued_at, &c.claimed_at))
            .collect::<Vec<_>>()
    };
    let firsts = |cs: &[&&crate::store::ConversationFacts]| {
        cs.iter()
            .filter_map(|c| secs_between(&c.claimed_at, &c.first_agent_message))
            .collect::<Vec<_>>()
    };
    let handles = |cs: &[&&crate::store::ConversationFacts]| {
        cs.iter()
            .filter_map(|c| secs_between(&c.claimed_at, &c.resolved_at))
            .collect::<Vec<_>>()
    };
    let mut per_agent: BTreeMap<String, Vec<&&crate::store::ConversationFacts>> = BTreeMap::new();
    for c in &claimed {
        if let Some(a) = &c.agent {
            per_agent.entry(a.clone()).or_default().push(c);
        }
    }
    let per_agent: Vec<Value> = per_agent
        .into_iter()
        .map(|(agent, cs)| {
            json!({"agent": agent, "chats": cs.len(), "wait_s": percentiles(waits(&cs)),
                   "first_response_s": percentiles(firsts(&cs)), "handle_s": percentiles(handles(&cs))})
        })
        .collect();

    let mut distribution = [0usize; 5];
    for score in f.ratings.values() {
        if (1..=5).contains(score) {
            distribution[(*score - 1) as usize] += 1;
        }
    }
    let ratings = f.ratings.len();
    let satisfied = distribution[3] + distribution[4];
    let (helpful, unhelpful) = f
        .articles
        .values()
        .fold((0, 0), |(h, u), (_, a, b)| (h + a, u + b));
    let mut answers: Vec<Value> = f
        .articles
        .iter()
        .filter(|(a, _)| a.as_str() != "-")
        .map(|(a, (served, h, u))| json!({"article": a, "served": served, "helpful": h, "unhelpful": u}))
        .collect();
    answers.sort_by(|a, b| {
        b["served"]
            .as_i64()
            .cmp(&a["served"].as_i64())
            .then_with(|| a["article"].as_str().cmp(&b["article"].as_str()))
    });

    let mut days: BTreeMap<String, Day> = BTreeMap::new();
    let mut day_scores: HashMap<String, (usize, usize)> = HashMap::new();
    for c in &f.conversations {
        let date = c.created_at.get(..10).unwrap_or_default().to_owned();
        let d = days.entry(date.clone()).or_insert_with(|| Day {
            date: date.clone(),
            ..Day::default()
        });
        d.conversations += 1;
        if handed(&c.id) {
            d.escalated += 1;
        } else {
            d.self_served += 1;
        }
        if let Some(score) = f.ratings.get(&c.id) {
            d.ratings += 1;
            let e = day_scores.entry(date).or_default();
            e.0 += 1;
            if *score >= 4 {
                e.1 += 1;
            }
        }
    }
    let daily = days
        .into_values()
        .map(|mut d| {
            d.csat = day_scores.get(&d.date).and_then(|(n, ok)| ratio(*ok, *n));
            d
        })
        .collect();

    Report {
        conversations: total,
        self_service_rate: ratio(self_served.len(), total),
        escalations: json!({"total": escalation_total, "offline": offline, "by_reason": by_reason}),
        first_contact_resolution: ratio(fcr_ok, fcr_base),
        queue: json!({
            "queued": queued.len(), "claimed": claimed.len(), "abandoned_rate": ratio(abandoned, queued.len()),
            "wait_s": percentiles(waits(&claimed)), "first_response_s": percentiles(firsts(&claimed)),
            "handle_s": percentiles(handles(&claimed)), "per_agent": per_agent,
        }),
        satisfaction: json!({"ratings": ratings, "csat": ratio(satisfied, ratings), "distribution": distribution,
                             "helpful": helpful, "unhelpful": unhelpful}),
        appointments: json!({"booked": f.appointments_booked, "cancelled": f.appointments_cancelled,
                             "rescheduled": f.appointments_rescheduled}),
        channels: per_channel(f),
        messages: per_kind(&f.messages),
        answers,
        unanswered: groups::group(&f.unanswered, health_words),
        unanswered_grouped: f.unanswered.len(),
        unanswered_total: f.unanswered_total,
        daily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(
            percentiles(vec![]),
            Percentiles {
                p50: None,
                p90: None
            }
        );
        assert_eq!(
            percentiles(vec![30, 10, 20]),
            Percentiles {
                p50: Some(20),
                p90: Some(30)
            }
        );
        assert_eq!(
            percentiles((1..=10).collect()),
            Percentiles {
                p50: Some(5),
                p90: Some(9)
            }
        );
    }
}

#[cfg(test)]
mod channel_tests {
    use super::*;

    #[test]
    fn messages_are_counted_per_kind_with_opt_outs_among_the_failed() {
        let rows = vec![
            ("reminder".to_owned(), "sent".to_owned(), false, 5),
            ("reminder".to_owned(), "failed".to_owned(), false, 1),
            ("reminder".to_owned(), "failed".to_owned(), true, 2),
            ("chat_reply".to_owned(), "pending".to_owned(), false, 3),
        ];
        let counts = per_kind(&rows);
        assert_eq!(
            counts["reminder"],
            json!({"sent": 5, "failed": 3, "opted_out": 2, "pending": 0})
        );
        assert_eq!(counts["chat_reply"]["pending"], 3);
    }
}
