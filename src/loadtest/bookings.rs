//! Bookings under load (`--bookings N`): while the chat load runs, many
//! staff bookings race for a few open slots through `POST /api/appointments`.
//! Each slot must be booked exactly once and every other try answered 409;
//! a slot booked twice is counted and must stay at zero. The bookings are
//! cancelled again afterwards so the clinic's calendar is left as it was.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::http::Server;
use super::stats::Latency;

/// Most bookings one run may try.
pub const MAX_BOOKINGS: usize = 1_000;
/// Most slots the bookings are spread over.
pub const MAX_SLOTS: usize = 5;
/// How far ahead open slots are looked for.
pub const LOOK_AHEAD_DAYS: u32 = 14;
/// Where the staff password comes from (never a flag, never printed).
pub const PASSWORD_ENV: &str = "FRONTDESK_LOADTEST_PASSWORD";

/// A staff password; `Debug` does not show it.
#[derive(Clone)]
pub struct Password(pub String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// What `--bookings N --staff-user NAME` asks for.
#[derive(Debug, Clone)]
pub struct Plan {
    pub count: usize,
    pub staff_user: String,
    pub password: Password,
}

/// What happened, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct BookingsReport {
    pub appointment_type: String,
    pub attempts: usize,
    /// Answered 201.
    pub created: usize,
    /// Answered 409 (the slot was taken meanwhile).
    pub conflicts: usize,
    /// Any other answer, or no answer.
    pub other_errors: usize,
    /// Slots the attempts were spread over.
    pub slots: usize,
    /// Slots answered 201 more than once: must be 0.
    pub double_booked: usize,
    /// Request → response of the booking POSTs.
    pub latency_ms: Latency,
    /// Created bookings cancelled again after the run.
    pub cancelled: usize,
}

/// Signed in, with the slots chosen, before the run starts (so a wrong
/// password or an empty calendar fails at once, not after the run).
pub struct Prepared {
    server: Server,
    cookie: String,
    appointment_type: String,
    slots: Vec<String>,
    count: usize,
}

impl Prepared {
    pub async fn new(plan: &Plan, server: Server) -> anyhow::Result<Prepared> {
        if !(1..=MAX_BOOKINGS).contains(&plan.count) {
            bail!("--bookings must be 1..={MAX_BOOKINGS}");
        }
        let cookie = sign_in(&server, &plan.staff_user, &plan.password).await?;
        let types: Vec<Value> = checked(server.get("/api/appointment-types", None).await?)
            .context("listing appointment types")?;
        let appointment_type = types
            .first()
            .and_then(|t| t["id"].as_str())
            .context("the server offers no appointment types")?
            .to_owned();
        let path = format!(
            "/api/slots?type={}&days={LOOK_AHEAD_DAYS}",
            query_escape(&appointment_type)
        );
        let open: Vec<Value> =
            checked(server.get(&path, None).await?).context("listing open slots")?;
        let slots: Vec<String> = open
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .take(MAX_SLOTS.min(plan.count))
            .collect();
        if slots.is_empty() {
            bail!("no open {appointment_type} slots in the next {LOOK_AHEAD_DAYS} days to book");
        }
        Ok(Prepared {
            server,
            cookie,
            appointment_type,
            slots,
            count: plan.count,
        })
    }

    /// Fires every booking at once, spread round-robin over the slots, then
    /// cancels the ones created.
    pub async fn fire(self) -> BookingsReport {
        let this = Arc::new(self);
        let tasks: Vec<_> = (0..this.count)
            .map(|i| {
                let this = this.clone();
                tokio::spawn(async move {
                    let slot = i % this.slots.len();
                    let sent = Instant::now();
                    let answer = this.book(&this.slots[slot]).await;
                    (slot, sent.elapsed(), answer)
                })
            })
            .collect();
        let mut report = BookingsReport {
            appointment_type: this.appointment_type.clone(),
            attempts: this.count,
            created: 0,
            conflicts: 0,
            other_errors: 0,
            slots: this.slots.len(),
            double_booked: 0,
            latency_ms: Latency::default(),
            cancelled: 0,
        };
        let mut created_per_slot: HashMap<usize, usize> = HashMap::new();
        let mut codes = Vec::new();
        let mut latencies = Vec::with_capacity(this.count);
        for task in tasks {
            let Ok((slot, took, answer)) = task.await else {
                report.other_errors += 1;
                continue;
            };
            latencies.push(took.as_micros().min(u128::from(u64::MAX)) as u64);
            match answer {
                Answer::Created(code) => {
                    report.created += 1;
                    *created_per_slot.entry(slot).or_default() += 1;
                    codes.extend(code);
                }
                Answer::Conflict => report.conflicts += 1,
                Answer::Other => report.other_errors += 1,
            }
        }
        report.double_booked = created_per_slot.values().filter(|&&n| n > 1).count();
        report.latency_ms = Latency::of(latencies);
        for code in codes {
            let path = format!("/api/appointments/{}", query_escape(&code));
            if let Ok(r) = this.server.delete(&path, Some(&this.cookie)).await
                && r.status == 204
            {
                report.cancelled += 1;
            }
        }
        report
    }

    async fn book(&self, slot: &str) -> Answer {
        let body = json!({
            "slot": slot,
            "patient": {
                "name": "Load Test",
                "dob": "1970-01-01",
                "phone": "555-000-0000",
                "contact": "text",
            },
        });
        match self
            .server
            .post_json("/api/appointments", Some(&self.cookie), &body)
            .await
        {
            Ok(r) if r.status == 201 => Answer::Created(
                r.json::<Value>()
                    .ok()
                    .and_then(|v| v["code"].as_str().map(str::to_owned)),
            ),
            Ok(r) if r.status == 409 => Answer::Conflict,
            _ => Answer::Other,
        }
    }
}

enum Answer {
    /// With the confirmation code, to cancel it afterwards.
    Created(Option<String>),
    Conflict,
    Other,
}

/// Signs in; returns the session cookie (`name=value`).
async fn sign_in(server: &Server, name: &str, password: &Password) -> anyhow::Result<String> {
    let response = server
        .post_json(
            "/api/login",
            None,
            &json!({"name": name, "password": password.0}),
        )
        .await?;
    match response.status {
        200 => {}
        401 | 403 => {
            bail!("signing in as {name:?} was refused: check --staff-user and {PASSWORD_ENV}")
        }
        429 => bail!("signing in as {name:?} is throttled after failed tries; wait and retry"),
        other => bail!("signing in as {name:?} answered {other}"),
    }
    let cookie = response
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .context("the sign-in answer set no session cookie")?;
    Ok(cookie.to_owned())
}

/// The JSON body of a 200 answer.
fn checked<T: serde::de::DeserializeOwned>(response: super::http::Response) -> anyhow::Result<T> {
    if response.status != 200 {
        bail!("answered {}", response.status);
    }
    response.json()
}

/// Percent-encodes everything but unreserved characters.
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown_by_debug() {
        let plan = Plan {
            count: 1,
            staff_user: "lt".into(),
            password: Password("hunter2-long".into()),
        };
        assert!(!format!("{plan:?}").contains("hunter2"));
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(query_escape("sick-visit"), "sick-visit");
        assert_eq!(query_escape("a b&c"), "a%20b%26c");
    }
}
