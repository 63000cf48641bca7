//! The patient's side of a conversation: open or resume it, end it, rate
//! it. What happens to each message is in `turn.rs`.

use unicode_segmentation::UnicodeSegmentation;

use super::connection::{Exit, Session};
use super::identity::{self, Refusal, SignedUser, Verified};
use super::protocol::{ErrorCode, FrameError, ServerFrame};
use crate::dialog::{DialogState, Reply};
use crate::ids::{ResumeToken, TokenDigest};
use crate::lang::Lang;
use crate::queue::PatientLink;
use crate::store::{Conversation, StoreError, VisitorId};
use crate::transcript::{NewMessage, Page};

/// A handler's result: `Err(Exit)` ends the connection, `Ok(Err(e))` refuses
/// the frame with an error frame, `Ok(Ok(()))` is success.
pub(super) type Handled = Result<Result<(), FrameError>, Exit>;

/// A visitor found by resume token.
struct Found {
    token: ResumeToken,
    visitor: VisitorId,
    /// A signed-in identity is linked to the visitor.
    identified: bool,
    open: Option<Conversation>,
}

/// What opening a conversation yields: this device's token, the visitor
/// (if known before), the conversation, its newest page and how many
/// patient messages it holds.
type Opened = (
    ResumeToken,
    Option<VisitorId>,
    Conversation,
    crate::transcript::HistoryPage,
    usize,
);

fn unknown_resume() -> FrameError {
    FrameError::new(
        ErrorCode::UnknownResume,
        "That conversation could not be found; start a new one.",
    )
}

/// The conversation open on this socket.
pub(super) struct Active {
    pub conversation: Conversation,
    pub dialog: DialogState,
    /// This socket's subscription to queue events for the conversation.
    pub link: PatientLink,
    /// Messages the patient has sent in it (capped per conversation).
    pub patient_messages: usize,
}

/// Messages sent on `started` and per `history` page.
pub(super) const HISTORY_PAGE: usize = 100;

impl Session {
    /// A page of the open conversation's messages before `before`.
    pub(super) async fn history(&mut self, before: i64) -> Handled {
        let Some(active) = &self.active else {
            return Ok(Err(FrameError::new(
                ErrorCode::NotStarted,
                "Send a start frame first.",
            )));
        };
        let page = Page {
            before: Some(before),
            limit: HISTORY_PAGE,
        };
        let page = match self
            .state
            .store
            .history(&active.conversation.id, page)
            .await
        {
            Ok(page) => page,
            Err(e) => return Ok(Err(unavailable(e))),
        };
        let (messages, more) = super::protocol::page_views(page);
        self.send(&ServerFrame::History { messages, more })
            .await
            .map(Ok)
    }

    /// Opens or resumes a conversation.
    pub(super) async fn start(
        &mut self,
        resume: Option<String>,
        lang: Option<Lang>,
        user: Option<SignedUser>,
    ) -> Handled {
        if self.active.is_some() {
            return Ok(Err(FrameError::new(
                ErrorCode::AlreadyStarted,
                "A conversation is already open on this connection.",
            )));
        }
        let verified = match user {
            None => None,
            Some(signed) => match self.verify(&signed, resume.as_deref()).await {
                Ok(verified) => Some(verified),
                Err(e) => return Ok(Err(e)),
            },
        };
        let identity = verified.as_ref().map(|v| v.identity);
        let nonce = verified.as_ref().and_then(|v| v.expiry.as_ref());
        let opened = self.open(resume, identity, lang).await;
        // The nonce belongs to this device once it has its token; a start
        // that failed before that gives it back, so the page may retry.
        let nonces = &self.state.identity_nonces;
        let (token, visitor, conversation, history, patient_messages) = match opened {
            Ok(opened) => {
                if let Some(expiry) = nonce {
                    nonces.bind(expiry, opened.0.digest()).await;
                }
                opened
            }
            Err(e) => {
                if let Some(expiry) = nonce {
                    nonces.release(expiry).await;
                }
                return Ok(Err(e));
            }
        };
        tracing::Span::current().record("conversation", conversation.id.as_str());
        tracing::info!(
            resumed = visitor.is_some(),
            messages = history.messages.len(),
            "conversation started"
        );
        let lang = lang.unwrap_or(conversation.lang);
        let (history, more_history) = super::protocol::page_views(history);
        let started = ServerFrame::Started {
            conversation: conversation.id.to_string(),
            resume: token.expose().to_owned(),
            lang,
            history,
            more_history,
        };
        let id = conversation.id.clone();
        // Subscribed first, so no queue event falls between the two.
        self.activate(conversation, lang, patient_messages);
        let handoff = self.state.hub.handoff(&id);
        self.send(&started).await?;
        // A resumed chat picks up where it was: still waiting, or with its agent.
        self.tell_handoff(handoff).await.map(Ok)
    }

    /// Makes `conversation` this session's: its queue events, its dialog.
    pub(super) fn activate(&mut self, conversation: Conversation, lang: Lang, sent: usize) {
        let link = self.state.hub.connect_patient(&conversation.id);
        let mut dialog = DialogState::for_conversation(lang, &conversation.id);
        if let Some(client) = self.client {
            dialog = dialog.with_client(client);
        }
        if let super::outlet::Outlet::Text(text) = &mut self.outlet {
            text.conversation = Some(conversation.id.to_string());
        }
        self.active = Some(Active {
            conversation,
            dialog,
            link,
            patient_messages: sent,
        });
    }

    /// Finds or begins the conversation and loads what `started` carries:
    /// the newest page of history only (a long conversation is read on
    /// demand, so `started` stays small whatever its length).
    async fn open(
        &self,
        resume: Option<String>,
        identity: Option<TokenDigest>,
        lang: Option<Lang>,
    ) -> Result<Opened, FrameError> {
        let (token, visitor, open) = self.locate(resume, identity).await?;
        let conversation = match open {
            Some(conversation) => conversation,
            None => {
                self.begin(visitor, &token, identity, lang.unwrap_or_default(), None)
                    .await?
            }
        };
        let store = &self.state.store;
        let history = store
            .history(&conversation.id, Page::latest(HISTORY_PAGE))
            .await
            .map_err(unavailable)?;
        let sent = store
            .patient_messages(&conversation.id)
            .await
            .map_err(unavailable)?;
        Ok((token, visitor, conversation, history, sent))
    }

    /// Checks a signed-in identity: its signature and time, and that its
    /// nonce has opened no conversation but this device's (`resume`).
    async fn verify(
        &self,
        signed: &SignedUser,
        resume: Option<&str>,
    ) -> Result<Verified, FrameError> {
        let settings = &self.state.settings;
        let policy = identity::Policy {
            secret: settings.identity_secret.as_deref(),
            lifetime_secs: i64::from(settings.identity_lifetime_secs),
            legacy: settings.identity_legacy_signatures,
        };
        let now = jiff::Timestamp::now().as_second();
        let checked = match identity::verify(policy, signed, now) {
            Ok(verified) => match &verified.expiry {
                Some(expiry) => {
                    let device = resume
                        .and_then(|raw| raw.parse::<ResumeToken>().ok())
                        .map(|token| token.digest());
                    let taken = self.state.identity_nonces.take(expiry, device).await;
                    taken.map(|()| verified)
                }
                None => Ok(verified),
            },
            Err(refusal) => Err(refusal),
        };
        checked.map_err(|refusal| {
            let (code, message) = match refusal {
                Refusal::Invalid => (
                    ErrorCode::BadIdentity,
                    "The signed-in identity could not be verified.",
                ),
                Refusal::Replayed => (
                    ErrorCode::BadIdentity,
                    "This sign-in was already used on another device; the page needs a fresh one.",
                ),
                Refusal::Expired => (
                    ErrorCode::IdentityExpired,
                    "The sign-in on this page has expired; the page needs a fresh one.",
                ),
                Refusal::Unavailable => (
                    ErrorCode::Unavailable,
                    "The sign-in cannot be checked right now; try again in a minute.",
                ),
            };
            FrameError::new(code, message)
        })
    }

    /// Finds who this is: by verified identity first (any device), then by
    /// resume token; a new visitor otherwise. Returns the token this device
    /// should keep.
    async fn locate(
        &self,
        resume: Option<String>,
        identity: Option<TokenDigest>,
    ) -> Result<(ResumeToken, Option<VisitorId>, Option<Conversation>), FrameError> {
        let by_token = match resume {
            None => None,
            Some(raw) => match self.find_visitor(&raw).await? {
                Some(found) => Some(found),
                None if identity.is_some() => None,
                None => return Err(unknown_resume()),
            },
        };
        let Some(identity) = identity else {
            return match by_token {
                // A signed-in patient's conversation needs their signed-in
                // identity: a token left on a shared computer is not enough.
                Some(Found {
                    identified: true, ..
                }) => Err(unknown_resume()),
                Some(f) => Ok((f.token, Some(f.visitor), f.open)),
                None => Ok((ResumeToken::generate(), None, None)),
            };
        };
        let store = &self.state.store;
        let writer = &self.state.writer;
        match store
            .visitor_by_identity(&identity)
            .await
            .map_err(unavailable)?
        {
            // Known on another device: this device gets its own fresh token.
            Some(visitor) => {
                let token = match by_token {
                    Some(f) if f.visitor == visitor => f.token,
                    _ => ResumeToken::generate(),
                };
                writer
                    .link_visitor(visitor, token.digest(), None)
                    .await
                    .map_err(unavailable)?;
                let open = store
                    .open_conversation(visitor)
                    .await
                    .map_err(unavailable)?;
                Ok((token, Some(visitor), open))
            }
            // First time signed in: this device's anonymous visitor becomes
            // theirs. A token of someone else's identity (the last patient
            // on a shared computer) starts a fresh visitor instead.
            None => match by_token {
                Some(f) if !f.identified => {
                    writer
                        .link_visitor(f.visitor, f.token.digest(), Some(identity))
                        .await
                        .map_err(unavailable)?;
                    Ok((f.token, Some(f.visitor), f.open))
                }
                _ => Ok((ResumeToken::generate(), None, None)),
            },
        }
    }

    /// Looks a resume token up: the visitor and their open conversation.
    async fn find_visitor(&self, raw: &str) -> Result<Option<Found>, FrameError> {
        let Ok(token) = raw.parse::<ResumeToken>() else {
            return Ok(None);
        };
        let store = &self.state.store;
        let Some(found) = store
            .visitor_by_token(&token.digest())
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        // An anonymous token idle for longer than the setting has expired.
        let idle = self.state.settings.resume_idle_days;
        let expired = !found.identified
            && found
                .last_active
                .as_deref()
                .and_then(|at| at.parse::<jiff::Timestamp>().ok())
                .is_some_and(|at| {
                    jiff::Timestamp::now().duration_since(at)
                        > jiff::SignedDuration::from_hours(24 * i64::from(idle))
                });
        if expired {
            return Ok(None);
        }
        let (visitor, identified) = (found.visitor, found.identified);
        let open = store
            .open_conversation(visitor)
            .await
            .map_err(unavailable)?;
        Ok(Some(Found {
            token,
            visitor,
            identified,
            open,
        }))
    }

    /// Creates a conversation and stores the bot's greeting in it.
    pub(super) async fn begin(
        &self,
        visitor: Option<VisitorId>,
        token: &ResumeToken,
        identity: Option<TokenDigest>,
        lang: Lang,
        reply_to: Option<String>,
    ) -> Result<Conversation, FrameError> {
        let writer = &self.state.writer;
        let conversation = writer
            .start_conversation(visitor, token.digest(), identity, lang, reply_to)
            .await
            .map_err(unavailable)?;
        let greeting = self.state.engine.greeting(lang);
        writer
            .append(to_store(&conversation, greeting))
            .await
            .map_err(unavailable)?;
        Ok(conversation)
    }

    pub(super) async fn end(&mut self) -> Handled {
        let Some(active) = self.active.take() else {
            return Ok(Err(FrameError::new(
                ErrorCode::NotStarted,
                "No conversation is open.",
            )));
        };
        let id = active.conversation.id.clone();
        if let Err(e) = self.state.writer.end_conversation(id.clone()).await {
            self.active = Some(active);
            return Ok(Err(unavailable(e)));
        }
        self.state.hub.release(&id, "patient_ended");
        self.ended = Some(id.clone());
        tracing::info!("conversation ended by the patient");
        self.send(&ServerFrame::Ended {
            conversation: id.to_string(),
        })
        .await
        .map(Ok)
    }
}

impl Session {
    /// Stores the patient's rating of the open (or just ended) conversation.
    pub(super) async fn rate(&mut self, score: u8, comment: Option<String>) -> Handled {
        let conversation = match (&self.active, &self.ended) {
            (Some(active), _) => active.conversation.id.clone(),
            (None, Some(ended)) => ended.clone(),
            (None, None) => {
                return Ok(Err(FrameError::new(
                    ErrorCode::NotStarted,
                    "There is no conversation to rate.",
                )));
            }
        };
        let limit = MAX_COMMENT_GRAPHEMES;
        if comment
            .as_ref()
            .is_some_and(|c| c.graphemes(true).nth(limit).is_some())
        {
            return Ok(Err(FrameError::new(
                ErrorCode::TextTooLong,
                format!("Comments can be at most {limit} characters."),
            )));
        }
        if let Err(e) = self
            .state
            .writer
            .rate(conversation.clone(), score, comment)
            .await
        {
            return Ok(Err(unavailable(e)));
        }
        tracing::info!(score, "conversation rated");
        self.send(&ServerFrame::Rated {
            conversation: conversation.to_string(),
        })
        .await
        .map(Ok)
    }
}

impl Session {
    /// Stores a patient's "was this helpful?" on one of the bot's answers.
    pub(super) async fn feedback(&mut self, seq: i64, helpful: bool) -> Handled {
        let Some(active) = &self.active else {
            return Ok(Err(FrameError::new(
                ErrorCode::NotStarted,
                "No conversation is open.",
            )));
        };
        match self
            .state
            .writer
            .feedback(active.conversation.id.clone(), seq, helpful)
            .await
        {
            Ok(()) => self.send(&ServerFrame::FeedbackSaved { seq }).await.map(Ok),
            Err(StoreError::NotFound) => Ok(Err(FrameError::new(
                ErrorCode::BadFrame,
                "There is no bot answer with that seq.",
            ))),
            Err(e) => Ok(Err(unavailable(e))),
        }
    }
}

/// Longest rating comment.
const MAX_COMMENT_GRAPHEMES: usize = 1000;

pub(super) fn to_store(conversation: &Conversation, reply: Reply) -> NewMessage {
    NewMessage {
        conversation: conversation.id.clone(),
        sender: reply.sender,
        text: reply.text,
        client_id: None,
        details: reply.details,
    }
}

/// Storage failed: the client is told to retry. A storage fault is logged
/// once by the store's health record, not per message; anything else is
/// logged here, without any message content.
pub(super) fn unavailable(e: StoreError) -> FrameError {
    match e {
        StoreError::Unavailable(fault) => {
            tracing::debug!(fault = fault.code(), "chat write refused")
        }
        e => tracing::error!(error = format!("{e:#}"), "chat storage failed"),
    }
    FrameError::new(
        ErrorCode::Unavailable,
        "We couldn't save that just now. Please try again in a moment.",
    )
}
