//! How appointments read to patients and staff: a day, a time in the
//! clinic's zone, and a slot as a choice, in English and Spanish.

use jiff::Timestamp;

use super::Slot;
use crate::clinic::Clinic;
use crate::lang::Lang;

/// "Tue, Dec 1 at 9:00 AM" in the clinic's time zone (Spanish: "mar 1 dic, 9:00").
pub fn when(clinic: &Clinic, start: Timestamp, lang: Lang) -> String {
    let z = start.to_zoned(clinic.timezone.clone());
    match lang {
        Lang::En => format!("{} at {}", day(z.date(), lang), z.strftime("%-I:%M %p")),
        Lang::Es => format!("{}, {}", day(z.date(), lang), z.strftime("%-H:%M")),
    }
}

/// "Tue, Dec 1" (Spanish: "mar 1 dic").
pub fn day(date: jiff::civil::Date, lang: Lang) -> String {
    match lang {
        Lang::En => date.strftime("%a, %b %-d").to_string(),
        Lang::Es => {
            const DAYS: [&str; 7] = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"];
            const MONTHS: [&str; 12] = [
                "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic",
            ];
            let weekday = DAYS[date.weekday().to_monday_zero_offset() as usize];
            let month = MONTHS[(date.month() - 1) as usize];
            format!("{weekday} {} {month}", date.day())
        }
    }
}

/// How a slot is shown as a choice: when, with whom, where.
pub fn describe(clinic: &Clinic, slot: &Slot, lang: Lang) -> String {
    let provider = clinic
        .schedule
        .provider(&slot.id.provider)
        .map_or(slot.id.provider.as_str(), |p| p.name.as_str());
    let location = clinic
        .schedule
        .location(&slot.id.location)
        .map_or(slot.id.location.as_str(), |l| l.name.as_str());
    format!(
        "{} · {provider} · {location}",
        when(clinic, slot.start, lang)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_naturally_in_both_languages() {
        let clinic = Clinic::parse("[clinic]\nname='x'\ntimezone='America/Chicago'").unwrap();
        let t: Timestamp = "2026-12-01T15:00:00Z".parse().unwrap();
        assert_eq!(when(&clinic, t, Lang::En), "Tue, Dec 1 at 9:00 AM");
        assert_eq!(when(&clinic, t, Lang::Es), "mar 1 dic, 9:00");
    }
}
