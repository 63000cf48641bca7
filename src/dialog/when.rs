//! Dates as patients type them: birth dates ("03/14/1985", "March 14 1985",
//! "14 de marzo de 1985") and slot preferences ("tomorrow afternoon", "next
//! Tuesday", "the 14th", "el martes por la mañana").

use jiff::civil::{Date, Weekday};
use jiff::{ToSpan, Zoned};

use crate::appointments::PartOfDay;
use crate::knowledge::normalize;
use crate::lang::Lang;

/// Why a typed birth date was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateProblem {
    Unreadable,
    /// Looks like a date but is not one (February 30th).
    Impossible,
    InTheFuture,
    TooLongAgo,
}

const MONTHS_EN: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

fn month_number(word: &str) -> Option<i8> {
    let w = word.trim_end_matches('.');
    if w.len() < 3 {
        return None;
    }
    MONTHS_EN
        .iter()
        .chain(MONTHS_ES.iter())
        .position(|m| m.starts_with(w))
        .map(|i| (i % 12) as i8 + 1)
}

/// Today in the clinic's zone.
pub fn today(tz: &jiff::tz::TimeZone) -> Date {
    Zoned::now().with_time_zone(tz.clone()).date()
}

/// A date of birth no later than yesterday and no more than 130 years ago.
pub fn plausible_birth_date(d: Date) -> bool {
    let today = Zoned::now().date();
    d < today && today.year() - d.year() <= 130
}

/// Reads a birth date. Numeric dates are month first in English and day
/// first in Spanish; ISO (YYYY-MM-DD) always works.
pub fn parse_birth_date(text: &str, lang: Lang) -> Result<Date, DateProblem> {
    let d = parse_date(text, lang)?;
    let today = Zoned::now().date();
    if d >= today {
        Err(DateProblem::InTheFuture)
    } else if today.year() - d.year() > 130 {
        Err(DateProblem::TooLongAgo)
    } else {
        Ok(d)
    }
}

fn parse_date(text: &str, lang: Lang) -> Result<Date, DateProblem> {
    let t = text.trim();
    let numbers: Vec<&str> = t
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    let words: Vec<String> = normalize::words(t).collect();
    let month_word = words.iter().find_map(|w| month_number(w));
    let (year, month, day): (i16, i8, i8) = match (numbers.as_slice(), month_word) {
        ([y, m, d], None) if y.len() == 4 => (num(y)?, num(m)?, num(d)?),
        ([a, b, y], None) if y.len() == 4 || y.len() == 2 => {
            let (m, d) = match lang {
                Lang::En => (a, b),
                Lang::Es => (b, a),
            };
            (full_year(y)?, num(m)?, num(d)?)
        }
        ([d, y], Some(m)) | ([y, d], Some(m)) if y.len() == 4 => (num(y)?, m, num(d)?),
        _ => return Err(DateProblem::Unreadable),
    };
    Date::new(year, month, day).map_err(|_| DateProblem::Impossible)
}

fn num<T: std::str::FromStr>(s: &str) -> Result<T, DateProblem> {
    s.parse().map_err(|_| DateProblem::Unreadable)
}

/// Two-digit years: 00–(this year) are this century, the rest the last.
fn full_year(y: &str) -> Result<i16, DateProblem> {
    let n: i16 = num(y)?;
    if y.len() == 4 {
        return Ok(n);
    }
    let this = Zoned::now().year() % 100;
    Ok(if n <= this { 2000 + n } else { 1900 + n })
}

/// A typed preference for when to come in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preference {
    /// Search from this day.
    pub from: Option<Date>,
    /// Only this day.
    pub on: Option<Date>,
    pub weekday: Option<Weekday>,
    pub part_of_day: Option<PartOfDay>,
}

impl Preference {
    pub fn is_empty(&self) -> bool {
        *self == Preference::default()
    }
}

const WEEKDAYS: [(&str, Weekday); 14] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
    ("lunes", Weekday::Monday),
    ("martes", Weekday::Tuesday),
    ("miercoles", Weekday::Wednesday),
    ("jueves", Weekday::Thursday),
    ("viernes", Weekday::Friday),
    ("sabado", Weekday::Saturday),
    ("domingo", Weekday::Sunday),
];

/// Reads "tomorrow afternoon", "next Tuesday", "the 14th", "next week",
/// "mañana por la tarde", "el martes", "el 14". Empty when nothing is found.
pub fn parse_preference(text: &str, today: Date) -> Preference {
    let words: Vec<String> = normalize::words(text).take(32).collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    let mut p = Preference::default();
    // "mañana" is "tomorrow", except in "por la mañana" ("in the morning").
    let manana_morning = words.windows(3).any(|w| w[1] == "la" && w[2] == "manana");
    if has("tomorrow") || (has("manana") && !manana_morning) {
        p.on = today.tomorrow().ok();
    } else if has("today") || has("hoy") {
        p.on = Some(today);
    }
    if has("morning") || manana_morning {
        p.part_of_day = Some(PartOfDay::Morning);
    } else if has("afternoon") || has("tarde") {
        p.part_of_day = Some(PartOfDay::Afternoon);
    } else if has("evening") || has("noche") || has("after work") {
        p.part_of_day = Some(PartOfDay::Evening);
    }
    if let Some((_, wd)) = WEEKDAYS
        .iter()
        .find(|(name, _)| has(name) || has(&name[..3]))
    {
        p.weekday = Some(*wd);
        let mut d = today.tomorrow().unwrap_or(today);
        while d.weekday() != *wd {
            d = d.tomorrow().unwrap_or(d);
        }
        p.on = Some(d);
    }
    if (has("next") && has("week")) || (has("proxima") && has("semana")) {
        let mut d = today.tomorrow().unwrap_or(today);
        while d.weekday() != Weekday::Monday {
            d = d.tomorrow().unwrap_or(d);
        }
        p.from = Some(d);
    }
    // "the 14th", "on the 3rd", "el 14": a day of this month, or next month
    // if that day has passed.
    if p.on.is_none() {
        let day = words.iter().find_map(|w| {
            let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let suffix_ok =
                w.len() == digits.len() || ["st", "nd", "rd", "th"].contains(&&w[digits.len()..]);
            (suffix_ok && !digits.is_empty() && digits.len() <= 2)
                .then(|| digits.parse::<i8>().ok())
                .flatten()
        });
        if let Some(day) = day.filter(|d| (1..=31).contains(d)) {
            let this_month = Date::new(today.year(), today.month(), day)
                .ok()
                .filter(|d| *d >= today);
            let next_month = today
                .first_of_month()
                .checked_add(1.month())
                .ok()
                .and_then(|m| Date::new(m.year(), m.month(), day).ok());
            p.on = this_month.or(next_month);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn birth_dates_in_the_usual_forms() {
        assert_eq!(
            parse_birth_date("1985-03-14", Lang::En),
            Ok(d("1985-03-14"))
        );
        assert_eq!(
            parse_birth_date("03/14/1985", Lang::En),
            Ok(d("1985-03-14"))
        );
        assert_eq!(
            parse_birth_date("14/03/1985", Lang::Es),
            Ok(d("1985-03-14"))
        );
        assert_eq!(
            parse_birth_date("March 14, 1985", Lang::En),
            Ok(d("1985-03-14"))
        );
        assert_eq!(
            parse_birth_date("14 de marzo de 1985", Lang::Es),
            Ok(d("1985-03-14"))
        );
        assert_eq!(
            parse_birth_date("02/30/1985", Lang::En),
            Err(DateProblem::Impossible)
        );
        assert_eq!(
            parse_birth_date("01/01/2999", Lang::En),
            Err(DateProblem::InTheFuture)
        );
        assert_eq!(
            parse_birth_date("01/01/1800", Lang::En),
            Err(DateProblem::TooLongAgo)
        );
        assert_eq!(
            parse_birth_date("my birthday", Lang::En),
            Err(DateProblem::Unreadable)
        );
    }

    #[test]
    fn preferences_in_english_and_spanish() {
        let monday = d("2026-11-30");
        let p = parse_preference("tomorrow afternoon", monday);
        assert_eq!(
            (p.on, p.part_of_day),
            (Some(d("2026-12-01")), Some(PartOfDay::Afternoon))
        );
        assert_eq!(
            parse_preference("next Thursday", monday).on,
            Some(d("2026-12-03"))
        );
        assert_eq!(
            parse_preference("the 14th", monday).on,
            Some(d("2026-12-14"))
        );
        assert_eq!(
            parse_preference("the 2nd", d("2026-11-20")).on,
            Some(d("2026-12-02"))
        );
        assert_eq!(
            parse_preference("next week", monday).from,
            Some(d("2026-12-07"))
        );
        let es = parse_preference("mañana por la tarde", monday);
        assert_eq!(
            (es.on, es.part_of_day),
            (Some(d("2026-12-01")), Some(PartOfDay::Afternoon))
        );
        let es = parse_preference("el martes por la mañana", monday);
        assert_eq!(
            (es.on, es.part_of_day),
            (Some(d("2026-12-01")), Some(PartOfDay::Morning))
        );
        assert!(parse_preference("whenever works", monday).is_empty());
    }
}
