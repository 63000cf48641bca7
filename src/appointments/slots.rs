//! Open slots: the clinic's weekly hours, in its own time zone, minus
//! closures, minus what is booked, never in the past and never sooner than
//! the minimum notice. Pure functions of the schedule and the clock.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::clinic::Schedule;

/// Identifies one bookable slot: type, provider, location and start.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlotId {
    pub type_id: String,
    pub provider: String,
    pub location: String,
    /// Unix seconds.
    pub start: i64,
}

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}",
            self.type_id, self.provider, self.location, self.start
        )
    }
}

impl FromStr for SlotId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let parts: Vec<&str> = s.split('.').collect();
        let ok_id = |p: &str| {
            !p.is_empty()
                && p.len() <= 64
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        match parts.as_slice() {
            [t, p, l, start] if ok_id(t) && ok_id(p) && ok_id(l) => Ok(SlotId {
                type_id: (*t).to_owned(),
                provider: (*p).to_owned(),
                location: (*l).to_owned(),
                start: start.parse().map_err(|_| ())?,
            }),
            _ => Err(()),
        }
    }
}

/// A bookable slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub id: SlotId,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Time a provider is already booked.
#[derive(Debug, Clone, PartialEq)]
pub struct Busy {
    pub provider: String,
    pub start: i64,
    pub end: i64,
}

/// Morning (before noon), afternoon (noon to 5 pm) or evening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartOfDay {
    Morning,
    Afternoon,
    Evening,
}

impl PartOfDay {
    fn contains(self, t: Time) -> bool {
        let h = t.hour();
        match self {
            PartOfDay::Morning => h < 12,
            PartOfDay::Afternoon => (12..17).contains(&h),
            PartOfDay::Evening => h >= 17,
        }
    }
}

/// Narrows the slots offered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub provider: Option<String>,
    pub location: Option<String>,
    pub part_of_day: Option<PartOfDay>,
    /// Only slots starting at or after this hour of the day (0–23), clinic
    /// time: "Monday at 3pm".
    pub from_hour: Option<i8>,
    pub weekday: Option<Weekday>,
    /// Only slots starting at or after this instant ("later times").
    pub after: Option<Timestamp>,
}

/// Open slots of `type_id` on `days` days from `from`, earliest first, at
/// most `limit`.
#[allow(clippy::too_many_arguments)]
pub fn open_slots(
    schedule: &Schedule,
    tz: &TimeZone,
    type_id: &str,
    from: Date,
    days: u32,
    now: Timestamp,
    busy: &[Busy],
    filter: &Filter,
    limit: usize,
) -> Vec<Slot> {
    let Some(kind) = schedule.appointment_type(type_id) else {
        return Vec::new();
    };
    let earliest = now + SignedDuration::from_hours(i64::from(schedule.min_notice_hours));
    let today = now.to_zoned(tz.clone()).date();
    let last = today
        .checked_add(i64::from(schedule.horizon_days).days())
        .unwrap_or(today);
    let duration = SignedDuration::from_mins(i64::from(kind.duration_min));
    let mut out = Vec::new();
    let mut day = from.max(today);
    for _ in 0..days.min(366) {
        if day > last {
            break;
        }
        if filter.weekday.is_none_or(|w| w == day.weekday()) {
            for provider in kind.providers.iter().filter_map(|p| schedule.provider(p)) {
                if filter.provider.as_ref().is_some_and(|p| *p != provider.id) {
                    continue;
                }
                for block in provider
                    .hours
                    .iter()
                    .filter(|b| b.days.contains(&day.weekday()))
                {
                    if filter
                        .location
                        .as_ref()
                        .is_some_and(|l| *l != block.location)
                        || schedule.closed(day, &provider.id, &block.location)
                    {
                        continue;
                    }
                    let mut t = block.from;
                    while let Ok(end_t) = t.checked_add(duration) {
                        if end_t > block.to || end_t < t {
                            break;
                        }
                        let next = end_t;
                        if filter.part_of_day.is_none_or(|p| p.contains(t))
                            && filter.from_hour.is_none_or(|h| t.hour() >= h)
                            && let Some(slot) = make_slot(
                                tz,
                                day,
                                t,
                                duration,
                                &kind.id,
                                &provider.id,
                                &block.location,
                            )
                        {
                            let free = !busy.iter().any(|b| {
                                b.provider == provider.id
                                    && b.start < slot.end.as_second()
                                    && slot.start.as_second() < b.end
                            });
                            let late_enough = slot.start >= earliest
                                && filter.after.is_none_or(|a| slot.start >= a);
                            if free && late_enough {
                                out.push(slot);
                            }
                        }
                        t = next;
                    }
                }
            }
        }
        // Every later day's slots come after this day's: once there are
        // enough, the rest of the window cannot change the answer.
        if out.len() >= limit {
            earliest_first(&mut out);
            if out.len() >= limit {
                break;
            }
        }
        match day.tomorrow() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    earliest_first(&mut out);
    out.truncate(limit);
    out
}

/// Sorts by start (then provider) and drops repeats of a slot.
fn earliest_first(slots: &mut Vec<Slot>) {
    slots.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then_with(|| a.id.provider.cmp(&b.id.provider))
    });
    slots.dedup_by(|a, b| a.id == b.id);
}

fn make_slot(
    tz: &TimeZone,
    day: Date,
    t: Time,
    duration: SignedDuration,
    type_id: &str,
    provider: &str,
    location: &str,
) -> Option<Slot> {
    // Local clock times that do not exist (a DST gap) are skipped rather
    // than shifted: a patient must get the time the clinic's clock shows.
    let zoned = day.to_datetime(t).to_zoned(tz.clone()).ok()?;
    if zoned.time() != t {
        return None;
    }
    let start = zoned.timestamp();
    let end = start.checked_add(duration).ok()?;
    Some(Slot {
        id: SlotId {
            type_id: type_id.into(),
            provider: provider.into(),
            location: location.into(),
            start: start.as_second(),
        },
        start,
        end,
    })
}

/// The slot named by `id` if the schedule offers it at `now` (busy time is
/// not considered: the store enforces that).
pub fn validate(schedule: &Schedule, tz: &TimeZone, id: &SlotId, now: Timestamp) -> Option<Slot> {
    let start = Timestamp::from_second(id.start).ok()?;
    let day = start.to_zoned(tz.clone()).date();
    let filter = Filter {
        provider: Some(id.provider.clone()),
        location: Some(id.location.clone()),
        ..Filter::default()
    };
    open_slots(
        schedule,
        tz,
        &id.type_id,
        day,
        1,
        now,
        &[],
        &filter,
        usize::MAX,
    )
    .into_iter()
    .find(|s| s.id == *id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinic::Clinic;

    const CLINIC: &str = r#"
[clinic]
name = "T"
timezone = "America/Chicago"
[booking]
min_notice_hours = 2
horizon_days = 30
[[locations]]
id = "main"
name = "Main"
[[providers]]
id = "lee"
name = "Dr. Lee"
hours = [{ location = "main", days = ["mon", "sun"], from = "01:00", to = "03:00" }, { location = "main", days = ["mon"], from = "08:00", to = "09:00" }]
[[appointment_types]]
id = "visit"
name = "Visit"
duration_min = 30
providers = ["lee"]
[[closures]]
date = "2026-03-16"
reason = "Closed"
"#;

    fn clinic() -> Clinic {
        Clinic::parse(CLINIC).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn starts(slots: &[Slot]) -> Vec<String> {
        slots.iter().map(|s| s.start.to_string()).collect()
    }

    #[test]
    fn slots_follow_the_clinic_clock_across_dst() {
        let c = clinic();
        let monday_before = "2026-03-02".parse().unwrap();
        let s = open_slots(
            &c.schedule,
            &c.timezone,
            "visit",
            monday_before,
            1,
            ts("2026-03-01T00:00:00Z"),
            &[],
            &Filter {
                part_of_day: Some(PartOfDay::Morning),
                ..Filter::default()
            },
            10,
        );
        // 08:00 Chicago in winter (CST) is 14:00 UTC...
        assert!(
            starts(&s).contains(&"2026-03-02T14:00:00Z".to_owned()),
            "{:?}",
            starts(&s)
        );
        // ...and the Monday after the 8 March switch (CDT) it is 13:00 UTC.
        let monday_after = "2026-03-09".parse().unwrap();
        let s = open_slots(
            &c.schedule,
            &c.timezone,
            "visit",
            monday_after,
            1,
            ts("2026-03-01T00:00:00Z"),
            &[],
            &Filter::default(),
            10,
        );
        assert!(
            starts(&s).contains(&"2026-03-09T13:00:00Z".to_owned()),
            "{:?}",
            starts(&s)
        );
    }

    #[test]
    fn a_time_missing_on_the_spring_forward_night_is_not_offered() {
        let c = clinic();
        // Sunday 8 March 2026: 02:00-03:00 does not exist in Chicago.
        let sunday = "2026-03-08".parse().unwrap();
        let s = open_slots(
            &c.schedule,
            &c.timezone,
            "visit",
            sunday,
            1,
            ts("2026-03-01T00:00:00Z"),
            &[],
            &Filter::default(),
            10,
        );
        let local: Vec<String> = s
            .iter()
            .map(|s| s.start.to_zoned(c.timezone.clone()).time().to_string())
            .collect();
        assert_eq!(
            local,
            ["01:00:00", "01:30:00"],
            "02:00 and 02:30 do not exist that night"
        );
    }

    #[test]
    fn busy_closed_past_and_short_notice_times_are_not_offered() {
        let c = clinic();
        let monday = "2026-03-09".parse().unwrap();
        let now = ts("2026-03-09T12:30:00Z"); // 07:30 local: 08:00 is within 2 h notice
        let s = open_slots(
            &c.schedule,
            &c.timezone,
            "visit",
            monday,
            1,
            now,
            &[],
            &Filter::default(),
            10,
        );
        assert!(s.is_empty(), "{:?}", starts(&s));
        let now = ts("2026-03-01T00:00:00Z");
        let busy = [Busy {
            provider: "lee".into(),
            start: ts("2026-03-09T13:00:00Z").as_second(),
            end: ts("2026-03-09T13:30:00Z").as_second(),
        }];
        let s = open_slots(
            &c.schedule,
            &c.timezone,
            "visit",
            monday,
            1,
            now,
            &busy,
            &Filter {
                part_of_day: Some(PartOfDay::Morning),
                ..Filter::default()
            },
            10,
        );
        assert_eq!(
            starts(&s),
            [
                "2026-03-09T06:00:00Z",
                "2026-03-09T06:30:00Z",
                "2026-03-09T07:00:00Z",
                "2026-03-09T07:30:00Z",
                "2026-03-09T13:30:00Z"
            ]
        );
        let closed = "2026-03-16".parse().unwrap();
        assert!(
            open_slots(
                &c.schedule,
                &c.timezone,
                "visit",
                closed,
                1,
                now,
                &[],
                &Filter::default(),
                10
            )
            .is_empty()
        );
    }

    #[test]
    fn slot_ids_round_trip_and_validate_against_the_schedule() {
        let c = clinic();
        let now = ts("2026-03-01T00:00:00Z");
        let slot = open_slots(
            &c.schedule,
            &c.timezone,
            "visit",
            "2026-03-09".parse().unwrap(),
            1,
            now,
            &[],
            &Filter::default(),
            1,
        )
        .remove(0);
        let id: SlotId = slot.id.to_string().parse().unwrap();
        assert_eq!(
            validate(&c.schedule, &c.timezone, &id, now),
            Some(slot.clone())
        );
        let off_grid = SlotId {
            start: slot.id.start + 600,
            ..slot.id.clone()
        };
        assert_eq!(validate(&c.schedule, &c.timezone, &off_grid, now), None);
        assert!("a.b.c".parse::<SlotId>().is_err());
        assert!("a.b.c.x".parse::<SlotId>().is_err());
    }
}
