//! The rows both backends read, and what they become. Each backend's query
//! returns its columns already as these Rust types (times as RFC 3339 text,
//! birth dates as `YYYY-MM-DD`, appointment times as unix seconds), so the
//! SQL stays in the backend and the turning of rows into records, and the
//! folding of rows into [`Facts`], is written once, here.

use anyhow::Context;
use futures_util::{Stream, TryStreamExt};

use super::audit::ChainWalk;
use super::{
    Appointment, AuditKey, AuditRecord, Callback, ChainError, ChainReport, ConversationFacts,
    ConversationInfo, Facts, Note, OpenHandoff, RememberedContact, StoreError, StoreResult,
    TokenVisitor, VisitorId,
};
use crate::accounts::{Account, Role, StaffId};
use crate::lang::Lang;
use crate::patient::{BirthDate, Channel, Email, Patient, PatientName, PhoneNumber};
use crate::transcript::Reason;
use crate::transcript::{Details, HistoryPage, Message, Page, Sender};

/// A visitor by resume token: id, whether an identity is linked, the time
/// of their newest message.
pub(super) type VisitorRow = (i64, bool, Option<String>);

pub(super) fn token_visitor((id, identified, last_active): VisitorRow) -> TokenVisitor {
    TokenVisitor {
        visitor: VisitorId(id),
        identified,
        last_active,
    }
}

/// A remembered contact: the visitor, the channel, the number or address,
/// and whether a signed-in identity is linked to the visitor.
pub(super) type ContactRow = (i64, String, String, bool);

/// Read back through the patient types; a row that does not read names the
/// visitor and never the value.
pub(super) fn remembered_contact(
    (visitor, channel, value, identified): ContactRow,
) -> StoreResult<RememberedContact> {
    let preference = crate::patient::Preference::from_record(&channel, &value).map_err(|why| {
        anyhow::anyhow!("the contact preference of visitor {visitor} is unreadable: {why}")
    })?;
    Ok(RememberedContact {
        preference,
        identified,
    })
}

/// A message: seq, sender, body, details (JSON text), created at.
pub(super) type MessageRow = (i64, String, String, Option<String>, String);

/// The bounds a history query binds for `page`: the seq to stay below, and
/// how many rows to read (one more than the page, to know if there is more).
pub(super) fn history_bounds(page: Page) -> (i64, i64) {
    let before = page.before.unwrap_or(i64::MAX);
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX - 1);
    (before, limit.saturating_add(1))
}

/// The page from the rows read with [`history_bounds`] (newest first):
/// its messages oldest first, and whether older ones exist.
pub(super) fn history_page(mut rows: Vec<MessageRow>, page: Page) -> StoreResult<HistoryPage> {
    let more = rows.len() > page.limit;
    rows.truncate(page.limit);
    rows.reverse();
    let messages = rows
        .into_iter()
        .map(|(seq, sender, text, meta, at)| {
            let sender = Sender::parse(&sender)
                .ok_or_else(|| anyhow::anyhow!("stored message {seq} has an unknown sender"))?;
            let details = match meta {
                Some(json) => serde_json::from_str(&json)
                    .with_context(|| format!("stored message {seq} has unreadable details"))?,
                None => Details::default(),
            };
            Ok(Message {
                seq,
                sender,
                text,
                details,
                at,
            })
        })
        .collect::<StoreResult<Vec<Message>>>()?;
    Ok(HistoryPage { messages, more })
}

/// A conversation's header for staff, in the order of each backend's
/// `INFO_COLUMNS`.
pub(super) type InfoRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
);

/// `None` when the stored language is unknown (the row is left out).
pub(super) fn info(
    (id, started_at, lang, status, handoff, reason, agent, disposition, assigned, channel): InfoRow,
) -> Option<ConversationInfo> {
    Some(ConversationInfo {
        conversation: id,
        started_at,
        lang: lang.parse().ok()?,
        open: status == "open",
        handoff,
        reason,
        agent,
        disposition,
        assigned_to: assigned.map(StaffId),
        channel,
    })
}

/// A queued or assigned conversation: id, language, reason, queued at,
/// assigned agent's id and name.
pub(super) type HandoffRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// The open handoffs, with how long each has waited until now; a row with
/// a malformed id or an unknown language is left out.
pub(super) fn open_handoffs(rows: Vec<HandoffRow>) -> Vec<OpenHandoff> {
    let now = jiff::Timestamp::now();
    rows.into_iter()
        .filter_map(|(id, lang, reason, queued_at, agent, name)| {
            let waited_s = queued_at
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| now.duration_since(t).as_secs().max(0) as u64)
                .unwrap_or(0);
            Some(OpenHandoff {
                conversation: id.parse().ok()?,
                lang: lang.parse().ok()?,
                reason: reason
                    .as_deref()
                    .and_then(Reason::parse)
                    .unwrap_or(Reason::PatientRequest),
                waited_s,
                assigned: agent.zip(name).map(|(a, n)| (StaffId(a), n)),
            })
        })
        .collect()
}

/// id, conversation, name, channel, contact, time window, status, created
/// at, language.
pub(super) type CallbackRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

pub(super) fn callback(
    (id, conversation, name, channel, contact, window, status, created_at, lang): CallbackRow,
) -> Callback {
    Callback {
        id,
        conversation,
        name,
        channel: Channel::parse(&channel).unwrap_or(Channel::Phone),
        contact,
        window,
        done: status == "done",
        created_at,
        lang: lang.parse().unwrap_or(Lang::En),
    }
}

/// Author's name, text, created at.
pub(super) type NoteRow = (String, String, String);

pub(super) fn note((author, text, at): NoteRow) -> Note {
    Note { author, text, at }
}

/// An appointment, in the order of each backend's appointment `COLUMNS`.
pub(super) type AppointmentRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
);

/// A stored appointment; its patient's details are read as the types they
/// were checked as when written. One that does not read is an error that
/// names the row and the field, never the value.
pub(super) fn appointment(r: AppointmentRow) -> StoreResult<Appointment> {
    let unreadable = |field: &str| {
        StoreError::Other(anyhow::anyhow!(
            "stored appointment {} has an unreadable {field}",
            r.0
        ))
    };
    let patient = Patient {
        name: PatientName::parse(&r.7).map_err(|_| unreadable("name"))?,
        dob: BirthDate::from_record(&r.8).map_err(|_| unreadable("date of birth"))?,
        phone: (r.9.as_deref())
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|_| unreadable("phone"))?,
        email: (r.10.as_deref())
            .map(Email::parse)
            .transpose()
            .map_err(|_| unreadable("email"))?,
        contact: Channel::parse(&r.11).map_err(|_| unreadable("contact"))?,
    };
    Ok(Appointment {
        id: r.0,
        code: r.1,
        type_id: r.2,
        provider: r.3,
        location: r.4,
        starts_at: r.5,
        ends_at: r.6,
        patient,
        booked: r.12 == "booked",
        ics_token: r.13,
        lang: r.14.parse().map_err(|_| unreadable("language"))?,
    })
}

/// An appointment and when it was booked (Unix seconds).
pub(super) type RemindRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
);

pub(super) fn to_remind(r: RemindRow) -> StoreResult<(Appointment, i64)> {
    let booked_at = r.15;
    let row: AppointmentRow = (
        r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14,
    );
    Ok((appointment(row)?, booked_at))
}

/// An audit row, in the order of each backend's audit `COLUMNS`.
pub(super) type AuditRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
);

pub(super) fn audit_record(
    (id, at, actor, role, action, target, outcome, prev_hash, hash, keyed): AuditRow,
) -> AuditRecord {
    AuditRecord {
        id,
        at,
        actor,
        role,
        action,
        target,
        outcome,
        prev_hash,
        hash,
        keyed,
    }
}

/// Walks the chain under `key` over `rows` (oldest first), a row at a time:
/// the log is never purged, so it is streamed, not loaded.
pub(super) async fn verify_chain(
    mut rows: impl Stream<Item = Result<AuditRow, sqlx::Error>> + Unpin,
    key: &AuditKey,
    expected_head: Option<&str>,
) -> StoreResult<Result<ChainReport, ChainError>> {
    let mut walk = ChainWalk::new(key, expected_head);
    while let Some(row) = rows.try_next().await? {
        if let Err(e) = walk.step(&audit_record(row)) {
            return Ok(Err(e));
        }
    }
    Ok(walk.finish())
}

/// A staff account, in the order of each backend's staff `COLUMNS`.
pub(super) type StaffRow = (i64, String, String, String, bool, String);

pub(super) fn account(
    (id, name, role, password_hash, disabled, created_at): StaffRow,
) -> StoreResult<Account> {
    let role = role
        .parse::<Role>()
        .map_err(|_| anyhow::anyhow!("stored staff account {id} has an unknown role"))?;
    Ok(Account {
        id: StaffId(id),
        name,
        role,
        password_hash,
        disabled,
        created_at,
    })
}

/// The new account's id from its insert; a name already taken is a conflict.
pub(super) fn created_staff(inserted: Result<i64, sqlx::Error>) -> StoreResult<StaffId> {
    match inserted {
        Ok(id) => Ok(StaffId(id)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict(
            "a staff account with that name exists",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A counted conversation: id, visitor, created at, status, handoff, queued,
/// claimed and resolved at, the agent's name, the first agent message's time.
pub(super) type FactsRow = (
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// An insights range (RFC 3339) in Unix seconds, as the outbox keeps time;
/// an unreadable end is open.
pub(super) fn unix_range(from: &str, to: &str) -> (i64, i64) {
    let secs = |at: &str| at.parse::<jiff::Timestamp>().ok().map(|t| t.as_second());
    (secs(from).unwrap_or(0), secs(to).unwrap_or(i64::MAX))
}

/// Each backend's insights queries hand their rows to these, in any order.
impl Facts {
    pub(super) fn add_conversations(&mut self, rows: Vec<FactsRow>) {
        for (
            id,
            visitor,
            created_at,
            status,
            handoff,
            queued_at,
            claimed_at,
            resolved_at,
            agent,
            first,
            channel,
        ) in rows
        {
            self.conversations.push(ConversationFacts {
                id,
                visitor,
                created_at,
                ended: status == "ended",
                handoff,
                queued_at,
                claimed_at,
                resolved_at,
                agent,
                first_agent_message: first,
                channel,
            });
        }
    }

    /// (conversation, reason, outcome) of each escalation.
    pub(super) fn add_escalations(&mut self, rows: Vec<(String, String, String)>) {
        for (c, reason, outcome) in rows {
            self.escalations
                .entry(c)
                .or_default()
                .push((reason, outcome));
        }
    }

    /// Conversations with a callback request.
    pub(super) fn add_callbacks(&mut self, conversations: Vec<String>) {
        self.with_callback.extend(conversations);
    }

    /// (visitor, start time) of every conversation of the counted visitors.
    pub(super) fn add_visitor_starts(&mut self, rows: Vec<(i64, String)>) {
        for (visitor, at) in rows {
            self.visitor_starts.entry(visitor).or_default().push(at);
        }
    }

    /// (conversation, score).
    pub(super) fn add_ratings(&mut self, rows: Vec<(String, i64)>) {
        self.ratings.extend(rows);
    }

    /// (article, times the bot served it).
    pub(super) fn add_served(&mut self, rows: Vec<(String, i64)>) {
        for (article, n) in rows {
            self.articles.entry(article).or_default().0 = n;
        }
    }

    /// (article, helpful, votes); votes on an answer without an article
    /// count under `-`.
    pub(super) fn add_votes(&mut self, rows: Vec<(Option<String>, bool, i64)>) {
        for (article, helpful, n) in rows {
            let entry = self
                .articles
                .entry(article.unwrap_or_else(|| "-".into()))
                .or_default();
            if helpful { entry.1 += n } else { entry.2 += n }
        }
    }
}

/// A stored console session joined with its account.
pub(super) type SessionRow = (i64, String, String, bool, String, String);

pub(super) fn stored_session(
    (staff, name, role, disabled, created_at, last_seen): SessionRow,
) -> crate::store::StoredSession {
    crate::store::StoredSession {
        staff: StaffId(staff),
        name,
        role,
        disabled,
        created_at,
        last_seen,
    }
}

/// Digests as the store returns them (a column of bytes).
pub(super) fn digests(rows: Vec<Vec<u8>>) -> Vec<[u8; 32]> {
    rows.into_iter()
        .filter_map(|d| <[u8; 32]>::try_from(d.as_slice()).ok())
        .collect()
}
