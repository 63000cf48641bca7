//! The patient's details as the front desk takes them: a name, a date of
//! birth, a phone number or e-mail address, and how they like to be reached.
//!
//! Each is parsed once, where it enters (a chat answer, the appointments API,
//! a stored row), and carried as its own type after that, so a value of one
//! of these types has passed its rule and no other module repeats the rule.
//! This module imports nothing of the application's.

mod preference;

use std::fmt;

pub use preference::Preference;

use jiff::civil::Date;

/// Why a patient detail was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("a name has 1 to {MAX_NAME_CHARS} characters, with at least one letter")]
    Name,
    #[error("{0}")]
    BirthDate(DateProblem),
    #[error("a phone number has 10 to 15 digits")]
    Phone,
    #[error("not an e-mail address")]
    Email,
    #[error("a channel is phone, text or email")]
    Channel,
    /// An address to call or text, or a number to e-mail.
    #[error("a phone number is called or texted, an e-mail address is written to")]
    Mismatch,
}

/// What is wrong with a date of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateProblem {
    #[error("not a date")]
    Unreadable,
    /// Looks like a date but is not one (February 30th).
    #[error("no such date")]
    Impossible,
    #[error("a date of birth is in the past")]
    InTheFuture,
    #[error("a date of birth is at most {MAX_AGE_YEARS} years ago")]
    TooLongAgo,
}

/// The longest name taken, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// The oldest date of birth taken, in years before today.
pub const MAX_AGE_YEARS: i16 = 130;

/// The name to book under or ask for: trimmed, 1 to 120 characters, at
/// least one of them a letter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct PatientName(String);

impl PatientName {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        let ok = !text.is_empty()
            && text.chars().count() <= MAX_NAME_CHARS
            && text.chars().any(char::is_alphabetic);
        ok.then(|| PatientName(text.to_owned()))
            .ok_or(Invalid::Name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A date of birth: a real date, before today, at most 130 years ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthDate(Date);

/// As `YYYY-MM-DD`, the way the API and the database write it.
impl serde::Serialize for BirthDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl BirthDate {
    /// A date already read (from words, say), checked against today.
    pub fn new(date: Date) -> Result<Self, DateProblem> {
        let today = jiff::Zoned::now().date();
        if date >= today {
            Err(DateProblem::InTheFuture)
        } else if today.year() - date.year() > MAX_AGE_YEARS {
            Err(DateProblem::TooLongAgo)
        } else {
            Ok(BirthDate(date))
        }
    }

    /// `YYYY-MM-DD`, as the API and the database write it.
    pub fn parse(text: &str) -> Result<Self, DateProblem> {
        let text = text.trim();
        let shaped = text.len() == 10
            && text.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shaped {
            return Err(DateProblem::Unreadable);
        }
        let date = text.parse::<Date>().map_err(|_| DateProblem::Impossible)?;
        BirthDate::new(date)
    }

    /// A date as stored when it was taken: read, but not held to today's
    /// age rule (a date accepted once stays accepted as time passes).
    pub fn from_record(text: &str) -> Result<Self, DateProblem> {
        text.trim()
            .parse::<Date>()
            .map(BirthDate)
            .map_err(|_| DateProblem::Unreadable)
    }

    pub fn date(self) -> Date {
        self.0
    }
}

impl From<DateProblem> for Invalid {
    fn from(p: DateProblem) -> Self {
        Invalid::BirthDate(p)
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A phone number as the patient typed it (digits, spaces, `+-().`), with
/// 10 to 15 digits: an area code is needed, an extension is not taken.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        let allowed = text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits = text.chars().filter(char::is_ascii_digit).count();
        (allowed && (10..=15).contains(&digits))
            .then(|| PhoneNumber(text.to_owned()))
            .ok_or(Invalid::Phone)
    }

    /// The first phone number inside a sentence ("call me at 555-010-1234.").
    pub fn find_in(text: &str) -> Option<Self> {
        text.split(|c: char| !(c.is_ascii_digit() || " +-().".contains(c)))
            .find_map(|run| PhoneNumber::parse(run.trim().trim_end_matches('.')).ok())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 (`+` and digits): kept as given when it starts
/// with `+`; ten digits are a North American number (+1); eleven starting
/// with 1 likewise. Anything else is not guessed at.
pub fn e164(number: &str) -> Option<String> {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let e164 = if number.trim_start().starts_with('+') {
        format!("+{digits}")
    } else if digits.len() == 10 {
        format!("+1{digits}")
    } else if digits.len() == 11 && digits.starts_with('1') {
        format!("+{digits}")
    } else {
        return None;
    };
    (8..=16).contains(&e164.len()).then_some(e164)
}

/// An e-mail address: one `@`, a dotted domain, no spaces or angle
/// brackets, at most 254 bytes. Whether it receives mail is not checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        let (local, domain) = text.split_once('@').ok_or(Invalid::Email)?;
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && text.len() <= 254
            && !text
                .chars()
                .any(|c| c.is_whitespace() || c == '<' || c == '>');
        ok.then(|| Email(text.to_owned())).ok_or(Invalid::Email)
    }

    /// The first address inside a sentence ("mail me at ana@example.com.").
    pub fn find_in(text: &str) -> Option<Self> {
        text.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| ",;:!?".contains(c))
                    .trim_end_matches('.')
            })
            .find_map(|w| Email::parse(w).ok())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the patient likes to be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Phone,
    Text,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Text => "text",
            Channel::Email => "email",
        }
    }

    /// The wire and storage word: `phone`, `text` or `email`.
    pub fn parse(s: &str) -> Result<Channel, Invalid> {
        match s {
            "phone" => Ok(Channel::Phone),
            "text" => Ok(Channel::Text),
            "email" => Ok(Channel::Email),
            _ => Err(Invalid::Channel),
        }
    }

    /// The form an opt-out of this channel is kept under: the number in
    /// E.164 for texts (as a STOP from it arrives), the address in lowercase
    /// for e-mail (as its unsubscribe link carries it). None for a phone
    /// call, which has no opt-out, or a number that cannot be texted.
    pub fn opt_out_key(self, address: &str) -> Option<String> {
        match self {
            Channel::Text => e164(address),
            Channel::Email => Some(address.trim().to_lowercase()),
            Channel::Phone => None,
        }
    }

    /// The channel a patient's words ask for, in English or Spanish ("a text
    /// please", "llámeme", "por correo"). `words` are the message's folded
    /// words (lowercase, accents removed), as the `Utterance` holds them.
    pub fn from_words(words: &[String]) -> Option<Channel> {
        let has = |stems: &[&str]| words.iter().any(|w| stems.iter().any(|s| w.contains(s)));
        if has(&["mail", "correo"]) {
            Some(Channel::Email)
        } else if has(&["text", "sms", "mensaje"]) {
            Some(Channel::Text)
        } else if has(&["call", "phone", "llam", "telefono"]) {
            Some(Channel::Phone)
        } else {
            None
        }
    }
}

/// Where to reach the patient: a number (called or texted) or an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Phone(PhoneNumber),
    Email(Email),
}

impl Contact {
    /// The number or address inside a sentence ("text me at 555-010-1234"),
    /// with the channel it implies: a number is called unless the words
    /// (folded, as in [`Channel::from_words`]) ask for a text. An address
    /// wins over a number.
    pub fn find_in(text: &str, words: &[String]) -> Option<(Channel, Contact)> {
        if let Some(email) = Email::find_in(text) {
            return Some((Channel::Email, Contact::Email(email)));
        }
        let phone = PhoneNumber::find_in(text)?;
        let channel = match Channel::from_words(words) {
            Some(Channel::Text) => Channel::Text,
            _ => Channel::Phone,
        };
        Some((channel, Contact::Phone(phone)))
    }

    /// A typed answer for `channel`: an address for e-mail, a number else.
    pub fn parse_for(channel: Channel, text: &str) -> Result<Contact, Invalid> {
        match channel {
            Channel::Email => Email::parse(text).map(Contact::Email),
            Channel::Phone | Channel::Text => PhoneNumber::parse(text).map(Contact::Phone),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Contact::Phone(p) => p.as_str(),
            Contact::Email(e) => e.as_str(),
        }
    }
}

/// Who an appointment is for: only what the clinic needs to see and reach
/// them. Serialises as the five fields the appointments API shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Patient {
    pub name: PatientName,
    pub dob: BirthDate,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    pub contact: Channel,
}

impl Patient {
    /// The number or address of the chosen channel, if given.
    pub fn address(&self) -> Option<&str> {
        match self.contact {
            Channel::Email => self.email.as_ref().map(Email::as_str),
            Channel::Phone | Channel::Text => self.phone.as_ref().map(PhoneNumber::as_str),
        }
    }

    /// Whether the chosen channel has what it needs: an address for e-mail,
    /// a number for calls and texts.
    pub fn reachable(&self) -> bool {
        match self.contact {
            Channel::Email => self.email.is_some(),
            Channel::Phone | Channel::Text => self.phone.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_need_a_letter() {
        assert_eq!(
            PatientName::parse("  Ana Ruiz ").unwrap().as_str(),
            "Ana Ruiz"
        );
        assert_eq!(PatientName::parse("   "), Err(Invalid::Name));
        assert_eq!(PatientName::parse("12345"), Err(Invalid::Name));
        assert!(PatientName::parse(&"a".repeat(MAX_NAME_CHARS)).is_ok());
        assert_eq!(
            PatientName::parse(&"a".repeat(MAX_NAME_CHARS + 1)),
            Err(Invalid::Name)
        );
    }

    #[test]
    fn birth_dates_are_past_and_plausible() {
        assert_eq!(
            BirthDate::parse("1985-03-14").unwrap().to_string(),
            "1985-03-14"
        );
        assert_eq!(BirthDate::parse("14/03/1985"), Err(DateProblem::Unreadable));
        assert_eq!(BirthDate::parse("1985-02-30"), Err(DateProblem::Impossible));
        assert_eq!(BirthDate::parse("1850-01-01"), Err(DateProblem::TooLongAgo));
        let tomorrow = jiff::Zoned::now().date().tomorrow().unwrap();
        assert_eq!(BirthDate::new(tomorrow), Err(DateProblem::InTheFuture));
    }

    #[test]
    fn phone_numbers_need_an_area_code() {
        assert!(PhoneNumber::parse("555-010-1234").is_ok());
        assert!(PhoneNumber::parse("+1 (555) 010 1234").is_ok());
        assert_eq!(PhoneNumber::parse("010-1234"), Err(Invalid::Phone));
        assert_eq!(
            PhoneNumber::parse("555-010-1234 ext 2"),
            Err(Invalid::Phone)
        );
    }

    #[test]
    fn email_addresses_have_a_dotted_domain() {
        assert!(Email::parse("ana@example.com").is_ok());
        assert_eq!(Email::parse("ana@example"), Err(Invalid::Email));
        assert_eq!(Email::parse("ana@.com"), Err(Invalid::Email));
        assert_eq!(Email::parse("ana @example.com"), Err(Invalid::Email));
        assert_eq!(Email::parse("<ana@example.com>"), Err(Invalid::Email));
    }

    /// Folded words, as the `Utterance` gives them.
    fn words(text: &str) -> Vec<String> {
        crate::normalize::words(text).collect()
    }

    #[test]
    fn channel_words_in_both_languages() {
        let heard = |text: &str| Channel::from_words(&words(text));
        assert_eq!(heard("a text please"), Some(Channel::Text));
        assert_eq!(heard("Llámeme, por favor"), Some(Channel::Phone));
        assert_eq!(heard("prefiero una llamada"), Some(Channel::Phone));
        assert_eq!(heard("al teléfono"), Some(Channel::Phone));
        assert_eq!(heard("por correo"), Some(Channel::Email));
        assert_eq!(heard("E-mail me"), Some(Channel::Email));
        assert_eq!(heard("whenever"), None);
        assert_eq!(Channel::parse("email"), Ok(Channel::Email));
        assert_eq!(Channel::parse("fax"), Err(Invalid::Channel));
    }

    fn found(text: &str) -> Option<(Channel, String)> {
        Contact::find_in(text, &words(text)).map(|(channel, c)| (channel, c.as_str().to_owned()))
    }

    #[test]
    fn a_contact_is_found_inside_a_sentence() {
        assert_eq!(
            found("text me at 555-010-1234 please"),
            Some((Channel::Text, "555-010-1234".to_owned()))
        );
        assert_eq!(
            found("(555) 010-1234"),
            Some((Channel::Phone, "(555) 010-1234".to_owned()))
        );
        assert_eq!(
            found("email me: ana@example.com."),
            Some((Channel::Email, "ana@example.com".to_owned()))
        );
        assert_eq!(found("call me"), None);
        assert_eq!(found("my id is 12-34"), None);
        assert_eq!(found("tomorrow at 3"), None);
    }

    #[test]
    fn contacts_are_checked_for_their_channel() {
        assert!(Contact::parse_for(Channel::Phone, "(555) 010-1234").is_ok());
        assert!(Contact::parse_for(Channel::Text, "+1 555 010 1234").is_ok());
        assert!(Contact::parse_for(Channel::Phone, "12345").is_err());
        assert!(Contact::parse_for(Channel::Phone, "call me maybe").is_err());
        assert!(Contact::parse_for(Channel::Email, "ana@example.org").is_ok());
        assert!(Contact::parse_for(Channel::Email, "ana@localhost").is_err());
        assert!(Contact::parse_for(Channel::Email, "not an email").is_err());
    }

    #[test]
    fn opt_outs_are_kept_under_one_form_per_channel() {
        let key = |c: Channel, a: &str| c.opt_out_key(a);
        assert_eq!(
            key(Channel::Text, "(555) 010-1234").as_deref(),
            Some("+15550101234")
        );
        assert_eq!(
            key(Channel::Email, " Ana@Example.COM ").as_deref(),
            Some("ana@example.com")
        );
        assert_eq!(key(Channel::Phone, "555-010-1234"), None, "calls have none");
        assert_eq!(key(Channel::Text, "020 7946 0958"), None);
    }
}
