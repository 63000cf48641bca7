//! The raw facts the insights are computed from, read in a few queries.

use super::SqliteStore;
use crate::store::rows::FactsRow;
use crate::store::{Facts, MAX_UNANSWERED, OPTED_OUT, StoreResult};

impl SqliteStore {
    pub async fn insight_facts(&self, from: &str, to: &str) -> StoreResult<Facts> {
        let pool = self.pool();
        // A conversation counts when the patient did anything in it: a
        // message or a choice, asking for a person (an escalation, also
        // after hours), a rating or a vote on an answer.
        let in_range = "c.created_at >= ?1 AND c.created_at < ?2
            AND (EXISTS (SELECT 1 FROM messages p WHERE p.conversation_id = c.id AND p.sender = 'patient')
              OR EXISTS (SELECT 1 FROM escalations e WHERE e.conversation_id = c.id)
              OR EXISTS (SELECT 1 FROM ratings r WHERE r.conversation_id = c.id)
              OR EXISTS (SELECT 1 FROM answer_feedback f WHERE f.conversation_id = c.id))";
        let conversations: Vec<FactsRow> = sqlx::query_as(&format!(
            "SELECT c.id, c.visitor_id, c.created_at, c.status, c.handoff, c.queued_at, c.claimed_at, c.resolved_at, s.name,
                    (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id AND m.sender = 'agent'),
                    c.channel
             FROM conversations c LEFT JOIN staff s ON s.id = c.assigned_to WHERE {in_range} ORDER BY c.created_at"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
        let mut facts = Facts::default();
        facts.add_conversations(conversations);
        let escalations: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT e.conversation_id, e.reason, e.outcome FROM escalations e JOIN conversations c ON c.id = e.conversation_id WHERE {in_range}"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
        facts.add_escalations(escalations);
        let callbacks: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT DISTINCT k.conversation_id FROM callbacks k JOIN conversations c ON c.id = k.conversation_id WHERE {in_range}"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
        facts.add_callbacks(callbacks);
        let visitors: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT v.visitor_id, v.created_at FROM conversations v
             WHERE v.visitor_id IN (SELECT c.visitor_id FROM conversations c WHERE {in_range})"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
        facts.add_visitor_starts(visitors);
        let ratings: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT r.conversation_id, r.score FROM ratings r JOIN conversations c ON c.id = r.conversation_id WHERE {in_range}"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
        facts.add_ratings(ratings);
        let served: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT json_extract(m.meta, '$.article') AS a, COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.sender = 'bot' AND a IS NOT NULL AND {in_range} GROUP BY a"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
        facts.add_served(served);
        let votes: Vec<(Option<String>, bool, i64)> = sqlx::query_as(&format!(
            "SELECT f.article, f.helpful, COUNT(*) FROM answer_feedback f JOIN conversations c ON c.id = f.conversation_id
             WHERE {in_range} GROUP BY f.article, f.helpful"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
        facts.add_votes(votes);
        let count = |sql: &'static str| {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(from)
                .bind(to)
                .fetch_one(pool)
        };
        facts.appointments_booked = count("SELECT COUNT(*) FROM appointments WHERE source = 'chat' AND created_at >= ?1 AND created_at < ?2 AND rescheduled_from IS NULL").await?;
        facts.appointments_rescheduled = count("SELECT COUNT(*) FROM appointments WHERE source = 'chat' AND created_at >= ?1 AND created_at < ?2 AND rescheduled_from IS NOT NULL").await?;
        facts.appointments_cancelled = count(
            "SELECT COUNT(*) FROM appointments a WHERE a.cancelled_at >= ?1 AND a.cancelled_at < ?2
            AND NOT EXISTS (SELECT 1 FROM appointments n WHERE n.rescheduled_from = a.id)",
        )
        .await?;
        // The newest, at most MAX_UNANSWERED: grouping is for a page view.
        facts.unanswered = sqlx::query_scalar(&format!(
            "SELECT u.question FROM unanswered u JOIN conversations c ON c.id = u.conversation_id WHERE {in_range} ORDER BY u.id DESC LIMIT {MAX_UNANSWERED}"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?;
        facts.unanswered_total = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM unanswered u JOIN conversations c ON c.id = u.conversation_id WHERE {in_range}"
        ))
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await?;
        let (from_s, to_s) = crate::store::rows::unix_range(from, to);
        facts.messages = sqlx::query_as(&format!(
            "SELECT kind, status, COALESCE(last_error = '{OPTED_OUT}', FALSE), COUNT(*)
             FROM outbox WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1, 2, 3"
        ))
        .bind(from_s)
        .bind(to_s)
        .fetch_all(pool)
        .await?;
        Ok(facts)
    }
}
