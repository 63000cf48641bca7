//! What the bot says next. The engine takes a patient's turn and returns the
//! replies to store and send, plus at most one action for the caller (hand
//! over to a person, save a callback request); it knows nothing of
//! WebSockets or JSON, so the same engine serves the chat and tests.

pub mod callback;
mod faq;
pub mod intents;
mod text;

use crate::knowledge::Knowledge;
use crate::lang::Lang;
use crate::queue::Reason;
use crate::transcript::{Choice, Details, Sender};

pub use callback::Unavailable;
use text::t;

/// Choice values the engine understands, beyond `article:<id>`.
pub const CHOICE_HANDOFF: &str = "handoff";
pub const CHOICE_NONE: &str = "none";

/// One patient message as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    pub text: &'a str,
    /// The value of the choice button the patient pressed, if any.
    pub choice: Option<&'a str>,
}

/// Something the bot (or the system) says.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub sender: Sender,
    pub text: String,
    pub details: Details,
}

impl Reply {
    pub fn bot(text: impl Into<String>) -> Self {
        Reply {
            sender: Sender::Bot,
            text: text.into(),
            details: Details::default(),
        }
    }

    pub fn bot_with(text: impl Into<String>, choices: Vec<Choice>) -> Self {
        let mut reply = Reply::bot(text);
        reply.details.choices = choices;
        reply
    }

    pub fn system(text: impl Into<String>) -> Self {
        Reply {
            sender: Sender::System,
            text: text.into(),
            details: Details::default(),
        }
    }
}

/// What the caller must do besides sending the replies.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Hand the conversation to a person, for this reason.
    Escalate(Reason),
    /// Store this callback request.
    SaveCallback(callback::Details),
}

/// The result of one turn.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub replies: Vec<Reply>,
    pub action: Option<Action>,
}

impl Outcome {
    pub fn reply(reply: Reply) -> Self {
        Outcome {
            replies: vec![reply],
            action: None,
        }
    }

    pub fn escalate(reason: Reason) -> Self {
        Outcome {
            replies: Vec::new(),
            action: Some(Action::Escalate(reason)),
        }
    }
}

/// What the engine remembers about one conversation between turns.
#[derive(Debug, Clone, Default)]
pub struct DialogState {
    pub lang: Lang,
    /// Questions in a row the bot could not answer.
    misses: u8,
    /// The bot's last message offered choices between articles.
    clarifying: bool,
    /// Set while collecting a callback request.
    callback: Option<callback::Step>,
}

impl DialogState {
    pub fn new(lang: Lang) -> Self {
        DialogState {
            lang,
            ..DialogState::default()
        }
    }
}

/// The conversation engine. Cheap to share behind an `Arc`.
pub struct Engine {
    knowledge: Knowledge,
}

impl Engine {
    pub fn new(knowledge: Knowledge) -> Self {
        Engine { knowledge }
    }

    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// The first bot message of every conversation: who is talking, and what
    /// this chat is not for.
    pub fn greeting(&self, lang: Lang) -> Reply {
        Reply::bot(t(
            lang,
            "Hi, I'm the clinic's automated assistant. I can help with questions about visits, \
             billing, records and more. I can't give medical advice, and this chat is not for \
             emergencies: if you have one, call 911.",
            "Hola, soy el asistente automático de la clínica. Puedo ayudarle con preguntas sobre \
             citas, facturación, expedientes y más. No doy consejos médicos y este chat no es para \
             emergencias: si tiene una, llame al 911.",
        ))
    }

    /// The replies to one patient turn, in order, and what else to do.
    pub async fn respond(&self, state: &mut DialogState, turn: Turn<'_>) -> Outcome {
        let lang = state.lang;
        if let Some(step) = state.callback.take() {
            let (next, outcome) = callback::step(lang, step, turn.text, turn.choice);
            state.callback = next;
            return outcome;
        }
        let was_clarifying = std::mem::take(&mut state.clarifying);
        match turn.choice {
            Some(CHOICE_HANDOFF) => return Outcome::escalate(Reason::PatientRequest),
            Some(CHOICE_NONE) => return Outcome::escalate(Reason::LowConfidence),
            Some(value) => {
                if let Some(outcome) = faq::chosen_article(&self.knowledge, state, value) {
                    return outcome;
                }
            }
            None => {}
        }
        if intents::wants_person(turn.text) {
            return Outcome::escalate(Reason::PatientRequest);
        }
        if intents::sounds_frustrated(turn.text) {
            return Outcome::escalate(Reason::Frustration);
        }
        if let Some(talk) = intents::small_talk(turn.text) {
            return Outcome::reply(faq::small_talk_reply(lang, talk));
        }
        faq::answer(&self.knowledge, state, turn.text, was_clarifying).await
    }

    /// Starts the offline path: offers to take a callback request.
    pub fn offline(&self, state: &mut DialogState, why: Unavailable) -> Outcome {
        let (step, reply) = callback::offer(state.lang, why);
        state.callback = Some(step);
        state.clarifying = false;
        Outcome::reply(reply)
    }

    /// What the patient is told when the chat joins the queue.
    pub fn queued_notice(&self, lang: Lang) -> Reply {
        Reply::system(t(
            lang,
            "I'm connecting you with a member of our front-desk team. They'll see this conversation, so you won't need to repeat yourself. You can keep typing while you wait.",
            "Le estoy comunicando con una persona de nuestro equipo de recepción. Verá esta conversación, así que no tendrá que repetir nada. Puede seguir escribiendo mientras espera.",
        ))
    }

    /// What the patient is told when the agent hands the chat back.
    pub fn back_to_bot_notice(&self, lang: Lang) -> Reply {
        Reply::system(t(
            lang,
            "You're chatting with the automated assistant again. Ask me anything, or choose \"Talk to a person\" at any time.",
            "Está hablando de nuevo con el asistente automático. Pregúnteme lo que necesite o elija \"Hablar con una persona\" en cualquier momento.",
        ))
    }

    /// The bot's state resets after a person took over.
    pub fn reset(&self, state: &mut DialogState) {
        *state = DialogState::new(state.lang);
    }
}
