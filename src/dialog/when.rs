//! Dates as patients type them: birth dates ("03/14/1985", "March 14 1985",
//! "14 de marzo de 1985") and slot preferences ("tomorrow afternoon", "next
//! Tuesday", "the 14th", "el martes por la mañana").

use jiff::civil::{Date, Weekday};
use jiff::{ToSpan, Zoned};

use crate::appointments::PartOfDay;
use crate::lang::{Lang, MONTHS_EN, MONTHS_ES};
use crate::patient::{BirthDate, DateProblem};
use crate::utterance::Utterance;

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

/// Reads a birth date. Numeric dates are month first in English and day
/// first in Spanish; ISO (YYYY-MM-DD) always works.
pub fn parse_birth_date(said: &Utterance, lang: Lang) -> Result<BirthDate, DateProblem> {
    BirthDate::new(parse_date(said.text(), said.words(), lang)?)
}

fn parse_date(text: &str, words: &[String], lang: Lang) -> Result<Date, DateProblem> {
    let t = text.trim();
    let numbers: Vec<&str> = t
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
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
    /// The hour of a clock time ("at 3pm": 15), 0–23.
    pub hour: Option<i8>,
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

/// Words before a bare number that make it a clock time ("at 3", "a las 3").
const CLOCK_LEAD: [&str; 7] = ["at", "around", "about", "after", "before", "las", "la"];
/// Words after a number that make it a clock time ("3 pm", "10 o'clock").
const CLOCK_TAIL: [&str; 6] = ["am", "pm", "o'clock", "o\u{2019}clock", "oclock", "h"];

/// A clock time a patient typed.
struct ClockTime {
    /// 0–23.
    hour: i8,
    /// "before 3": a bound, not the time wanted.
    before: bool,
    /// The words it took, so they are not read as a day of the month.
    taken: Vec<usize>,
}

/// A clock time in `words`: "3pm", "at 3", "10:30 am", "a las 3". Without
/// am/pm, 1–6 is the afternoon (a clinic's "at 3").
fn clock_time(text: &str, words: &[String]) -> Option<ClockTime> {
    let two_digits = |w: &str| {
        w.as_bytes()
            .get(..2)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    // "10:30" is two words, "10" and "30".
    let colon = text
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit());
    for (i, w) in words.iter().enumerate() {
        let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(hour) = digits.parse::<i8>() else {
            continue;
        };
        let suffix = &w[digits.len()..];
        let next = words.get(i + 1).map(String::as_str);
        // "after 2 weeks", "in 2 hours": a span, not a time.
        if next
            .is_some_and(|n| span(1, n).is_some() || n.starts_with("hour") || n.starts_with("hora"))
        {
            continue;
        }
        let minutes = colon && suffix.is_empty() && next.is_some_and(two_digits);
        // What may say am/pm: the number's own ending ("3pm"), the minutes'
        // ("3:30pm"), or the word after ("3 pm", "3:30 pm"), with its index.
        let (tail, tail_index) = match next {
            Some(n) if minutes && n.len() > 2 => (Some(&n[2..]), None),
            _ if minutes => (words.get(i + 2).map(String::as_str), Some(i + 2)),
            _ if suffix.is_empty() => (next, Some(i + 1)),
            _ => (Some(suffix), None),
        };
        let tailed = tail.is_some_and(|t| CLOCK_TAIL.contains(&t));
        let led = i > 0 && CLOCK_LEAD.contains(&words[i - 1].as_str());
        if !(minutes || led || tailed) {
            continue;
        }
        let hour = match (tail.filter(|t| *t == "am" || *t == "pm"), hour) {
            (_, h) if h > 23 => continue,
            (Some("pm"), h @ 1..=11) => h + 12,
            (Some("am"), 12) => 0,
            (Some(_), h) if h > 12 => continue,
            (Some(_), h) => h,
            (None, h @ 1..=6) => h + 12,
            (None, h) => h,
        };
        let mut taken = vec![i];
        if minutes {
            taken.push(i + 1);
        }
        if tailed {
            taken.extend(tail_index);
        }
        return Some(ClockTime {
            hour,
            before: led && words[i - 1] == "before",
            taken,
        });
    }
    None
}

/// `n` of `unit` ("2 weeks", "3 días"), if `unit` is days, weeks or months.
fn span(n: i64, unit: &str) -> Option<jiff::Span> {
    Some(match unit {
        "day" | "days" | "dia" | "dias" => n.days(),
        "week" | "weeks" | "semana" | "semanas" => n.weeks(),
        "month" | "months" | "mes" | "meses" => n.months(),
        _ => return None,
    })
}

/// "in 2 weeks", "en 3 días": the number's index and how far ahead it is.
fn span_ahead(words: &[String]) -> Option<(usize, jiff::Span)> {
    words.iter().enumerate().find_map(|(i, w)| {
        let n: i64 = w.parse().ok().filter(|n| (1..=365).contains(n))?;
        Some((i, span(n, words.get(i + 1)?)?))
    })
}

/// Reads "tomorrow afternoon", "next Tuesday", "the 14th", "next week",
/// "Monday at 3pm", "in 2 weeks", "mañana por la tarde", "el martes", "el 14".
/// A clock time narrows to its part of the day. Empty when nothing is found.
pub fn parse_preference(said: &Utterance, today: Date) -> Preference {
    let (text, words) = (said.text(), said.first_words(32));
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
    let clock = clock_time(text, words);
    if let Some(ClockTime {
        hour,
        before: false,
        ..
    }) = clock
    {
        p.hour = Some(hour);
        let part = match hour {
            0..=11 => PartOfDay::Morning,
            12..=16 => PartOfDay::Afternoon,
            _ => PartOfDay::Evening,
        };
        p.part_of_day = p.part_of_day.or(Some(part));
    }
    let mut not_a_day = clock.map(|c| c.taken).unwrap_or_default();
    if let Some((i, ahead)) = span_ahead(words) {
        not_a_day.push(i);
        if p.on.is_none() && p.from.is_none() {
            p.from = today.checked_add(ahead).ok();
        }
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
        let day = words.iter().enumerate().find_map(|(i, w)| {
            if not_a_day.contains(&i) {
                return None;
            }
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

    fn parse_birth_date(text: &str, lang: Lang) -> Result<Date, DateProblem> {
        super::parse_birth_date(&Utterance::analyse(text), lang).map(BirthDate::date)
    }

    fn parse_preference(text: &str, today: Date) -> Preference {
        super::parse_preference(&Utterance::analyse(text), today)
    }

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

    /// A clock time narrows to its part of the day and is never read as a
    /// day of the month ("at 3" is not "the 3rd").
    #[test]
    fn clock_times_mean_a_part_of_the_day_not_a_date() {
        use PartOfDay::*;
        let monday = d("2026-11-30");
        let cases = [
            ("monday at 3pm", Some(d("2026-12-07")), Some(Afternoon)),
            ("3 pm tomorrow", Some(d("2026-12-01")), Some(Afternoon)),
            ("at 10:30", None, Some(Morning)),
            ("10:30am please", None, Some(Morning)),
            ("3:30pm", None, Some(Afternoon)),
            ("yesterday at 3", None, Some(Afternoon)),
            ("around 9", None, Some(Morning)),
            ("10 o'clock", None, Some(Morning)),
            ("after 6pm", None, Some(Evening)),
            ("12pm", None, Some(Afternoon)),
            ("a las 3 el martes", Some(d("2026-12-01")), Some(Afternoon)),
            ("the 14th at 5pm", Some(d("2026-12-14")), Some(Evening)),
            (
                "tomorrow morning at 11",
                Some(d("2026-12-01")),
                Some(Morning),
            ),
            ("the 3rd", Some(d("2026-12-03")), None),
            ("the 3rd or the 4th", Some(d("2026-12-03")), None),
            ("at 3ß", None, None),
            ("before 3", None, None),
        ];
        for (text, on, part) in cases {
            let p = parse_preference(text, monday);
            assert_eq!((p.on, p.part_of_day), (on, part), "{text}");
        }
        let hour = |text| parse_preference(text, monday).hour;
        assert_eq!(hour("monday at 3pm"), Some(15));
        assert_eq!(hour("10:30am"), Some(10));
        assert_eq!(hour("12am"), Some(0));
        assert_eq!(hour("a las 8"), Some(8));
        assert_eq!(hour("before 3"), None, "a bound, not the time wanted");
        // A span is how far ahead to look, not a date or a time.
        for (text, from) in [
            ("after 2 weeks", "2026-12-14"),
            ("in about 3 days", "2026-12-03"),
            ("en 1 mes", "2026-12-30"),
        ] {
            let p = parse_preference(text, monday);
            assert_eq!(
                (p.from, p.on, p.part_of_day),
                (Some(d(from)), None, None),
                "{text}"
            );
        }
        // Half a number and a colon is nothing to read, and no panic.
        parse_preference("10:3ß 10:30ß at ß3 3ß: 3ß pm", monday);
    }

    proptest::proptest! {
        /// Whatever a patient types (digits, colons and letters of any
        /// width mixed), reading it as a time to come in never panics.
        #[test]
        fn reading_a_preference_never_panics(text in "[0-9:apm ßé日a-z]{0,40}|\\PC{0,80}") {
            let _ = parse_preference(&text, d("2026-11-30"));
        }
    }
}
