//! Recognising what a patient wants beyond a question: a person, an exit
//! from a flow, small talk, or that they are fed up. English and Spanish;
//! words are folded (lowercase, no accents) before matching.

use crate::utterance::Utterance;

/// Words that name a person to talk to.
const PEOPLE: &[&str] = &[
    "person",
    "human",
    "agent",
    "representative",
    "rep",
    "operator",
    "someone",
    "somebody",
    "staff",
    "receptionist",
    "people",
    "persona",
    "humano",
    "agente",
    "representante",
    "operador",
    "operadora",
    "alguien",
    "recepcionista",
];
/// Stems of verbs that ask to be put through ("talk", "comunicarme").
const ASK_VERBS: &[&str] = &[
    "talk", "speak", "chat", "connect", "transfer", "call", "habl", "comunic", "conect", "pas",
    "llam",
];

/// The patient asks for a person ("talk to a human", "agent please",
/// "quiero hablar con una persona").
pub fn wants_person(said: &Utterance) -> bool {
    let words = said.first_words(64);
    let names_person = |w: &String| PEOPLE.contains(&w.as_str());
    if !words.iter().any(names_person) {
        return false;
    }
    // Short messages that name a person are requests ("agent", "human please").
    if words.len() <= 4 {
        return true;
    }
    // "talk to a person", "hablar con una persona": the verb comes first and
    // the person within a few words ("someone who speaks Spanish" is not a request).
    let is_verb = |w: &String| ASK_VERBS.iter().any(|v| w.starts_with(v));
    let has_verb = words
        .iter()
        .enumerate()
        .any(|(i, w)| is_verb(w) && words.iter().skip(i + 1).take(4).any(names_person));
    let real_person = words.windows(2).any(|p| {
        matches!(
            (p[0].as_str(), p[1].as_str()),
            ("real", "person") | ("live", "person") | ("live", "agent") | ("actual", "person")
        )
    });
    has_verb || real_person
}

/// The patient wants out of the current flow.
pub fn wants_to_stop(said: &Utterance) -> bool {
    let folded: String = said.first_words(8).join(" ");
    [
        "never mind",
        "nevermind",
        "cancel",
        "stop",
        "forget it",
        "quit",
        "exit",
        "no thanks",
        "olvidalo",
        "olvidelo",
        "cancelar",
        "no gracias",
        "dejalo",
        "ya no",
    ]
    .iter()
    .any(|p| folded == *p || (folded.starts_with(p) && folded.len() <= p.len() + 12))
}

const FRUSTRATION: &[&str] = &[
    "useless",
    "not helpful",
    "not helping",
    "doesnt help",
    "does not help",
    "stupid",
    "ridiculous",
    "frustrated",
    "frustrating",
    "annoying",
    "waste of time",
    "this is terrible",
    "you dont understand",
    "not what i asked",
    "no sirve",
    "inutil",
    "no me ayuda",
    "no entiendes",
    "que frustrante",
    "estoy harto",
    "estoy harta",
    "perdida de tiempo",
];

/// The patient sounds fed up with the bot.
pub fn sounds_frustrated(said: &Utterance) -> bool {
    let text = said.text();
    let folded: String = said
        .first_words(64)
        .iter()
        .map(|w| w.replace('\'', ""))
        .collect::<Vec<_>>()
        .join(" ");
    let phrase = FRUSTRATION.iter().any(|p| contains_phrase(&folded, p));
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let shouting = letters.len() >= 12 && letters.iter().all(|c| !c.is_lowercase());
    phrase || shouting || text.contains("!!!") || text.contains("???")
}

fn contains_phrase(haystack: &str, phrase: &str) -> bool {
    haystack == phrase
        || haystack.starts_with(&format!("{phrase} "))
        || haystack.ends_with(&format!(" {phrase}"))
        || haystack.contains(&format!(" {phrase} "))
}

/// Conversational niceties that deserve a short answer, not a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallTalk {
    Hello,
    Thanks,
    Bye,
    AreYouABot,
    Yes,
    No,
}

/// Recognises a whole message of small talk; questions with small talk in
/// them ("hi, I need a refill") are not small talk.
pub fn small_talk(said: &Utterance) -> Option<SmallTalk> {
    let words = said.first_words(16);
    if words.is_empty() || words.len() > 7 {
        return None;
    }
    let joined = words.join(" ");
    let all_in = |set: &[&str]| words.iter().all(|w| set.contains(&w.as_str()));
    const HELLO: &[&str] = &[
        "hi",
        "hello",
        "hey",
        "hiya",
        "good",
        "morning",
        "afternoon",
        "evening",
        "there",
        "hola",
        "buenos",
        "buenas",
        "dias",
        "tardes",
        "noches",
        "saludos",
        "bot",
    ];
    const THANKS: &[&str] = &[
        "thanks", "thank", "you", "so", "much", "thx", "ty", "great", "ok", "okay", "perfect",
        "awesome", "cool", "gracias", "muchas", "muy", "amable", "vale", "perfecto", "that",
        "helps", "helped", "very", "helpful",
    ];
    const BYE: &[&str] = &[
        "bye", "goodbye", "see", "you", "later", "have", "a", "nice", "good", "day", "adios",
        "hasta", "luego", "pronto", "chao",
    ];
    if [
        "are you a bot",
        "are you a robot",
        "are you human",
        "are you a real person",
        "am i talking to a bot",
        "is this a bot",
        "eres un robot",
        "eres un bot",
        "eres humano",
        "eres una persona",
        "es un robot",
    ]
    .iter()
    .any(|p| joined.starts_with(p))
    {
        return Some(SmallTalk::AreYouABot);
    }
    if all_in(&[
        "yes", "yeah", "yep", "sure", "si", "claro", "please", "por", "favor", "ok", "okay",
    ]) {
        return Some(SmallTalk::Yes);
    }
    if all_in(&[
        "no", "nope", "nah", "not", "now", "thanks", "gracias", "ahora",
    ]) && words
        .iter()
        .any(|w| matches!(w.as_str(), "no" | "nope" | "nah"))
    {
        return Some(SmallTalk::No);
    }
    if all_in(HELLO) {
        return Some(SmallTalk::Hello);
    }
    if words
        .iter()
        .any(|w| w.starts_with("thank") || w == "gracias" || w == "thx")
        && all_in(THANKS)
    {
        return Some(SmallTalk::Thanks);
    }
    if all_in(BYE)
        && words
            .iter()
            .any(|w| matches!(w.as_str(), "bye" | "goodbye" | "adios" | "chao" | "hasta"))
    {
        return Some(SmallTalk::Bye);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(text: &str) -> Utterance {
        Utterance::analyse(text)
    }

    #[test]
    fn explicit_requests_for_a_person_are_recognised() {
        for yes in [
            "agent",
            "Human please",
            "representative!",
            "I want to talk to a real person",
            "can I speak with someone at the front desk",
            "Quiero hablar con una persona",
            "operador",
            "comunicarme con un agente por favor",
        ] {
            assert!(wants_person(&said(yes)), "{yes}");
        }
        for no in [
            "Can a person pick up my prescription for me?",
            "what are your hours",
            "is there someone who speaks Spanish at the Riverside clinic on Saturdays",
        ] {
            assert!(!wants_person(&said(no)), "{no}");
        }
    }

    #[test]
    fn small_talk_is_whole_messages_only() {
        assert_eq!(small_talk(&said("Hello!")), Some(SmallTalk::Hello));
        assert_eq!(small_talk(&said("buenos días")), Some(SmallTalk::Hello));
        assert_eq!(small_talk(&said("thanks so much")), Some(SmallTalk::Thanks));
        assert_eq!(small_talk(&said("Gracias")), Some(SmallTalk::Thanks));
        assert_eq!(small_talk(&said("bye")), Some(SmallTalk::Bye));
        assert_eq!(
            small_talk(&said("are you a bot?")),
            Some(SmallTalk::AreYouABot)
        );
        assert_eq!(small_talk(&said("hi, I need a refill")), None);
        assert_eq!(small_talk(&said("")), None);
    }

    #[test]
    fn frustration_and_exits_are_recognised() {
        assert!(sounds_frustrated(&said("this is useless")));
        assert!(sounds_frustrated(&said("WHY CAN'T I GET AN ANSWER")));
        assert!(sounds_frustrated(&said("no sirve para nada")));
        assert!(!sounds_frustrated(&said(
            "Is the flu shot useful for kids?"
        )));
        assert!(wants_to_stop(&said("never mind")));
        assert!(wants_to_stop(&said("Cancel")));
        assert!(wants_to_stop(&said("olvídelo")));
        assert!(!wants_to_stop(&said("how do I cancel my appointment")));
    }
}

/// A request to book, cancel or move an appointment ("I need an
/// appointment", "can I see Dr. Lee next week", "cancel my appointment",
/// "necesito una cita"). Questions about the policy ("what is your
/// cancellation policy?") are not requests.
pub fn booking_intent(said: &Utterance) -> Option<super::booking::Intent> {
    use super::booking::Intent;
    let words = said.first_words(40);
    let has = |w: &str| words.iter().any(|x| x == w);
    let any = |ws: &[&str]| ws.iter().any(|w| has(w));
    if any(&["policy", "fee", "politica", "cargo", "multa"]) {
        return None;
    }
    let appointment = any(&[
        "appointment",
        "appointments",
        "appt",
        "visit",
        "cita",
        "citas",
        "consulta",
    ]);
    let mine = any(&[
        "my", "mi", "need", "want", "have", "to", "necesito", "quiero", "tengo",
    ]);
    if any(&["reschedule", "reprogramar", "reagendar"])
        || (any(&["change", "move", "cambiar", "mover"]) && appointment && mine)
    {
        return Some(Intent::Reschedule);
    }
    if any(&["cancel", "cancelar", "anular"]) && (appointment || mine) {
        return Some(Intent::Cancel);
    }
    let asks = any(&[
        "book",
        "make",
        "schedule",
        "need",
        "want",
        "get",
        "set",
        "necesito",
        "quiero",
        "hacer",
        "pedir",
        "agendar",
        "sacar",
        "programar",
        "reservar",
    ]);
    let see = words.windows(2).any(|w| {
        w[0] == "see"
            && matches!(
                w[1].as_str(),
                "dr" | "doctor" | "a" | "the" | "someone" | "nurse"
            )
    });
    if (appointment && asks) || see || (has("book") && words.len() <= 6) {
        return Some(Intent::Book);
    }
    None
}

/// Where a message uses a verb that asks for something ("I *need* a flu
/// shot", "can I *get* a checkup"), by word index; none when it asks about
/// something instead ("how much is a flu shot?", "should I get one").
/// Cheap, so it runs before anything looks for a kind of appointment.
pub fn request_verbs(said: &Utterance) -> Vec<usize> {
    let words = said.first_words(60);
    let first = words.first().map(String::as_str).unwrap_or_default();
    let asking_about = [
        "what", "where", "when", "how", "why", "who", "which", "do", "does", "is", "are", "should",
        "que", "donde", "cuando", "como", "cual", "debo", "es", "hay",
    ];
    let money = [
        "cost",
        "costs",
        "price",
        "much",
        "pay",
        "cover",
        "covered",
        "insurance",
        "free",
        "cuesta",
        "cuanto",
        "precio",
        "pagar",
        "seguro",
        "cubre",
        "gratis",
    ];
    let verbs = [
        "need",
        "want",
        "get",
        "book",
        "schedule",
        "make",
        "like",
        "necesito",
        "quiero",
        "quisiera",
        "agendar",
        "reservar",
        "sacar",
        "pedir",
        "programar",
        "hacer",
    ];
    if asking_about.contains(&first) || words.iter().any(|w| money.contains(&w.as_str())) {
        return Vec::new();
    }
    words
        .iter()
        .enumerate()
        .filter(|(_, w)| verbs.contains(&w.as_str()))
        .map(|(i, _)| i)
        .collect()
}

/// Whether one of the request `verbs` comes shortly before word `at` ("I
/// need a flu shot"), and not far from it ("I need my records from my
/// physical").
pub fn requests_at(verbs: &[usize], at: usize) -> bool {
    verbs.iter().any(|v| *v < at && at - v <= 3)
}

#[cfg(test)]
mod booking_tests {
    use super::super::booking::Intent;
    use super::{booking_intent, request_verbs, requests_at};
    use crate::utterance::Utterance;

    fn verbs(text: &str) -> Vec<usize> {
        request_verbs(&Utterance::analyse(text))
    }

    #[test]
    fn a_request_is_a_verb_just_before_what_it_asks_for() {
        let near = verbs("I need a flu shot next tuesday");
        assert!(requests_at(&near, 3), "{near:?}");
        let far = verbs("I need my records from my physical");
        assert!(!requests_at(&far, 6), "{far:?}");
        for asking in [
            "how much is a flu shot",
            "can I get a flu shot, is it covered",
            "where do I park",
        ] {
            assert!(verbs(asking).is_empty(), "{asking}");
        }
    }

    #[test]
    fn booking_requests_are_recognised_in_both_languages() {
        for (text, want) in [
            ("I need an appointment", Some(Intent::Book)),
            ("can I see Dr. Lee next week", Some(Intent::Book)),
            ("necesito una cita", Some(Intent::Book)),
            ("cancel my appointment", Some(Intent::Cancel)),
            ("quiero cancelar mi cita", Some(Intent::Cancel)),
            ("I need to reschedule", Some(Intent::Reschedule)),
            ("what is your cancellation policy?", None),
            ("do you take Medicare", None),
        ] {
            assert_eq!(booking_intent(&Utterance::analyse(text)), want, "{text}");
        }
    }
}
