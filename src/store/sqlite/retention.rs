//! Retention: conversations and appointments older than the cut-off are
//! deleted with everything that hangs off them. The audit log is kept.
//! `secure_delete` is on, so deleted rows are overwritten, not left in free
//! pages of the file.

use sqlx::{Sqlite, Transaction};

use crate::store::{Purged, StoreResult};

/// Deletes conversations last active before `cutoff` (RFC 3339) and
/// appointments that ended before `cutoff_unix`. In a dry run the deletes
/// happen in a savepoint that is rolled back, so the counts are exact.
pub(super) async fn purge(
    tx: &mut Transaction<'_, Sqlite>,
    cutoff: &str,
    cutoff_unix: i64,
    dry_run: bool,
) -> Result<StoreResult<Purged>, sqlx::Error> {
    sqlx::query("SAVEPOINT purge").execute(&mut **tx).await?;
    sqlx::query("CREATE TEMP TABLE IF NOT EXISTS purge_ids (id TEXT PRIMARY KEY)")
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM purge_ids")
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO purge_ids SELECT c.id FROM conversations c
         WHERE COALESCE((SELECT MAX(created_at) FROM messages m WHERE m.conversation_id = c.id), c.created_at) < ?
           AND c.handoff NOT IN ('queued', 'assigned')",
    )
    .bind(cutoff)
    .execute(&mut **tx)
    .await?;
    let mut purged = Purged::default();
    let run = |sql: &'static str| sqlx::query(sql);
    purged.messages =
        run("DELETE FROM messages WHERE conversation_id IN (SELECT id FROM purge_ids)")
            .execute(&mut **tx)
            .await?
            .rows_affected();
    for sql in [
        "DELETE FROM notes WHERE conversation_id IN (SELECT id FROM purge_ids)",
        "DELETE FROM ratings WHERE conversation_id IN (SELECT id FROM purge_ids)",
        "DELETE FROM safety_events WHERE conversation_id IN (SELECT id FROM purge_ids)",
        "DELETE FROM escalations WHERE conversation_id IN (SELECT id FROM purge_ids)",
        "DELETE FROM unanswered WHERE conversation_id IN (SELECT id FROM purge_ids)",
        "DELETE FROM answer_feedback WHERE conversation_id IN (SELECT id FROM purge_ids)",
        "DELETE FROM conversation_agents WHERE conversation_id IN (SELECT id FROM purge_ids)",
        "UPDATE appointments SET conversation_id = NULL WHERE conversation_id IN (SELECT id FROM purge_ids)",
    ] {
        run(sql).execute(&mut **tx).await?;
    }
    purged.callbacks =
        run("DELETE FROM callbacks WHERE conversation_id IN (SELECT id FROM purge_ids)")
            .execute(&mut **tx)
            .await?
            .rows_affected();
    purged.conversations = run("DELETE FROM conversations WHERE id IN (SELECT id FROM purge_ids)")
        .execute(&mut **tx)
        .await?
        .rows_affected();
    // How a patient likes to be reached goes with their visitor (the
    // foreign key would take it too; this counts it).
    purged.contacts = run(
        "DELETE FROM contact_preferences WHERE visitor_id NOT IN (SELECT visitor_id FROM conversations)",
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    run("DELETE FROM visitors WHERE id NOT IN (SELECT visitor_id FROM conversations)")
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM provider_blocks WHERE appointment_id IN (SELECT id FROM appointments WHERE ends_at < ?)")
        .bind(cutoff_unix)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE appointments SET rescheduled_from = NULL WHERE rescheduled_from IN (SELECT id FROM appointments WHERE ends_at < ?)")
        .bind(cutoff_unix)
        .execute(&mut **tx)
        .await?;
    purged.appointments = sqlx::query("DELETE FROM appointments WHERE ends_at < ?")
        .bind(cutoff_unix)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if dry_run {
        sqlx::query("ROLLBACK TO purge").execute(&mut **tx).await?;
    }
    sqlx::query("RELEASE purge").execute(&mut **tx).await?;
    Ok(Ok(purged))
}
