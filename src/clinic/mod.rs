//! The clinic facts file (`clinic.toml` in the knowledge directory): name,
//! time zone, and when staff answer chats. Business hours are evaluated in
//! the clinic's own time zone, DST included (jiff).

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde::Deserialize;

pub mod schedule;

pub use schedule::{AppointmentType, Location, Provider, Schedule};

pub const CLINIC_FILE: &str = "clinic.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    clinic: ClinicSection,
    chat_hours: Option<HoursSection>,
    booking: Option<schedule::BookingSection>,
    #[serde(default)]
    locations: Vec<schedule::RawLocation>,
    #[serde(default)]
    providers: Vec<schedule::RawProvider>,
    #[serde(default)]
    appointment_types: Vec<schedule::RawType>,
    #[serde(default)]
    closures: Vec<schedule::RawClosure>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClinicSection {
    name: String,
    timezone: String,
    phone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursSection {
    monday: Option<String>,
    tuesday: Option<String>,
    wednesday: Option<String>,
    thursday: Option<String>,
    friday: Option<String>,
    saturday: Option<String>,
    sunday: Option<String>,
    #[serde(default)]
    closed_dates: Vec<String>,
}

/// Opening and closing time on one weekday; `None` is closed.
type Day = Option<(Time, Time)>;

/// The parsed clinic file.
#[derive(Debug, Clone)]
pub struct Clinic {
    pub name: String,
    pub phone: Option<String>,
    pub timezone: TimeZone,
    /// Monday first. With no `[chat_hours]` section, chat is always staffed.
    chat_hours: Option<[Day; 7]>,
    closed_dates: Vec<Date>,
    /// What can be booked, with whom, where and when.
    pub schedule: Schedule,
}

impl Default for Clinic {
    fn default() -> Self {
        Clinic {
            name: "the clinic".into(),
            phone: None,
            timezone: TimeZone::UTC,
            chat_hours: None,
            closed_dates: Vec::new(),
            schedule: Schedule::default(),
        }
    }
}

impl Clinic {
    /// Parses clinic.toml text; errors name what is wrong.
    pub fn parse(text: &str) -> Result<Clinic, String> {
        Clinic::parse_located(text).map_err(|(_, message)| message)
    }

    /// Like [`Clinic::parse`], with the 1-based line the problem is on.
    pub fn parse_located(text: &str) -> Result<Clinic, (usize, String)> {
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            (line, e.message().to_owned())
        })?;
        Clinic::from_file(file).map_err(|(key, message)| (key_line(text, key), message))
    }

    /// Checks the values serde cannot: the time zone, hours and dates.
    /// Errors name the key they are about.
    fn from_file(file: File) -> Result<Clinic, (&'static str, String)> {
        let timezone = TimeZone::get(&file.clinic.timezone).map_err(|_| {
            (
                "timezone",
                format!("unknown time zone {:?}", file.clinic.timezone),
            )
        })?;
        let chat_hours = file.chat_hours.as_ref().map(days).transpose()?;
        let closed_dates = file
            .chat_hours
            .as_ref()
            .map(|h| h.closed_dates.clone())
            .unwrap_or_default()
            .iter()
            .map(|d| {
                d.parse::<Date>().map_err(|_| {
                    (
                        "closed_dates",
                        format!("closed_dates: {d:?} is not a YYYY-MM-DD date"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let schedule = schedule::build(
            file.booking,
            file.locations,
            file.providers,
            file.appointment_types,
            file.closures,
        )?;
        Ok(Clinic {
            name: file.clinic.name,
            phone: file.clinic.phone,
            timezone,
            chat_hours,
            closed_dates,
            schedule,
        })
    }

    /// Reads `dir/clinic.toml`; a missing file means the defaults.
    pub fn load(dir: &Path) -> Result<Clinic, String> {
        match std::fs::read_to_string(dir.join(CLINIC_FILE)) {
            Ok(text) => Clinic::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Clinic::default()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Whether staff answer chats at `now`.
    pub fn chat_staffed_at(&self, now: Timestamp) -> bool {
        let Some(hours) = &self.chat_hours else {
            return true;
        };
        let local: Zoned = now.to_zoned(self.timezone.clone());
        if self.closed_dates.contains(&local.date()) {
            return false;
        }
        let weekday = local.weekday().to_monday_zero_offset() as usize;
        match hours[weekday] {
            Some((open, close)) => local.time() >= open && local.time() < close,
            None => false,
        }
    }
}

fn days(h: &HoursSection) -> Result<[Day; 7], (&'static str, String)> {
    let names = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let raw = [
        &h.monday,
        &h.tuesday,
        &h.wednesday,
        &h.thursday,
        &h.friday,
        &h.saturday,
        &h.sunday,
    ];
    let mut out = [None; 7];
    for (i, (name, value)) in names.iter().zip(raw).enumerate() {
        out[i] = match value.as_deref().map(str::trim) {
            None | Some("closed") => None,
            Some(span) => Some(parse_span(span).ok_or_else(|| {
                (
                    *name,
                    format!("chat_hours.{name}: {span:?} should be \"HH:MM-HH:MM\" or \"closed\""),
                )
            })?),
        };
    }
    Ok(out)
}

/// The 1-based line holding byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key = …` is set, or 1.
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

fn parse_span(span: &str) -> Option<(Time, Time)> {
    let (a, b) = span.split_once('-')?;
    let open: Time = a.trim().parse().ok()?;
    let close: Time = b.trim().parse().ok()?;
    (open < close).then_some((open, close))
}

/// The live clinic file, swapped whenever the knowledge directory reloads.
#[derive(Clone, Default)]
pub struct ClinicHandle(Arc<ArcSwap<Clinic>>);

impl ClinicHandle {
    pub fn new(clinic: Clinic) -> Self {
        ClinicHandle(Arc::new(ArcSwap::from_pointee(clinic)))
    }

    pub fn get(&self) -> Arc<Clinic> {
        self.0.load_full()
    }

    pub fn set(&self, clinic: Clinic) {
        self.0.store(Arc::new(clinic));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[clinic]
name = "Test Clinic"
timezone = "America/Chicago"
[chat_hours]
monday = "08:00-17:00"
saturday = "closed"
closed_dates = ["2026-12-28"]
"#;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn hours_are_local_to_the_clinic_and_follow_dst() {
        let c = Clinic::parse(SAMPLE).unwrap();
        // Monday 2026-11-30 08:30 in Chicago is 14:30 UTC (CST, UTC-6).
        assert!(c.chat_staffed_at(at("2026-11-30T14:30:00Z")));
        assert!(!c.chat_staffed_at(at("2026-11-30T13:30:00Z")));
        // In summer (CDT, UTC-5) 08:30 local is 13:30 UTC.
        assert!(c.chat_staffed_at(at("2026-06-01T13:30:00Z")));
        // Tuesday has no hours listed: closed. So is the listed holiday.
        assert!(!c.chat_staffed_at(at("2026-12-01T15:00:00Z")));
        assert!(!c.chat_staffed_at(at("2026-12-28T15:00:00Z")));
    }

    #[test]
    fn mistakes_are_named() {
        let bad_zone = SAMPLE.replace("America/Chicago", "Mars/Olympus");
        assert!(
            Clinic::parse(&bad_zone)
                .unwrap_err()
                .contains("Mars/Olympus")
        );
        let bad_span = SAMPLE.replace("08:00-17:00", "9 to 5");
        assert!(
            Clinic::parse(&bad_span)
                .unwrap_err()
                .contains("chat_hours.monday")
        );
        assert!(Clinic::parse("[clinic]\nname='x'\ntimezone='UTC'\nbogus=1").is_err());
    }

    #[test]
    fn problems_point_at_their_line() {
        let bad_zone = SAMPLE.replace("America/Chicago", "Mars/Olympus");
        assert_eq!(Clinic::parse_located(&bad_zone).unwrap_err().0, 4);
        let bad_toml = SAMPLE.replace("monday = \"08:00-17:00\"", "monday = 08:00-");
        assert_eq!(Clinic::parse_located(&bad_toml).unwrap_err().0, 6);
    }

    #[test]
    fn the_bundled_clinic_file_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let c = Clinic::load(&dir).unwrap();
        assert_eq!(c.name, "Cedar Valley Health");
    }

    #[test]
    fn kinds_examples_are_bounded_and_point_at_their_line() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let text = std::fs::read_to_string(dir.join("clinic.toml")).unwrap();
        let long = format!("\"{}\"", "x".repeat(81));
        let bad = text.replacen("\"sick\",", &format!("{long},"), 1);
        let (line, message) = Clinic::parse_located(&bad).unwrap_err();
        assert!(message.contains("examples"), "{message}");
        assert!(line > 1, "{line}");
        let empty = text.replacen("\"sick\",", "\"  \",", 1);
        assert!(Clinic::parse_located(&empty).is_err());
    }
}
