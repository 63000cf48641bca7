//! The words of a patient asking to be reached another way from now on, in
//! English and Spanish. Matched on the message's folded words (lowercase,
//! no accents), as the `Utterance` holds them.

use crate::patient::Channel;
use crate::utterance::Utterance;

/// English verbs that say how, followed by "me … instead".
fn english_verb(word: &str) -> Option<Channel> {
    match word {
        "text" | "txt" | "sms" | "message" => Some(Channel::Text),
        "email" | "mail" => Some(Channel::Email),
        "call" | "phone" | "ring" => Some(Channel::Phone),
        _ => None,
    }
}

/// Spanish commands that say how on their own ("llámame", "textéame").
fn spanish_command(word: &str) -> Option<Channel> {
    match word {
        "llamame" | "llameme" | "llamenme" | "llamadme" => Some(Channel::Phone),
        "texteame" | "textea" | "texteeme" => Some(Channel::Text),
        _ => None,
    }
}

/// Spanish commands that need what they send ("mándame un correo").
const SPANISH_SEND: &[&str] = &[
    "mandame",
    "mandeme",
    "mandenme",
    "enviame",
    "envieme",
    "envienme",
    "escribeme",
    "escribame",
    "escribanme",
];

/// Words that state a preference ("I'd rather get a text", "prefiero
/// correo", "mejor por mensaje").
const PREFER: &[&str] = &["prefer", "rather", "prefiero", "prefiere", "mejor"];

/// The channel a patient asks to be reached by from now on: "text me
/// instead", "email me instead", "call me instead", "I'd rather get an
/// email", "mándame un correo", "mándame un mensaje", "llámame",
/// "prefiero que me llamen". A question about a preference ("is email
/// better?") and a sentence that names no channel are not requests.
pub fn asks_to_switch(said: &Utterance) -> Option<Channel> {
    let words = said.first_words(24);
    let question = said.text().trim_end().ends_with('?');
    words.iter().enumerate().find_map(|(i, word)| {
        let rest = &words[i + 1..];
        let soon = &rest[..rest.len().min(4)];
        if let Some(channel) = english_verb(word)
            && rest.first().is_some_and(|w| w == "me")
            && soon.iter().any(|w| w == "instead")
        {
            return Some(channel);
        }
        if let Some(channel) = spanish_command(word) {
            return Some(channel);
        }
        if SPANISH_SEND.contains(&word.as_str()) {
            return Channel::from_words(soon);
        }
        if !question && PREFER.contains(&word.as_str()) {
            return Channel::from_words(&rest[..rest.len().min(5)]);
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(text: &str) -> Option<Channel> {
        asks_to_switch(&Utterance::analyse(text))
    }

    #[test]
    fn requests_to_switch_in_english() {
        assert_eq!(heard("text me instead"), Some(Channel::Text));
        assert_eq!(heard("Can you email me instead?"), Some(Channel::Email));
        assert_eq!(heard("e-mail me instead please"), Some(Channel::Email));
        assert_eq!(heard("actually, call me instead"), Some(Channel::Phone));
        assert_eq!(heard("I'd rather get a text"), Some(Channel::Text));
        assert_eq!(heard("I prefer email"), Some(Channel::Email));
    }

    #[test]
    fn requests_to_switch_in_spanish() {
        assert_eq!(heard("mándame un correo"), Some(Channel::Email));
        assert_eq!(heard("Mándame un mensaje"), Some(Channel::Text));
        assert_eq!(heard("llámame"), Some(Channel::Phone));
        assert_eq!(heard("mejor escríbame por correo"), Some(Channel::Email));
        assert_eq!(heard("prefiero que me llamen"), Some(Channel::Phone));
    }

    #[test]
    fn other_messages_are_not_requests() {
        for text in [
            "can you text me my appointment time",
            "call me",
            "what is your phone number",
            "is email better?",
            "I prefer morning appointments",
            "mándame la dirección",
            "do you send text reminders",
        ] {
            assert_eq!(heard(text), None, "{text}");
        }
    }
}
