//! Each write op's SQL, applied inside the writer's open transaction. Its
//! outcome waits (as a [`Done`]) until the whole batch commits.

use sqlx::{Sqlite, Transaction};

use crate::ids::{ConversationId, TokenDigest};
use crate::lang::Lang;
use crate::store::plan::{Done, pending};
use crate::store::{Conversation, StoreError, StoreResult, VisitorId, WriteOp};
use crate::transcript;

pub(super) async fn apply(
    tx: &mut Transaction<'_, Sqlite>,
    op: WriteOp,
) -> Result<Done, sqlx::Error> {
    Ok(match op {
        WriteOp::StartConversation {
            visitor,
            token,
            identity,
            lang,
            reply,
        } => pending(
            reply,
            Ok(start_conversation(tx, visitor, token, identity, lang).await?),
        ),
        WriteOp::LinkVisitor {
            visitor,
            token,
            identity,
            reply,
        } => {
            // An identity is only ever added to a visitor without one: a
            // visitor is never relabelled as someone else.
            sqlx::query("UPDATE visitors SET token_hash = ?, identity_hash = COALESCE(identity_hash, ?) WHERE id = ?")
                .bind(&token.0[..])
                .bind(identity.map(|i| i.0.to_vec()))
                .bind(visitor.0)
                .execute(&mut **tx)
                .await?;
            pending(reply, Ok(()))
        }
        WriteOp::Append {
            message,
            replies,
            reply,
        } => {
            // (write_batch sends appends in bulk; this keeps `apply` whole.)
            let mut done =
                super::messages::append_run(tx, &mut vec![(message, replies, reply)]).await?;
            done.pop().unwrap_or_else(|| Box::new(|_| {}))
        }
        WriteOp::EndConversation {
            conversation,
            reply,
        } => {
            let changed = sqlx::query(
                "UPDATE conversations SET status = 'ended', ended_at = ? WHERE id = ? AND status = 'open'",
            )
            .bind(transcript::now())
            .bind(conversation.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected();
            pending(reply, exactly_one(changed))
        }
        WriteOp::SetHandoff {
            conversation,
            change,
            reply,
        } => pending(
            reply,
            super::handoff::set_handoff(tx, &conversation, change).await?,
        ),
        WriteOp::AddNote {
            conversation,
            staff,
            body,
            reply,
        } => pending(
            reply,
            super::handoff::add_note(tx, &conversation, staff, &body).await?,
        ),
        WriteOp::AddCallback { callback, reply } => {
            pending(reply, super::handoff::add_callback(tx, callback).await?)
        }
        WriteOp::Book { appointment, reply } => {
            pending(reply, super::appointments::book(tx, appointment).await?)
        }
        WriteOp::CancelAppointment { id, reply } => {
            pending(reply, super::appointments::cancel(tx, id).await?)
        }
        WriteOp::Purge {
            cutoff,
            cutoff_unix,
            dry_run,
            reply,
        } => pending(
            reply,
            super::retention::purge(tx, &cutoff, cutoff_unix, dry_run).await?,
        ),
        WriteOp::RecordEscalation {
            conversation,
            reason,
            outcome,
            reply,
        } => {
            record_event(
                tx,
                "INSERT INTO escalations (conversation_id, reason, outcome, created_at) VALUES (?, ?, ?, ?)",
                &conversation,
                &[reason, outcome],
            )
            .await?;
            pending(reply, Ok(()))
        }
        WriteOp::RecordUnanswered {
            conversation,
            question,
            reply,
        } => {
            record_event(
                tx,
                "INSERT INTO unanswered (conversation_id, question, created_at) VALUES (?, ?, ?)",
                &conversation,
                &[&question],
            )
            .await?;
            pending(reply, Ok(()))
        }
        WriteOp::Feedback {
            conversation,
            seq,
            helpful,
            reply,
        } => {
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
            .execute(&mut **tx)
            .await?
            .rows_affected();
            pending(reply, exactly_one(changed))
        }
        WriteOp::Audit { entry, key, reply } => {
            pending(reply, super::audit::append(tx, entry, &key).await?)
        }
        WriteOp::Rate {
            conversation,
            score,
            comment,
            reply,
        } => {
            sqlx::query(
                "INSERT INTO ratings (conversation_id, score, comment, created_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (conversation_id) DO UPDATE SET score = excluded.score,
                 comment = excluded.comment, created_at = excluded.created_at",
            )
            .bind(conversation.as_str())
            .bind(i64::from(score))
            .bind(comment)
            .bind(transcript::now())
            .execute(&mut **tx)
            .await?;
            pending(reply, Ok(()))
        }
        WriteOp::Probe { reply } => {
            sqlx::query(
                "INSERT INTO store_probe (id, at, pad) VALUES (1, ?, zeroblob(16384))
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad",
            )
            .bind(transcript::now())
            .execute(&mut **tx)
            .await?;
            pending(reply, Ok(()))
        }
        WriteOp::RecordSafety {
            conversation,
            category,
            kind,
            reply,
        } => {
            record_event(
                tx,
                "INSERT INTO safety_events (conversation_id, category, kind, created_at) VALUES (?, ?, ?, ?)",
                &conversation,
                &[&category, kind],
            )
            .await?;
            pending(reply, Ok(()))
        }
    })
}

/// One row of a conversation's event log: `sql` inserts the conversation,
/// then `values` in order, then the time.
async fn record_event(
    tx: &mut Transaction<'_, Sqlite>,
    sql: &'static str,
    conversation: &ConversationId,
    values: &[&str],
) -> Result<(), sqlx::Error> {
    let mut query = sqlx::query(sql).bind(conversation.as_str());
    for value in values {
        query = query.bind(*value);
    }
    query.bind(transcript::now()).execute(&mut **tx).await?;
    Ok(())
}

async fn start_conversation(
    tx: &mut Transaction<'_, Sqlite>,
    visitor: Option<VisitorId>,
    token: TokenDigest,
    identity: Option<TokenDigest>,
    lang: Lang,
) -> Result<Conversation, sqlx::Error> {
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
            .fetch_one(&mut **tx)
            .await?,
        ),
    };
    let id = ConversationId::generate();
    sqlx::query(
        "INSERT INTO conversations (id, visitor_id, lang, status, created_at) VALUES (?, ?, ?, 'open', ?)",
    )
    .bind(id.as_str())
    .bind(visitor.0)
    .bind(lang.as_str())
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    Ok(Conversation {
        id,
        visitor,
        lang,
        open: true,
    })
}

/// An update that had to change exactly one row: `NotFound` otherwise.
fn exactly_one(changed: u64) -> StoreResult<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}
