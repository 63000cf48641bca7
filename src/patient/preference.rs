//! How a patient likes to be reached, kept between visits: a channel and
//! the number or address it needs, which always go together (a number is
//! called or texted, an address is e-mailed), and the short hint the bot
//! says instead of the whole value ("the number ending 1234").

use super::{Channel, Contact, Invalid};

/// A channel with the number or address it needs: a phone number for a
/// call or a text, an e-mail address for e-mail. Serialises as
/// `{"channel":"text","contact":"555-010-1234"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    channel: Channel,
    contact: Contact,
}

impl Preference {
    /// `contact` reached by `channel`; `Mismatch` for an address to call or
    /// a number to e-mail.
    pub fn new(channel: Channel, contact: Contact) -> Result<Preference, Invalid> {
        contact
            .fits(channel)
            .then_some(Preference { channel, contact })
            .ok_or(Invalid::Mismatch)
    }

    /// As stored: the channel's word and the number or address, each
    /// checked again by its own rule.
    pub fn from_record(channel: &str, value: &str) -> Result<Preference, Invalid> {
        let channel = Channel::parse(channel)?;
        Preference::new(channel, Contact::parse_for(channel, value)?)
    }

    pub fn channel(&self) -> Channel {
        self.channel
    }

    pub fn contact(&self) -> &Contact {
        &self.contact
    }

    /// The same number or address by `channel` (a text instead of a call),
    /// when it can be reached that way.
    pub fn by(&self, channel: Channel) -> Option<Preference> {
        Preference::new(channel, self.contact.clone()).ok()
    }
}

impl serde::Serialize for Preference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Preference", 2)?;
        out.serialize_field("channel", &self.channel)?;
        out.serialize_field("contact", self.contact.as_str())?;
        out.end()
    }
}

impl Contact {
    /// Whether `channel` can use this: a number for calls and texts, an
    /// address for e-mail.
    pub fn fits(&self, channel: Channel) -> bool {
        matches!(
            (self, channel),
            (Contact::Phone(_), Channel::Phone | Channel::Text)
                | (Contact::Email(_), Channel::Email)
        )
    }

    /// Enough to recognise it, not enough to learn it: a number's last four
    /// digits (`1234`), an address's first letter and its domain
    /// (`a…@example.com`).
    pub fn hint(&self) -> String {
        match self {
            Contact::Phone(p) => {
                let digits: Vec<char> = p.as_str().chars().filter(char::is_ascii_digit).collect();
                digits[digits.len().saturating_sub(4)..].iter().collect()
            }
            Contact::Email(e) => {
                let (local, domain) = e.as_str().split_once('@').unwrap_or_default();
                let first: String = local.chars().take(1).collect();
                format!("{first}…@{domain}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::{Email, PhoneNumber};

    fn phone() -> Contact {
        Contact::Phone(PhoneNumber::parse("+1 (555) 010-1234").unwrap())
    }

    fn email() -> Contact {
        Contact::Email(Email::parse("ana.ruiz@example.com").unwrap())
    }

    #[test]
    fn a_channel_goes_with_what_it_needs() {
        assert!(Preference::new(Channel::Text, phone()).is_ok());
        assert!(Preference::new(Channel::Phone, phone()).is_ok());
        assert!(Preference::new(Channel::Email, email()).is_ok());
        assert_eq!(
            Preference::new(Channel::Email, phone()),
            Err(Invalid::Mismatch)
        );
        assert_eq!(
            Preference::new(Channel::Text, email()),
            Err(Invalid::Mismatch)
        );
        let text = Preference::new(Channel::Text, phone()).unwrap();
        assert_eq!(text.by(Channel::Phone).unwrap().channel(), Channel::Phone);
        assert_eq!(text.by(Channel::Email), None);
    }

    #[test]
    fn stored_rows_are_checked_again() {
        let p = Preference::from_record("text", "555-010-1234").unwrap();
        assert_eq!(p.channel(), Channel::Text);
        assert_eq!(p.contact().as_str(), "555-010-1234");
        assert_eq!(
            Preference::from_record("fax", "555-010-1234"),
            Err(Invalid::Channel)
        );
        assert_eq!(
            Preference::from_record("email", "555-010-1234"),
            Err(Invalid::Email)
        );
        assert_eq!(Preference::from_record("phone", "12"), Err(Invalid::Phone));
    }

    #[test]
    fn a_hint_shows_only_the_end_of_a_number_and_the_start_of_an_address() {
        assert_eq!(phone().hint(), "1234");
        assert_eq!(email().hint(), "a…@example.com");
    }

    #[test]
    fn it_serialises_as_channel_and_contact() {
        let p = Preference::new(Channel::Email, email()).unwrap();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"channel": "email", "contact": "ana.ruiz@example.com"})
        );
    }
}
