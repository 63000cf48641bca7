//! What the bot says next. The engine takes a patient's turn and returns the
//! replies to store and send, plus at most one action for the caller (hand
//! over to a person, save a callback request); it knows nothing of
//! WebSockets or JSON, so the same engine serves the chat and tests. What
//! it changes beside that action (appointments, the patient's remembered
//! contact) goes through small interfaces it owns: `booking::Calendar` and
//! `contact::ContactBook`.

pub mod booking;
pub mod callback;
pub mod contact;
mod faq;
pub mod intents;
pub mod kinds;
mod text;
pub mod when;

use crate::knowledge::{Decision, Knowledge};
use crate::lang::Lang;
use crate::patient::{Channel, Preference};
use crate::safety::{Hit, SafetyHandle};
use crate::transcript::Reason;
use crate::transcript::{Choice, Details, Sender};
use crate::utterance::Utterance;

pub use callback::Unavailable;
use text::t;

/// Choice values the engine understands, beyond `article:<id>`.
pub const CHOICE_HANDOFF: &str = "handoff";
pub const CHOICE_NONE: &str = "none";

/// One patient turn as the engine sees it: the message, analysed once at
/// the edge, and the button pressed, if any.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    pub said: &'a Utterance,
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
    /// A question the bot could not answer, for the editors' to-do list.
    pub unanswered: Option<String>,
    /// The contact a flow settled on (a callback request sent, a booking
    /// made): the engine remembers it before the outcome leaves.
    settled: Option<Preference>,
}

impl Outcome {
    pub fn reply(reply: Reply) -> Self {
        Outcome {
            replies: vec![reply],
            ..Outcome::default()
        }
    }

    pub fn escalate(reason: Reason) -> Self {
        Outcome {
            action: Some(Action::Escalate(reason)),
            ..Outcome::default()
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
    /// The question those choices were for.
    clarified: Option<String>,
    /// Set while collecting a callback request.
    callback: Option<callback::Step>,
    /// Set while booking, cancelling or rescheduling.
    booking: Option<booking::Flow>,
    /// Set after "text me instead" while waiting for the number or address
    /// the new channel needs.
    switching: Option<Channel>,
    /// Recorded on appointments booked in this conversation.
    conversation: Option<String>,
    /// The patient's client address, for the chat's daily booking limit.
    client: Option<std::net::IpAddr>,
}

impl DialogState {
    pub fn new(lang: Lang) -> Self {
        DialogState {
            lang,
            ..DialogState::default()
        }
    }

    /// Whether the turn `said` starts could change something beyond this
    /// dialog (book, cancel, check a confirmation code, which is audited
    /// and throttled, or remember how the patient likes to be reached).
    /// Other turns only search, read open times and what is remembered,
    /// and reply, so they can be worked out before the patient's message
    /// is stored.
    pub fn turn_may_write(&self, said: &Utterance) -> bool {
        self.booking.as_ref().is_some_and(booking::Flow::may_write)
            || matches!(self.callback, Some(callback::Step::Confirm(_)))
            || self.switching.is_some()
            || contact::asks_to_switch(said).is_some()
    }

    /// State for a stored conversation (appointments booked in it say so).
    pub fn for_conversation(lang: Lang, conversation: &crate::ids::ConversationId) -> Self {
        DialogState {
            lang,
            conversation: Some(conversation.to_string()),
            ..DialogState::default()
        }
    }

    /// The patient's client address (counted by the daily booking limit).
    pub fn with_client(mut self, client: std::net::IpAddr) -> Self {
        self.client = Some(client);
        self
    }
}

/// The conversation engine. Cheap to share behind an `Arc`.
pub struct Engine {
    knowledge: Knowledge,
    scheduler: std::sync::Arc<dyn booking::Calendar>,
    contacts: std::sync::Arc<dyn contact::ContactBook>,
    safety: SafetyHandle,
    kinds: kinds::KindMeanings,
}

impl Engine {
    pub fn new(
        knowledge: Knowledge,
        scheduler: std::sync::Arc<dyn booking::Calendar>,
        contacts: std::sync::Arc<dyn contact::ContactBook>,
        safety: SafetyHandle,
        embedder: crate::semantic::Embedder,
    ) -> Self {
        Engine {
            knowledge,
            scheduler,
            contacts,
            safety,
            kinds: kinds::KindMeanings::new(embedder),
        }
    }

    /// What a message says about the kind of appointment, by its words and,
    /// when the model gave it a meaning, by that.
    async fn hear_kind(&self, said: &Utterance) -> kinds::Heard {
        let clinic = self.scheduler.clinic();
        let meanings = match said.meaning() {
            Some(_) => self.kinds.get(&clinic).await,
            None => None,
        };
        kinds::hear(
            &clinic.schedule,
            said,
            meanings.as_deref(),
            kinds::KindThresholds::FITTED,
        )
    }

    /// Booking started by naming what to book ("I need a flu shot next
    /// Tuesday morning"), without the word "appointment".
    fn books_by_kind(&self, said: &Utterance) -> bool {
        // Most messages ask for nothing: they never reach the kinds' words.
        let verbs = intents::request_verbs(said);
        if verbs.is_empty() {
            return false;
        }
        let clinic = self.scheduler.clinic();
        kinds::named(&clinic.schedule, said).is_some_and(|(_, at)| intents::requests_at(&verbs, at))
    }

    /// Checks a patient message for an emergency or crisis; on a hit,
    /// returns it with the guidance to send at once. Called on every patient
    /// message before anything else, whoever is handling the chat.
    pub fn safety_check(&self, said: &Utterance, lang: Lang) -> Option<(Hit, Reply)> {
        let hit = self.safety.check(said)?;
        let guidance = Reply::system(self.safety.get().guidance(hit.kind, lang));
        Some((hit, guidance))
    }

    /// Labelled examples the learned safety signal compares with (0 without
    /// the model).
    pub fn safety_examples(&self) -> usize {
        self.safety.examples()
    }

    /// Follows the number of safety examples serving.
    pub fn subscribe_safety_examples(&self) -> tokio::sync::watch::Receiver<usize> {
        self.safety.subscribe_examples()
    }

    /// Told to a patient in danger when the chat also went to the team.
    pub fn urgent_notice(&self, lang: Lang) -> Reply {
        Reply::system(t(
            lang,
            "I've also flagged this chat as urgent for our front-desk team. Please contact emergency help first.",
            "También marqué este chat como urgente para nuestro equipo de recepción. Primero comuníquese con los servicios de emergencia.",
        ))
    }

    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// The safety rules and learned signal every patient message is checked by.
    pub fn safety(&self) -> &SafetyHandle {
        &self.safety
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
        let mut outcome = self.reply_to(state, turn).await;
        // A contact a flow settled on is asked for no more next time. Not
        // saving it loses only that; the request or booking stands.
        if let Some(preference) = outcome.settled.take() {
            self.remember(state, &preference).await;
        }
        outcome
    }

    async fn reply_to(&self, state: &mut DialogState, turn: Turn<'_>) -> Outcome {
        // The conversation follows the language the patient writes in.
        let said = turn.said;
        if turn.choice.is_none() {
            state.lang = said.detected().or(state.lang);
        }
        let lang = state.lang;
        if let Some(channel) = state.switching.take()
            && let Some(outcome) = self.switching_answer(state, channel, turn).await
        {
            return outcome;
        }
        if let Some(step) = state.callback.take() {
            // What was remembered matters once the name is given.
            let recalled = match step {
                callback::Step::Name => self.recall(state).await,
                _ => None,
            };
            let (next, outcome) = callback::step(lang, step, said, turn.choice, recalled);
            state.callback = next;
            return outcome;
        }
        if let Some(flow) = state.booking.take() {
            return self.continue_booking(state, flow, turn).await;
        }
        if turn.choice.is_none()
            && let Some(channel) = contact::asks_to_switch(said)
        {
            state.clarifying = false;
            return self.switch_to(state, channel, turn).await;
        }
        // A pressed button is an answer, never a new request.
        if let Some(intent) = turn
            .choice
            .is_none()
            .then(|| {
                intents::booking_intent(said)
                    .or_else(|| self.books_by_kind(said).then_some(booking::Intent::Book))
            })
            .flatten()
        {
            state.clarifying = false;
            let heard = self.hear_kind(said).await;
            let (flow, outcome) =
                booking::Flow::start(&*self.scheduler, lang, intent, said, &heard).await;
            state.booking = flow;
            return outcome;
        }
        let was_clarifying = std::mem::take(&mut state.clarifying);
        match turn.choice {
            Some(CHOICE_HANDOFF) => return Outcome::escalate(Reason::PatientRequest),
            Some(CHOICE_NONE) => {
                let mut outcome = Outcome::escalate(Reason::LowConfidence);
                outcome.unanswered = state.clarified.take();
                return outcome;
            }
            Some(value) => {
                if let Some(outcome) = faq::chosen_article(&self.knowledge, state, value) {
                    return outcome;
                }
            }
            None => {}
        }
        if intents::wants_person(said) {
            return Outcome::escalate(Reason::PatientRequest);
        }
        if intents::sounds_frustrated(said) {
            return Outcome::escalate(Reason::Frustration);
        }
        if let Some(talk) = intents::small_talk(said) {
            return Outcome::reply(faq::small_talk_reply(lang, talk));
        }
        faq::answer(&self.knowledge, state, turn, was_clarifying).await
    }

    /// One turn inside the booking flow: leave it, ask for a person, answer
    /// a side question and come back, or take the answer to the question.
    async fn continue_booking(
        &self,
        state: &mut DialogState,
        flow: booking::Flow,
        turn: Turn<'_>,
    ) -> Outcome {
        let (lang, said) = (state.lang, turn.said);
        if turn.choice == Some("flow:stop")
            || (turn.choice.is_none() && intents::wants_to_stop(said))
        {
            return Outcome::reply(Reply::bot(t(
                lang,
                "OK, I've stopped. Nothing was booked or changed. What else can I help with?",
                "De acuerdo, me detuve. No se reservó ni se cambió nada. ¿En qué más le puedo ayudar?",
            )));
        }
        if turn.choice == Some(CHOICE_HANDOFF)
            || (turn.choice.is_none() && intents::wants_person(said))
        {
            return Outcome::escalate(Reason::BookingHelp);
        }
        if turn.choice.is_none()
            && looks_like_question(said)
            && let Decision::Answer {
                article,
                confidence,
                ..
            } = self.knowledge.decide(said, lang).await
        {
            let mut answer = faq::answer_with(&self.knowledge, &article, Some(confidence), lang);
            let (flow, outcome) = flow.ask(&*self.scheduler, lang).await;
            state.booking = flow;
            answer.replies.push(Reply::bot(t(
                lang,
                "Now, back to your appointment:",
                "Ahora, sigamos con su cita:",
            )));
            answer.replies.extend(outcome.replies);
            answer.action = outcome.action;
            answer.unanswered = outcome.unanswered;
            return answer;
        }
        // The contact question may come next: what was remembered, first.
        let flow = match flow.asks_contact_next() {
            true => flow.with_recalled(self.recall(state).await),
            false => flow,
        };
        let heard = if flow.wants_kind() && turn.choice.is_none() {
            self.hear_kind(said).await
        } else {
            kinds::Heard::default()
        };
        let (flow, outcome) = flow
            .answer(
                &*self.scheduler,
                lang,
                said,
                turn.choice,
                &heard,
                booking::Requester {
                    conversation: state.conversation.clone(),
                    client: state.client,
                    lang,
                },
            )
            .await;
        state.booking = flow;
        outcome
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
        *state = DialogState {
            lang: state.lang,
            conversation: state.conversation.take(),
            client: state.client,
            ..DialogState::default()
        };
    }
}

/// A side question asked in the middle of a flow ("do you validate
/// parking?"), as opposed to an answer to the flow's question.
fn looks_like_question(said: &Utterance) -> bool {
    let first = said.words().first().map(String::as_str).unwrap_or_default();
    said.text().trim_end().ends_with('?')
        || [
            "what", "where", "when", "how", "why", "who", "which", "do", "does", "is", "are",
            "can", "que", "donde", "cuando", "como", "por", "quien", "cual", "puedo", "hay",
        ]
        .contains(&first)
}

#[cfg(test)]
mod tests;
