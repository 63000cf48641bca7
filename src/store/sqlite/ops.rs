//! Each write op's SQL, applied inside the writer's open transaction; the
//! batch loop that calls these is backend-independent (`store::batch`). A run
//! of appends has its own three statements, in `messages`.

use sqlx::{Sqlite, Transaction};

use crate::accounts::StaffId;
use crate::ids::{ConversationId, TokenDigest};
use crate::lang::Lang;
use crate::store::batch::{Event, Tx, exactly_one};
use crate::store::{
    AuditEntry, AuditKey, ChannelsOn, Conversation, HandoffChange, NewAppointment, NewCallback,
    Purged, StoreResult, VisitorId,
};
use crate::transcript;

type Sql<T> = Result<T, sqlx::Error>;

impl Tx for Transaction<'_, Sqlite> {
    async fn start_conversation(
        &mut self,
        visitor: Option<VisitorId>,
        token: TokenDigest,
        identity: Option<TokenDigest>,
        lang: Lang,
        reply_to: Option<String>,
    ) -> Sql<Conversation> {
        let now = transcript::now();
        let visitor = match visitor {
            Some(v) => v,
            None => VisitorId(
                sqlx::query_scalar(
                    "INSERT INTO visitors (token_hash, identity_hash, created_at) VALUES (?, ?, ?) RETURNING id",
                )
                .bind(&token.0[..])
                .bind(identity.map(|i| i.0.to_vec()))
                .bind(&now)
                .fetch_one(&mut **self)
                .await?,
            ),
        };
        let id = ConversationId::generate();
        sqlx::query(
            "INSERT INTO conversations (id, visitor_id, lang, status, created_at, channel, reply_to)
             VALUES (?, ?, ?, 'open', ?, ?, ?)",
        )
        .bind(id.as_str())
        .bind(visitor.0)
        .bind(lang.as_str())
        .bind(&now)
        .bind(if reply_to.is_some() { "sms" } else { "web" })
        .bind(reply_to)
        .execute(&mut **self)
        .await?;
        Ok(Conversation {
            id,
            visitor,
            lang,
            open: true,
        })
    }

    async fn link_visitor(
        &mut self,
        visitor: VisitorId,
        token: TokenDigest,
        identity: Option<TokenDigest>,
    ) -> Sql<()> {
        sqlx::query(
            "UPDATE visitors SET token_hash = ?, identity_hash = COALESCE(identity_hash, ?) WHERE id = ?",
        )
        .bind(&token.0[..])
        .bind(identity.map(|i| i.0.to_vec()))
        .bind(visitor.0)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    async fn end_conversation(&mut self, conversation: &ConversationId) -> Sql<StoreResult<()>> {
        let changed = sqlx::query(
            "UPDATE conversations SET status = 'ended', ended_at = ? WHERE id = ? AND status = 'open'",
        )
        .bind(transcript::now())
        .bind(conversation.as_str())
        .execute(&mut **self)
        .await?
        .rows_affected();
        Ok(exactly_one(changed))
    }

    async fn set_handoff(
        &mut self,
        conversation: &ConversationId,
        change: HandoffChange,
    ) -> Sql<StoreResult<()>> {
        super::handoff::set_handoff(self, conversation, change).await
    }

    async fn add_note(
        &mut self,
        conversation: &ConversationId,
        staff: StaffId,
        body: &str,
    ) -> Sql<StoreResult<()>> {
        super::handoff::add_note(self, conversation, staff, body).await
    }

    async fn add_callback(
        &mut self,
        callback: NewCallback,
        on: ChannelsOn,
    ) -> Sql<StoreResult<i64>> {
        super::handoff::add_callback(self, callback, on).await
    }

    async fn complete_callback(
        &mut self,
        id: i64,
        staff: StaffId,
        on: ChannelsOn,
    ) -> Sql<StoreResult<()>> {
        super::handoff::complete_callback(self, id, staff, on).await
    }

    async fn remember_contact(
        &mut self,
        conversation: &ConversationId,
        preference: &crate::patient::Preference,
    ) -> Sql<StoreResult<()>> {
        super::contacts::remember(self, conversation, preference).await
    }

    async fn book(&mut self, appointment: NewAppointment) -> Sql<StoreResult<i64>> {
        super::appointments::book(self, appointment).await
    }

    async fn cancel_appointment(
        &mut self,
        id: i64,
        notify: Option<&crate::store::NewOutbound>,
    ) -> Sql<StoreResult<()>> {
        super::appointments::cancel(self, id, notify).await
    }

    async fn purge(
        &mut self,
        cutoff: &str,
        cutoff_unix: i64,
        dry_run: bool,
    ) -> Sql<StoreResult<Purged>> {
        super::retention::purge(self, cutoff, cutoff_unix, dry_run).await
    }

    async fn audit(&mut self, entry: AuditEntry, key: &AuditKey) -> Sql<StoreResult<()>> {
        super::audit::append(self, entry, key).await
    }

    async fn record(&mut self, conversation: &ConversationId, event: Event<'_>) -> Sql<()> {
        let c = conversation.as_str();
        let query = match event {
            Event::Escalation { reason, outcome } => sqlx::query(
                "INSERT INTO escalations (conversation_id, reason, outcome, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(c)
            .bind(reason)
            .bind(outcome),
            Event::Unanswered { question } => sqlx::query(
                "INSERT INTO unanswered (conversation_id, question, created_at) VALUES (?, ?, ?)",
            )
            .bind(c)
            .bind(question),
            Event::Safety { category, kind } => sqlx::query(
                "INSERT INTO safety_events (conversation_id, category, kind, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(c)
            .bind(category)
            .bind(kind),
        };
        query.bind(transcript::now()).execute(&mut **self).await?;
        Ok(())
    }

    async fn feedback(
        &mut self,
        conversation: &ConversationId,
        seq: i64,
        helpful: bool,
    ) -> Sql<StoreResult<()>> {
        let changed = sqlx::query(
            "INSERT INTO answer_feedback (conversation_id, seq, article, helpful, created_at)
             SELECT conversation_id, seq, json_extract(meta, '$.article'), ?, ? FROM messages
             WHERE conversation_id = ? AND seq = ? AND sender = 'bot'
             ON CONFLICT (conversation_id, seq) DO UPDATE SET helpful = excluded.helpful",
        )
        .bind(helpful)
        .bind(transcript::now())
        .bind(conversation.as_str())
        .bind(seq)
        .execute(&mut **self)
        .await?
        .rows_affected();
        Ok(exactly_one(changed))
    }

    async fn rate(
        &mut self,
        conversation: &ConversationId,
        score: u8,
        comment: Option<String>,
    ) -> Sql<()> {
        sqlx::query(
            "INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (conversation_id) DO UPDATE SET score = excluded.score,
             comment = excluded.comment, created_at = excluded.created_at",
        )
        .bind(conversation.as_str())
        .bind(i64::from(score))
        .bind(comment)
        .bind(transcript::now())
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    async fn probe(&mut self) -> Sql<()> {
        sqlx::query(
            "INSERT INTO store_probe (id, at, pad) VALUES (1, ?, zeroblob(16384))
             ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad",
        )
        .bind(transcript::now())
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
