//! What the bot says next. The engine takes a patient's turn and returns the
//! replies to store and send; it knows nothing of WebSockets or JSON, so the
//! same engine serves the chat, the `answer` command and tests.

use crate::lang::Lang;
use crate::transcript::{Details, Sender};

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
}

/// What the engine remembers about one conversation between turns.
#[derive(Debug, Clone, Default)]
pub struct DialogState {
    pub lang: Lang,
}

impl DialogState {
    pub fn new(lang: Lang) -> Self {
        DialogState { lang }
    }
}

/// The conversation engine. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Engine {}

impl Engine {
    pub fn new() -> Self {
        Engine {}
    }

    /// The first bot message of every conversation: who is talking, and what
    /// this chat is not for.
    pub fn greeting(&self, lang: Lang) -> Reply {
        Reply::bot(match lang {
            Lang::En => {
                "Hi, I'm the clinic's automated assistant. I can help with questions about \
                 visits, billing, records and more. I can't give medical advice, and this chat \
                 is not for emergencies: if you have one, call 911."
            }
            Lang::Es => {
                "Hola, soy el asistente automático de la clínica. Puedo ayudarle con preguntas \
                 sobre citas, facturación, expedientes y más. No doy consejos médicos y este chat \
                 no es para emergencias: si tiene una, llame al 911."
            }
        })
    }

    /// The replies to one patient turn, in order.
    pub async fn respond(&self, state: &mut DialogState, turn: Turn<'_>) -> Vec<Reply> {
        let _ = turn;
        vec![Reply::bot(match state.lang {
            Lang::En => {
                "Thanks, I've saved your message. I can't answer questions in this chat yet; \
                 please call the front desk and a person will help you."
            }
            Lang::Es => {
                "Gracias, guardé su mensaje. Todavía no puedo responder preguntas en este chat; \
                 llame a recepción y una persona le ayudará."
            }
        })]
    }
}
