//! The booking part of clinic.toml: locations, providers and their weekly
//! hours, appointment types, closures. Parsed from the file's raw sections
//! and checked for everything serde cannot see (unknown ids, bad times).

use std::collections::HashSet;

use jiff::civil::{Date, Time, Weekday};
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct BookingSection {
    #[serde(default = "default_notice")]
    min_notice_hours: u32,
    #[serde(default = "default_horizon")]
    horizon_days: u32,
}

fn default_notice() -> u32 {
    2
}

fn default_horizon() -> u32 {
    60
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLocation {
    id: String,
    name: String,
    address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvider {
    id: String,
    name: String,
    #[serde(default)]
    hours: Vec<RawHours>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHours {
    location: String,
    days: Vec<String>,
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawType {
    id: String,
    name: String,
    name_es: Option<String>,
    duration_min: u32,
    providers: Vec<String>,
    #[serde(default)]
    new_patients_only: bool,
    #[serde(default)]
    examples: Vec<String>,
    /// Hours before the visit a reminder goes out (0: none).
    #[serde(default = "default_reminder_hours")]
    reminder_hours: u32,
}

fn default_reminder_hours() -> u32 {
    DEFAULT_REMINDER_HOURS
}

/// A reminder goes out this many hours before a visit, unless the type says.
pub const DEFAULT_REMINDER_HOURS: u32 = 24;
/// The earliest reminder: a week before.
const MAX_REMINDER_HOURS: u32 = 7 * 24;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClosure {
    date: String,
    location: Option<String>,
    provider: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub id: String,
    pub name: String,
    pub address: Option<String>,
}

/// A provider's regular block of hours at one location.
#[derive(Debug, Clone, PartialEq)]
pub struct HoursBlock {
    pub location: String,
    pub days: Vec<Weekday>,
    pub from: Time,
    pub to: Time,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub hours: Vec<HoursBlock>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentType {
    pub id: String,
    pub name: String,
    pub name_es: Option<String>,
    pub duration_min: u32,
    pub providers: Vec<String>,
    pub new_patients_only: bool,
    /// Patients' words for this kind ("checkup", "chequeo"), for the chat.
    pub examples: Vec<String>,
    /// Hours before the visit its reminder goes out (0: no reminder).
    pub reminder_hours: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Closure {
    pub date: Date,
    pub location: Option<String>,
    pub provider: Option<String>,
    pub reason: Option<String>,
}

/// Everything needed to compute open slots.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    pub min_notice_hours: u32,
    pub horizon_days: u32,
    pub locations: Vec<Location>,
    pub providers: Vec<Provider>,
    pub types: Vec<AppointmentType>,
    pub closures: Vec<Closure>,
}

/// Shortest bookable unit; durations are multiples of it, and the store
/// locks a provider's time in blocks of it.
pub const BLOCK_MIN: u32 = 5;
/// Patients' phrases listed per appointment type, and their length.
const MAX_EXAMPLES: usize = 60;
const MAX_EXAMPLE_CHARS: usize = 80;

/// A problem and the key it is about (for its line in the file).
pub(super) type KeyedError = (&'static str, String);

pub(super) fn build(
    booking: Option<BookingSection>,
    locations: Vec<RawLocation>,
    providers: Vec<RawProvider>,
    types: Vec<RawType>,
    closures: Vec<RawClosure>,
) -> Result<Schedule, KeyedError> {
    let booking = booking.unwrap_or_default();
    let location_ids: HashSet<&str> = locations.iter().map(|l| l.id.as_str()).collect();
    let provider_ids: HashSet<&str> = providers.iter().map(|p| p.id.as_str()).collect();
    unique("id", locations.iter().map(|l| l.id.as_str()))?;
    unique("id", providers.iter().map(|p| p.id.as_str()))?;
    unique("id", types.iter().map(|t| t.id.as_str()))?;
    let mut built_providers = Vec::new();
    for p in &providers {
        let mut hours = Vec::new();
        for h in &p.hours {
            if !location_ids.contains(h.location.as_str()) {
                return Err((
                    "location",
                    format!("provider {}: unknown location {:?}", p.id, h.location),
                ));
            }
            let days = h
                .days
                .iter()
                .map(|d| weekday(d))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    (
                        "days",
                        format!(
                            "provider {}: days must be mon, tue, wed, thu, fri, sat or sun",
                            p.id
                        ),
                    )
                })?;
            let (from, to) = match (h.from.parse::<Time>(), h.to.parse::<Time>()) {
                (Ok(f), Ok(t)) if f < t => (f, t),
                _ => {
                    return Err((
                        "from",
                        format!("provider {}: hours need from < to as HH:MM", p.id),
                    ));
                }
            };
            hours.push(HoursBlock {
                location: h.location.clone(),
                days,
                from,
                to,
            });
        }
        built_providers.push(Provider {
            id: p.id.clone(),
            name: p.name.clone(),
            hours,
        });
    }
    let mut built_types = Vec::new();
    for t in types {
        if t.duration_min == 0 || t.duration_min % BLOCK_MIN != 0 || t.duration_min > 8 * 60 {
            return Err((
                "duration_min",
                format!(
                    "type {}: duration_min must be a multiple of {BLOCK_MIN}, up to 480",
                    t.id
                ),
            ));
        }
        if t.reminder_hours > MAX_REMINDER_HOURS {
            return Err((
                "reminder_hours",
                format!(
                    "type {}: reminder_hours is 0 (no reminder) to {MAX_REMINDER_HOURS}",
                    t.id
                ),
            ));
        }
        if let Some(unknown) = t
            .providers
            .iter()
            .find(|p| !provider_ids.contains(p.as_str()))
        {
            return Err((
                "providers",
                format!("type {}: unknown provider {unknown:?}", t.id),
            ));
        }
        if t.examples.len() > MAX_EXAMPLES
            || t.examples
                .iter()
                .any(|e| e.trim().is_empty() || e.chars().count() > MAX_EXAMPLE_CHARS)
        {
            return Err((
                "examples",
                format!(
                    "type {}: at most {MAX_EXAMPLES} examples, each 1 to {MAX_EXAMPLE_CHARS} characters",
                    t.id
                ),
            ));
        }
        built_types.push(AppointmentType {
            id: t.id,
            name: t.name,
            name_es: t.name_es,
            duration_min: t.duration_min,
            providers: t.providers,
            new_patients_only: t.new_patients_only,
            reminder_hours: t.reminder_hours,
            examples: t
                .examples
                .into_iter()
                .map(|e| e.trim().to_owned())
                .collect(),
        });
    }
    let mut built_closures = Vec::new();
    for c in closures {
        let date = c.date.parse::<Date>().map_err(|_| {
            (
                "date",
                format!("closure date {:?} is not YYYY-MM-DD", c.date),
            )
        })?;
        if c.location
            .as_deref()
            .is_some_and(|l| !location_ids.contains(l))
        {
            return Err(("location", format!("closure {}: unknown location", c.date)));
        }
        if c.provider
            .as_deref()
            .is_some_and(|p| !provider_ids.contains(p))
        {
            return Err(("provider", format!("closure {}: unknown provider", c.date)));
        }
        built_closures.push(Closure {
            date,
            location: c.location,
            provider: c.provider,
            reason: c.reason,
        });
    }
    Ok(Schedule {
        min_notice_hours: booking.min_notice_hours,
        horizon_days: booking.horizon_days.clamp(1, 366),
        locations: locations
            .into_iter()
            .map(|l| Location {
                id: l.id,
                name: l.name,
                address: l.address,
            })
            .collect(),
        providers: built_providers,
        types: built_types,
        closures: built_closures,
    })
}

fn unique<'a>(key: &'static str, ids: impl Iterator<Item = &'a str>) -> Result<(), KeyedError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err((key, format!("id {id:?} is used twice")));
        }
    }
    Ok(())
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

impl Schedule {
    pub fn appointment_type(&self, id: &str) -> Option<&AppointmentType> {
        self.types.iter().find(|t| t.id == id)
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    pub fn location(&self, id: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.id == id)
    }

    /// Whether `provider` sees no one at `location` on `date`.
    pub fn closed(&self, date: Date, provider: &str, location: &str) -> bool {
        self.closures.iter().any(|c| {
            c.date == date
                && c.provider.as_deref().is_none_or(|p| p == provider)
                && c.location.as_deref().is_none_or(|l| l == location)
        })
    }
}
