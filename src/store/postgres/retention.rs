//! Retention: conversations and appointments older than the cut-off are
//! deleted with everything that hangs off them. The audit log is kept.
//! Deleted rows stay in PostgreSQL's files until vacuum reuses the space
//! (there is no `secure_delete`); they are gone from every query at commit.

use sqlx::{Postgres, Transaction};

use crate::store::{Purged, StoreResult};

/// Deletes conversations last active before `cutoff` (RFC 3339) and
/// appointments that ended before `cutoff_unix`. In a dry run the deletes
/// happen in a savepoint that is rolled back, so the counts are exact.
pub(super) async fn purge(
    tx: &mut Transaction<'_, Postgres>,
    cutoff: &str,
    cutoff_unix: i64,
    dry_run: bool,
) -> Result<StoreResult<Purged>, sqlx::Error> {
    sqlx::query("SAVEPOINT purge").execute(&mut **tx).await?;
    // Chosen once, so every delete below removes the same conversations.
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT c.id FROM conversations c
         WHERE COALESCE((SELECT MAX(created_at) FROM messages m WHERE m.conversation_id = c.id), c.created_at)
               < $1::timestamptz
           AND c.handoff NOT IN ('queued', 'assigned')",
    )
    .bind(cutoff)
    .fetch_all(&mut **tx)
    .await?;
    let mut purged = Purged::default();
    let run = |sql: &'static str| sqlx::query(sql).bind(&ids);
    purged.messages = run("DELETE FROM messages WHERE conversation_id = ANY($1)")
        .execute(&mut **tx)
        .await?
        .rows_affected();
    for sql in [
        "DELETE FROM notes WHERE conversation_id = ANY($1)",
        "DELETE FROM ratings WHERE conversation_id = ANY($1)",
        "DELETE FROM safety_events WHERE conversation_id = ANY($1)",
        "DELETE FROM escalations WHERE conversation_id = ANY($1)",
        "DELETE FROM unanswered WHERE conversation_id = ANY($1)",
        "DELETE FROM answer_feedback WHERE conversation_id = ANY($1)",
        "DELETE FROM conversation_agents WHERE conversation_id = ANY($1)",
        "UPDATE appointments SET conversation_id = NULL WHERE conversation_id = ANY($1)",
    ] {
        run(sql).execute(&mut **tx).await?;
    }
    purged.callbacks = run("DELETE FROM callbacks WHERE conversation_id = ANY($1)")
        .execute(&mut **tx)
        .await?
        .rows_affected();
    purged.conversations = run("DELETE FROM conversations WHERE id = ANY($1)")
        .execute(&mut **tx)
        .await?
        .rows_affected();
    // How a patient likes to be reached goes with their visitor (the
    // foreign key would take it too; this counts it).
    purged.contacts = sqlx::query(
        "DELETE FROM contact_preferences p
         WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = p.visitor_id)",
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    sqlx::query(
        "DELETE FROM visitors v WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = v.id)",
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE appointments SET rescheduled_from = NULL
         WHERE rescheduled_from IN (SELECT id FROM appointments WHERE ends_at < to_timestamp($1))",
    )
    .bind(cutoff_unix)
    .execute(&mut **tx)
    .await?;
    purged.appointments = sqlx::query("DELETE FROM appointments WHERE ends_at < to_timestamp($1)")
        .bind(cutoff_unix)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if dry_run {
        sqlx::query("ROLLBACK TO SAVEPOINT purge")
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("RELEASE SAVEPOINT purge")
        .execute(&mut **tx)
        .await?;
    Ok(Ok(purged))
}
