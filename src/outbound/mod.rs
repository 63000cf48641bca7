//! Messages to patients outside the chat: e-mail and text messages. An
//! edge, like the chat's WebSocket: the conversation engine knows none of it.
//!
//! A booking writes its confirmation to the outbox in the same savepoint as
//! the appointment (`store`), so a booking that committed has its message
//! waiting, and one that did not has none; a callback request, and marking
//! it done, write theirs the same way. [`Sender`] delivers what is due:
//! it claims a row (a conditional update, so of several nodes one sends),
//! renders the editors' words (`messages`), sends over SMTP (`mail`) or
//! the SMS provider's API (`sms`), and marks the row sent; a refusal worth retrying is tried again with
//! backoff, one that is not is marked failed. A crash between the send and
//! the mark sends again once the claim's lease (`FRONTDESK_OUTBOX_LEASE_SECS`)
//! ends: at least once, with that window for a duplicate.
//!
//! Nothing here logs an address, a name or a message's words.

pub mod api;
pub mod mail;
pub mod messages;
pub mod plain;
pub mod sms;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;

use crate::clinic::ClinicHandle;
use crate::config::ChannelSettings;
use crate::patient::Channel;
use crate::store::{ChannelsOn, MessageKind, NewOutbound, Outbound, Store};
use mail::{Mailer, SendError, SmtpUrl};
use messages::{Fill, Messages};
use sms::Texter;

/// Due messages read per pass.
const BATCH: i64 = 20;
/// Appointments looked at for reminders per pass.
const REMIND_BATCH: i64 = 500;
/// How often the outbox is looked at.
const POLL: Duration = Duration::from_secs(2);
/// The longest a send may take (the SMTP and SMS timeouts). A claim's
/// lease shorter than this lets another node take a message whose slow
/// send is still going, and send it too.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// The lease when the settings give none: a claimed message is due again
/// after it unless marked (a sender that died mid-send).
const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);
/// Tries before a message is marked failed for good.
pub const MAX_ATTEMPTS: i64 = 8;
/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);

/// The channels that are on, from the settings. A channel whose settings
/// are absent is off.
#[derive(Clone)]
pub struct Channels {
    pub email: Option<Mailer>,
    /// Where the e-mail goes out, for the start banner (no credentials).
    pub email_server: Option<String>,
    pub text: Option<Texter>,
    /// The first wait before another try (doubled each time, up to an hour).
    pub retry: Duration,
    /// How long a claimed message is held before it is due again.
    pub lease: Duration,
}

impl Channels {
    /// Reads the settings; a channel set in part, or set to values that
    /// cannot work, is an error (the server does not start half-configured).
    pub fn from_settings(s: &ChannelSettings) -> Result<Channels, String> {
        let retry = Duration::from_secs(s.outbox_retry_secs.max(1));
        let lease = match s.outbox_lease_secs {
            0 => DEFAULT_LEASE,
            secs => Duration::from_secs(secs.clamp(5, 3600)),
        };
        if lease <= SEND_TIMEOUT {
            tracing::warn!(
                lease_secs = lease.as_secs(),
                "FRONTDESK_OUTBOX_LEASE_SECS is not above the 30 s send timeout: a slow send may go out twice"
            );
        }
        let (email, email_server) = match (&s.smtp_url, &s.mail_from) {
            (None, None) => (None, None),
            (Some(_), None) => return Err("FRONTDESK_SMTP_URL needs FRONTDESK_MAIL_FROM".into()),
            (None, Some(_)) => return Err("FRONTDESK_MAIL_FROM needs FRONTDESK_SMTP_URL".into()),
            (Some(url), Some(from)) => {
                let url = SmtpUrl::parse(url)?;
                let server = format!(
                    "{}://{}:{}",
                    if url.implicit_tls { "smtps" } else { "smtp" },
                    url.host,
                    url.port
                );
                (Some(Mailer::new(&url, from)?), Some(server))
            }
        };
        let text = match (&s.sms_account_sid, &s.sms_auth_token, &s.sms_from) {
            (None, None, None) => None,
            (Some(sid), Some(token), Some(from)) => {
                Some(Texter::new(&s.sms_api_url, sid, token, from)?)
            }
            _ => {
                return Err(
                    "text messages need FRONTDESK_SMS_ACCOUNT_SID, FRONTDESK_SMS_AUTH_TOKEN and FRONTDESK_SMS_FROM together"
                        .into(),
                );
            }
        };
        Ok(Channels {
            email,
            email_server,
            text,
            retry,
            lease,
        })
    }

    pub fn any(&self) -> bool {
        self.email.is_some() || self.text.is_some()
    }

    pub fn on(&self) -> ChannelsOn {
        ChannelsOn {
            email: self.email.is_some(),
            text: self.text.is_some(),
        }
    }

    /// One line for the start banner.
    pub fn describe(&self) -> String {
        let email = match &self.email_server {
            Some(server) => format!("e-mail on (through {server})"),
            None => "e-mail off (FRONTDESK_SMTP_URL, FRONTDESK_MAIL_FROM)".into(),
        };
        let text = match &self.text {
            Some(t) => format!("text messages on (through {})", t.endpoint()),
            None => "text messages off (FRONTDESK_SMS_ACCOUNT_SID, _AUTH_TOKEN, _FROM)".into(),
        };
        format!("{email}; {text}")
    }
}

/// Signs and checks the unsubscribe links in e-mails: a link is valid for
/// one address, forever, and cannot be made for another without the key.
#[derive(Clone)]
pub struct UnsubscribeKey([u8; 32]);

impl UnsubscribeKey {
    pub fn new(key: [u8; 32]) -> UnsubscribeKey {
        UnsubscribeKey(key)
    }

    /// 32 hex digits: the first 16 bytes of HMAC-SHA256 over the address.
    pub fn token(&self, address: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(b"unsubscribe\0");
        mac.update(address.trim().to_lowercase().as_bytes());
        crate::ids::hex(&mac.finalize().into_bytes()[..16])
    }

    pub fn valid(&self, address: &str, token: &str) -> bool {
        use subtle_eq as eq;
        eq(self.token(address).as_bytes(), token.trim().as_bytes())
    }

    /// The link for `address` under the server's public URL.
    pub fn link(&self, base: &str, address: &str) -> String {
        let address = address.trim().to_lowercase();
        let query = serde_urlencoded::to_string([
            ("address", address.as_str()),
            ("token", self.token(&address).as_str()),
        ])
        .unwrap_or_default();
        format!("{}{}?{query}", base.trim_end_matches('/'), api::UNSUBSCRIBE)
    }
}

/// Equal bytes, in time that does not depend on where they differ.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Delivers what the outbox holds.
pub struct Sender {
    pub store: Store,
    pub channels: Channels,
    pub clinic: ClinicHandle,
    pub knowledge_dir: PathBuf,
    pub public_url: Option<String>,
    pub unsubscribe: UnsubscribeKey,
    /// Rung when a chat by text has queued something: a pass at once.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Sender {
    /// Runs until shutdown, a pass every [`POLL`].
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        // Said once when the outbox stops answering and once when it is back.
        let mut failing = false;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let sent = match self.pass().await {
                Err(e) => {
                    if !failing {
                        failing = true;
                        tracing::warn!(error = %e, "the outbox cannot be read; messages wait until it can");
                    }
                    0
                }
                Ok(sent) => {
                    if failing {
                        failing = false;
                        tracing::info!("the outbox can be read again");
                    }
                    sent
                }
            };
            // A pass that sent something may have let the next message of a
            // chat by text through (they go one at a time, in order).
            if sent > 0 {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Queues the reminders that are due: an appointment of a type with
    /// `reminder_hours` gets one that many hours before it starts, in the
    /// channel its patient chose, unless it was booked after that time (its
    /// confirmation said it all). At most one per appointment, whatever
    /// the nodes. Returns how many were queued.
    pub async fn queue_reminders(&self, now: i64) -> anyhow::Result<usize> {
        let clinic = self.clinic.get();
        let hours = |type_id: &str| {
            clinic
                .schedule
                .appointment_type(type_id)
                .map_or(0, |t| i64::from(t.reminder_hours) * 3600)
        };
        let widest = clinic
            .schedule
            .types
            .iter()
            .map(|t| hours(&t.id))
            .max()
            .unwrap_or(0);
        if widest == 0 {
            return Ok(0);
        }
        let mut queued = 0;
        let coming = self
            .store
            .appointments_to_remind(now, now + widest, REMIND_BATCH)
            .await?;
        for (a, booked_at) in coming {
            let lead = hours(&a.type_id);
            let remind_at = a.starts_at - lead;
            if lead == 0 || now < remind_at || booked_at > remind_at {
                continue;
            }
            let Some(reminder) = NewOutbound::to_patient(
                MessageKind::Reminder,
                &a.patient,
                a.lang,
                self.channels.on(),
            ) else {
                continue;
            };
            if self.store.outbox_add(a.id, &reminder).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Queues due reminders, then sends what is due now; returns how many
    /// were sent.
    pub async fn pass(&self) -> anyhow::Result<usize> {
        let now = jiff::Timestamp::now().as_second();
        self.queue_reminders(now).await?;
        let due = self.store.outbox_due(now, BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        // Read per pass, so an editor's change applies to the next message.
        let words = Messages::load(&self.knowledge_dir);
        let mut sent = 0;
        for o in due {
            // From the claim, not the pass: a slow pass must not hand out
            // leases that have already run out.
            let lease = jiff::Timestamp::now().as_second() + self.channels.lease.as_secs() as i64;
            if !self.store.outbox_claim(&o, lease).await? {
                continue; // another node took it
            }
            match self.deliver(&o, &words).await {
                Ok(()) => {
                    self.store
                        .outbox_sent(o.id, jiff::Timestamp::now().as_second())
                        .await?;
                    tracing::info!(
                        kind = o.kind.as_str(),
                        channel = o.channel.as_str(),
                        "message sent"
                    );
                    sent += 1;
                }
                Err(e) => self.unsent(&o, e).await?,
            }
        }
        Ok(sent)
    }

    async fn deliver(&self, o: &Outbound, words: &Messages) -> Result<(), SendError> {
        if !o.kind.is_templated() {
            return self.deliver_chat(o).await;
        }
        let fill = match (o.appointment, o.callback) {
            (Some(appointment), _) => self.appointment_fill(o, appointment).await?,
            // The row is deleted with its request, so the request is there.
            (None, Some(_)) if o.kind.about_a_callback() => self.callback_fill(),
            _ => return Err(SendError::Permanent("what it was about is gone")),
        };
        let address = match o.channel {
            Channel::Text => sms::e164(&o.recipient).unwrap_or_default(),
            _ => o.recipient.trim().to_lowercase(),
        };
        if self
            .store
            .opted_out(o.channel, &address)
            .await
            .map_err(|_| SendError::Transient("store"))?
        {
            return Err(SendError::Permanent(crate::store::OPTED_OUT));
        }
        let rendered = words.render(o.kind, o.lang, &fill);
        match (o.channel, &self.channels.email, &self.channels.text) {
            (Channel::Email, Some(mailer), _) => {
                let unsubscribe = self
                    .public_url
                    .as_deref()
                    .map(|base| self.unsubscribe.link(base, &o.recipient));
                let body = match &unsubscribe {
                    Some(link) => format!("{}\n\n{} {link}", rendered.body, stop_mail(o.lang)),
                    None => rendered.body.clone(),
                };
                mailer
                    .send(
                        &o.recipient,
                        &rendered.subject,
                        &body,
                        unsubscribe.as_deref(),
                    )
                    .await
            }
            (Channel::Text, _, Some(texter)) => texter.send(&o.recipient, &rendered.text).await,
            // Turned off since the message was written.
            _ => Err(SendError::Permanent("its channel is off")),
        }
    }

    /// A message in a chat by text: a reply read from the transcript (so
    /// its words are kept in one place) or a notice's own words.
    async fn deliver_chat(&self, o: &Outbound) -> Result<(), SendError> {
        let Some(texter) = &self.channels.text else {
            return Err(SendError::Permanent("its channel is off"));
        };
        let store_down = |_| SendError::Transient("store");
        if self
            .store
            .opted_out(Channel::Text, &o.recipient)
            .await
            .map_err(store_down)?
        {
            return Err(SendError::Permanent(crate::store::OPTED_OUT));
        }
        let body = match (o.kind, &o.body, &o.conversation, o.message_seq) {
            (MessageKind::ChatNotice, Some(body), _, _) => body.clone(),
            (MessageKind::ChatReply, _, Some(conversation), Some(seq)) => {
                let conversation = conversation
                    .parse()
                    .map_err(|_| SendError::Permanent("unreadable conversation"))?;
                let page = crate::transcript::Page {
                    before: Some(seq + 1),
                    limit: 1,
                };
                let found = self
                    .store
                    .history(&conversation, page)
                    .await
                    .map_err(store_down)?;
                let Some(m) = found.messages.into_iter().find(|m| m.seq == seq) else {
                    return Err(SendError::Permanent("the message is gone"));
                };
                plain::for_text(
                    &m.text,
                    m.details.html.as_deref(),
                    &m.details.choices,
                    o.lang,
                )
            }
            _ => return Err(SendError::Permanent("an incomplete chat message")),
        };
        texter.send(&o.recipient, &body).await
    }

    /// What fills a message about an appointment, from the appointment.
    async fn appointment_fill(&self, o: &Outbound, id: i64) -> Result<Fill, SendError> {
        let Some(a) = self
            .store
            .appointment_by_id(id)
            .await
            .map_err(|_| SendError::Transient("store"))?
        else {
            return Err(SendError::Permanent("the appointment is gone"));
        };
        // News of a booking that has since been cancelled is not sent; the
        // cancellation is.
        if !a.booked && o.kind != MessageKind::BookingCancelled {
            return Err(SendError::Permanent("the appointment was cancelled first"));
        }
        let clinic = self.clinic.get();
        let start = jiff::Timestamp::from_second(a.starts_at)
            .map_err(|_| SendError::Permanent("unreadable appointment time"))?;
        Ok(Fill {
            clinic: clinic.name.clone(),
            when: crate::appointments::when(&clinic, start, o.lang),
            place: clinic
                .schedule
                .location(&a.location)
                .map(|l| l.name.clone())
                .unwrap_or_else(|| a.location.clone()),
            code: a.code.clone(),
            calendar: self
                .public_url
                .as_deref()
                .map(|base| {
                    format!(
                        "{}/calendar/{}-{}.ics",
                        base.trim_end_matches('/'),
                        a.code,
                        a.ics_token
                    )
                })
                .unwrap_or_default(),
        })
    }

    /// What fills a message about a callback request: the clinic's name
    /// alone. Not the patient's name, the time they asked for or why: the
    /// words are the same for every request.
    fn callback_fill(&self) -> Fill {
        Fill {
            clinic: self.clinic.get().name.clone(),
            ..Fill::default()
        }
    }

    /// Tries again later, with backoff, or gives up.
    async fn unsent(&self, o: &Outbound, e: SendError) -> anyhow::Result<()> {
        let tries = o.attempts + 1;
        let code = e.to_string();
        let next = match e {
            SendError::Transient(_) if tries < MAX_ATTEMPTS => {
                let wait = self
                    .channels
                    .retry
                    .saturating_mul(1 << (tries - 1).min(16))
                    .min(MAX_BACKOFF);
                Some(jiff::Timestamp::now().as_second() + wait.as_secs().max(1) as i64)
            }
            _ => None,
        };
        match next {
            Some(_) => {
                tracing::warn!(kind = o.kind.as_str(), tries, error = %code, "message not sent; will try again")
            }
            None => {
                tracing::error!(kind = o.kind.as_str(), tries, error = %code, "message not sent; given up")
            }
        }
        self.store.outbox_unsent(o.id, next, &code).await?;
        Ok(())
    }
}

/// The line before the unsubscribe link at the end of every e-mail.
fn stop_mail(lang: crate::lang::Lang) -> &'static str {
    match lang {
        crate::lang::Lang::En => "To stop these e-mails:",
        crate::lang::Lang::Es => "Para dejar de recibir estos correos:",
    }
}
