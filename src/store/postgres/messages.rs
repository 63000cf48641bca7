//! Appending messages to PostgreSQL in bulk: the three statements a run of
//! appends from one write batch costs however long it is (find resends,
//! take sequence numbers, insert; `batch::append_run` runs them), each with
//! its values as arrays (`unnest`), so no statement grows with the run and
//! none is cut into chunks.

use std::collections::HashMap;

use sqlx::{Postgres, Transaction};

use crate::store::batch::Appends;
use crate::store::plan::{self, Fate, Stored, StoredRow};
use crate::transcript::NewMessage;

impl Appends for Transaction<'_, Postgres> {
    async fn stored_client_ids<'r>(
        &mut self,
        keyed: &[(&'r str, &'r str)],
    ) -> Result<Stored<'r>, sqlx::Error> {
        let mut found = Stored::new();
        if keyed.is_empty() {
            return Ok(found);
        }
        let (conversations, client_ids): (Vec<&str>, Vec<&str>) = keyed.iter().copied().unzip();
        let rows: Vec<StoredRow> = sqlx::query_as(
            "SELECT m.conversation_id, m.client_id, m.seq, rfc3339(m.created_at)
             FROM unnest($1::text[], $2::text[]) AS k(conversation_id, client_id)
             JOIN messages m ON m.conversation_id = k.conversation_id AND m.client_id = k.client_id",
        )
        .bind(&conversations)
        .bind(&client_ids)
        .fetch_all(&mut **self)
        .await?;
        plan::add_stored(&mut found, keyed, rows);
        Ok(found)
    }

    /// The rows are locked in id order, so two nodes' writers numbering the
    /// same conversations wait for each other instead of deadlocking.
    async fn take_sequence_numbers(
        &mut self,
        wanted: &HashMap<&str, i64>,
    ) -> Result<HashMap<String, i64>, sqlx::Error> {
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let mut list: Vec<(&str, i64)> = wanted.iter().map(|(c, n)| (*c, *n)).collect();
        list.sort_unstable();
        let (ids, counts): (Vec<&str>, Vec<i64>) = list.into_iter().unzip();
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "WITH locked AS (
                 SELECT c.id FROM conversations c WHERE c.id = ANY($1::text[]) ORDER BY c.id FOR UPDATE
             )
             UPDATE conversations c SET next_seq = c.next_seq + v.n
             FROM unnest($1::text[], $2::bigint[]) AS v(id, n), locked
             WHERE c.id = v.id AND locked.id = v.id
             RETURNING c.id, c.next_seq",
        )
        .bind(&ids)
        .bind(&counts)
        .fetch_all(&mut **self)
        .await?;
        Ok(plan::first_reserved(wanted, rows).collect())
    }

    /// In one statement, however many rows.
    async fn insert_new(
        &mut self,
        rows: &[(&NewMessage, Option<usize>)],
        fates: &[Fate],
        at: &str,
    ) -> Result<(), sqlx::Error> {
        let mut conversations = Vec::new();
        let mut seqs = Vec::new();
        let mut senders = Vec::new();
        let mut bodies = Vec::new();
        let mut client_ids = Vec::new();
        let mut metas = Vec::new();
        for (m, seq, meta) in plan::new_rows(rows, fates)? {
            conversations.push(m.conversation.as_str());
            seqs.push(seq);
            senders.push(m.sender.as_str());
            bodies.push(m.text.as_str());
            client_ids.push(m.client_id.as_ref().map(|c| c.as_str()));
            metas.push(meta);
        }
        if conversations.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO messages (conversation_id, seq, sender, body, client_id, meta, created_at)
             SELECT m.conversation_id, m.seq, m.sender, m.body, m.client_id, m.meta::jsonb, $7::timestamptz
             FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
                  AS m(conversation_id, seq, sender, body, client_id, meta)",
        )
        .bind(&conversations)
        .bind(&seqs)
        .bind(&senders)
        .bind(&bodies)
        .bind(&client_ids)
        .bind(&metas)
        .bind(at)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
