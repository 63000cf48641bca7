//! Chats by text message. Each phone number is one visitor, and its texts
//! drive the same session as a widget's socket: the same checks, safety
//! net, engine, queue and agents. Only the outlet differs (`outlet.rs`):
//! what is said goes to the phone through the outbox.
//!
//! A number has at most one task on a node while it is texting, fed its
//! texts in order; the task ends after [`IDLE`] without a text (longer
//! while a person has the chat), and the next text resumes the
//! conversation from the store. A number's visitor is found by a token
//! derived from the number with a server key, so the number itself is kept
//! only on its conversations, for replies, and goes with them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use super::ChatState;
use super::connection::{Session, next_event, wait_for_shutdown};
use super::outlet::{Outlet, TextOutlet};
use super::protocol::FrameError;
use super::rate::RateLimiter;
use super::session::unavailable;
use crate::ids::{ClientMessageId, ResumeToken};
use crate::lang::Lang;
use crate::queue::Handoff;
use crate::utterance::Utterance;

/// A number's task ends after this long without a text from it.
const IDLE: Duration = Duration::from_secs(30 * 60);
/// ... unless a person has the chat: their joining or leaving is told.
const IDLE_WITH_A_PERSON: Duration = Duration::from_secs(12 * 60 * 60);
/// An open conversation quiet for this long is ended, and the next text
/// starts a new one (unless a person has it).
const NEW_CONVERSATION_AFTER: Duration = Duration::from_secs(12 * 60 * 60);
/// Texts waiting for one number's task.
const INBOX: usize = 8;
/// How long the webhook waits for a text to be stored.
const TAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// A text and where to say what became of it.
type Delivery = (Incoming, oneshot::Sender<Taken>);
/// A number's task's queue of texts.
type Inbox = mpsc::Sender<Delivery>;

/// One text to the clinic's number.
pub struct Incoming {
    /// The provider's id of the text: a resent webhook stores nothing new.
    pub id: ClientMessageId,
    /// The text, analysed once where it arrived (the webhook).
    pub said: Utterance,
}

/// What became of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Stored, and answered (or passed to the agent).
    Stored,
    /// Refused; the patient was told why by text. The code names why.
    Refused(String),
    /// Not stored: storage or this node is busy, or too many numbers are
    /// texting at once. The provider may send it again.
    Busy,
}

/// The numbers texting now, each with its task.
pub struct TextChats {
    state: ChatState,
    key: [u8; 32],
    wake: Arc<tokio::sync::Notify>,
    max: usize,
    tasks: Mutex<HashMap<String, Inbox>>,
}

impl TextChats {
    /// `key` derives each number's visitor token; `wake` is the outbox
    /// sender's; at most `max` numbers have a task at once.
    pub fn new(
        state: ChatState,
        key: [u8; 32],
        wake: Arc<tokio::sync::Notify>,
        max: usize,
    ) -> Arc<TextChats> {
        Arc::new(TextChats {
            state,
            key,
            wake,
            max,
            tasks: Mutex::new(HashMap::new()),
        })
    }

    /// Hands a text from `number` (E.164) to its task, and waits until it
    /// is stored or refused.
    pub async fn take(self: &Arc<Self>, number: &str, text: Incoming) -> Taken {
        let mut text = text;
        // Twice: a task that ended just now is replaced once.
        for _ in 0..2 {
            let Some(inbox) = self.task_for(number) else {
                tracing::warn!("a text was not taken: too many numbers are texting at once");
                return Taken::Busy;
            };
            let (done, outcome) = oneshot::channel();
            match inbox.try_send((text, done)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => return Taken::Busy,
                Err(mpsc::error::TrySendError::Closed((back, _))) => {
                    self.forget(number, &inbox);
                    text = back;
                    continue;
                }
            }
            return match tokio::time::timeout(TAKE_TIMEOUT, outcome).await {
                Ok(Ok(taken)) => taken,
                _ => Taken::Busy,
            };
        }
        Taken::Busy
    }

    fn task_for(self: &Arc<Self>, number: &str) -> Option<Inbox> {
        let mut tasks = self.tasks.lock().ok()?;
        if let Some(inbox) = tasks.get(number).filter(|i| !i.is_closed()) {
            return Some(inbox.clone());
        }
        if tasks.len() >= self.max {
            tasks.retain(|_, inbox| !inbox.is_closed());
            if tasks.len() >= self.max {
                return None;
            }
        }
        let (inbox, texts) = mpsc::channel(INBOX);
        tasks.insert(number.to_owned(), inbox.clone());
        let chats = self.clone();
        let number = number.to_owned();
        let span = tracing::info_span!("text chat", conversation = tracing::field::Empty);
        tokio::spawn(
            async move {
                let mine = chats.clone();
                run(chats, number.clone(), texts).await;
                if let Some(inbox) = mine.tasks.lock().ok().and_then(|t| t.get(&number).cloned()) {
                    mine.forget(&number, &inbox);
                }
            }
            .instrument(span),
        );
        Some(inbox)
    }

    /// Drops `number`'s entry if it is still `inbox` (a closed one).
    fn forget(&self, number: &str, inbox: &Inbox) {
        if let Ok(mut tasks) = self.tasks.lock()
            && tasks
                .get(number)
                .is_some_and(|i| i.same_channel(inbox) && i.is_closed())
        {
            tasks.remove(number);
        }
    }

    /// The resume token of `number`'s visitor: the same for the same number
    /// and key, and useless without the key.
    fn token(&self, number: &str) -> ResumeToken {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(b"text-visitor\0");
        mac.update(number.as_bytes());
        format!("rt_{}", crate::ids::hex(&mac.finalize().into_bytes()))
            .parse()
            .expect("64 lowercase hex digits make a token")
    }
}

/// One number's task: its texts in order, its conversation's queue events.
async fn run(chats: Arc<TextChats>, number: String, mut texts: mpsc::Receiver<Delivery>) {
    let _drain = chats.state.drain.clone();
    let mut shutdown = chats.state.shutdown.clone();
    let limits = chats.state.settings.limits.clone();
    let mut session = Session {
        rate: RateLimiter::per_minute(limits.messages_per_minute, Instant::now()),
        outlet: Outlet::Text(TextOutlet {
            store: chats.state.store.clone(),
            conversation: None,
            choices: Vec::new(),
            outcome: None,
            stored: None,
            wake: chats.wake.clone(),
        }),
        state: chats.state.clone(),
        active: None,
        ended: None,
        typing_sent: None,
        client: None,
    };
    let mut last_heard = tokio::time::Instant::now();
    loop {
        let idle = match &session.active {
            Some(a) if !matches!(session.state.hub.handoff(&a.conversation.id), Handoff::Bot) => {
                IDLE_WITH_A_PERSON
            }
            _ => IDLE,
        };
        tokio::select! {
            next = texts.recv() => {
                let Some((text, done)) = next else { break };
                last_heard = tokio::time::Instant::now();
                Box::pin(session.text(&chats, &number, text, done)).await;
            }
            event = next_event(&mut session.active) => match event {
                Some(event) => {
                    let _ = Box::pin(session.relay(event)).await;
                }
                // Cut off for falling behind: subscribe again; what was
                // said is in the store and already on its way.
                None => {
                    if let Some(active) = session.active.as_mut() {
                        active.link = session.state.hub.connect_patient(&active.conversation.id);
                    }
                }
            },
            _ = tokio::time::sleep_until(last_heard + idle) => break,
            _ = wait_for_shutdown(&mut shutdown) => break,
        }
    }
    tracing::debug!("text chat task ended");
}

impl Session {
    /// Takes one text: opens the conversation if needed, then handles it
    /// as a `say` (a number that answers a numbered list presses that
    /// button).
    async fn text(
        &mut self,
        chats: &TextChats,
        number: &str,
        incoming: Incoming,
        done: oneshot::Sender<Taken>,
    ) {
        if let Outlet::Text(t) = &mut self.outlet {
            t.outcome = None;
            t.stored = Some(done);
        }
        let taken = self.take_text(chats, number, incoming).await;
        // Unless its ack has told the webhook already.
        if let Outlet::Text(t) = &mut self.outlet
            && let Some(done) = t.stored.take()
        {
            let _ = done.send(taken);
        }
    }

    async fn take_text(&mut self, chats: &TextChats, number: &str, incoming: Incoming) -> Taken {
        // The first text's language, if it tells; else the conversation's.
        let lang = match incoming.said.detected() {
            crate::utterance::Detected::Lang(lang) => Some(lang),
            _ => None,
        };
        if self.active.is_none()
            && let Err(e) = self.open_text(chats, number, lang).await
        {
            let _ = self.refuse(e).await;
            return Taken::Busy;
        }
        if !self.rate.allow(Instant::now()) {
            let _ = self.refuse(self.rate.refusal()).await;
            return Taken::Refused("rate_limited".into());
        }
        let choice = match &self.outlet {
            Outlet::Text(t) => choice_for(incoming.said.text(), &t.choices)
                .map(|c| (c.label.clone(), c.value.clone())),
            Outlet::Socket(_) => None,
        };
        let handled = match choice {
            Some((label, value)) => self.say(incoming.id, label, Some(value)).await,
            None => {
                let text = incoming.said.text().to_owned();
                self.say_analysed(incoming.id, text, None, Some(incoming.said))
                    .await
            }
        };
        let outcome = match &mut self.outlet {
            Outlet::Text(t) => t.outcome.take(),
            Outlet::Socket(_) => None,
        };
        match (handled, outcome) {
            (Ok(Err(refusal)), _) => {
                let code = refusal.code.as_str().to_owned();
                let _ = self.refuse(refusal).await;
                if code == "unavailable" {
                    Taken::Busy
                } else {
                    Taken::Refused(code)
                }
            }
            (_, Some(Ok(()))) => Taken::Stored,
            (_, Some(Err(code))) if code == "unavailable" => Taken::Busy,
            (_, Some(Err(code))) => Taken::Refused(code),
            (_, None) => Taken::Busy,
        }
    }

    /// Finds the number's open conversation, or begins one. One left quiet
    /// for [`NEW_CONVERSATION_AFTER`] with nobody on it is ended first, so
    /// a text next week is a new conversation, counted and kept as one.
    async fn open_text(
        &mut self,
        chats: &TextChats,
        number: &str,
        lang: Option<Lang>,
    ) -> Result<(), FrameError> {
        let token = chats.token(number);
        let store = self.state.store.clone();
        let found = store
            .visitor_by_token(&token.digest())
            .await
            .map_err(unavailable)?;
        let mut open = None;
        if let Some(found) = &found {
            open = store
                .open_conversation(found.visitor)
                .await
                .map_err(unavailable)?;
            let quiet = found
                .last_active
                .as_deref()
                .and_then(|at| at.parse::<jiff::Timestamp>().ok())
                .is_some_and(|at| {
                    jiff::Timestamp::now().duration_since(at)
                        > jiff::SignedDuration::try_from(NEW_CONVERSATION_AFTER).unwrap_or_default()
                });
            if let Some(c) =
                open.take_if(|c| quiet && matches!(self.state.hub.handoff(&c.id), Handoff::Bot))
            {
                self.state
                    .writer
                    .end_conversation(c.id.clone())
                    .await
                    .map_err(unavailable)?;
                self.state.hub.release(&c.id, "patient_ended");
            }
        }
        let conversation = match open {
            Some(c) => c,
            None => {
                let lang = lang.unwrap_or_default();
                self.begin(
                    found.map(|f| f.visitor),
                    &token,
                    None,
                    lang,
                    Some(number.to_owned()),
                )
                .await?
            }
        };
        tracing::Span::current().record("conversation", conversation.id.as_str());
        let sent = store
            .patient_messages(&conversation.id)
            .await
            .map_err(unavailable)?;
        let lang = lang.unwrap_or(conversation.lang);
        let id = conversation.id.clone();
        self.activate(conversation, lang, sent);
        let handoff = self.state.hub.handoff(&id);
        tracing::info!(channel = "sms", "conversation started");
        let _ = self.tell_handoff(handoff).await;
        Ok(())
    }
}

/// The choice a text answering a numbered list picks: the list is written
/// with the first choice as 1 (`outbound::plain`).
fn choice_for<'a>(
    reply: &str,
    choices: &'a [crate::transcript::Choice],
) -> Option<&'a crate::transcript::Choice> {
    let n: usize = reply.trim().trim_end_matches('.').parse().ok()?;
    choices.get(n.checked_sub(1)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Choice;

    #[test]
    fn a_number_picks_that_choice_and_nothing_else_does() {
        let choices: Vec<Choice> = ["Yes", "No"]
            .map(|l| Choice {
                label: l.into(),
                value: l.to_lowercase(),
            })
            .into();
        assert_eq!(choice_for(" 2 ", &choices).unwrap().label, "No");
        assert_eq!(choice_for("1.", &choices).unwrap().label, "Yes");
        assert!(choice_for("0", &choices).is_none());
        assert!(choice_for("3", &choices).is_none());
        assert!(choice_for("two", &choices).is_none());
        assert!(choice_for("1 please", &choices).is_none());
    }
}
