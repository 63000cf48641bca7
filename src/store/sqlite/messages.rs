//! Appending messages to SQLite in bulk: the three statements a run of
//! appends from one write batch costs however long it is (find resends,
//! take sequence numbers, insert; `batch::append_run` runs them), not three
//! per message. Each statement is a round trip to sqlx's database thread,
//! and the writer waits for every one.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, Transaction};

use crate::store::batch::Appends;
use crate::store::plan::{self, Fate, Stored, StoredRow};
use crate::transcript::NewMessage;

/// Rows per INSERT statement (7 parameters each; SQLite allows 32,766).
const INSERT_CHUNK: usize = 256;
/// Bound parameters per lookup statement (conversations, or conversation and
/// client id pairs at two parameters each).
const LOOKUP_CHUNK: usize = 500;

impl Appends for Transaction<'_, Sqlite> {
    async fn stored_client_ids<'r>(
        &mut self,
        keyed: &[(&'r str, &'r str)],
    ) -> Result<Stored<'r>, sqlx::Error> {
        let mut found = Stored::new();
        for chunk in keyed.chunks(LOOKUP_CHUNK / 2) {
            // One index probe per pair. (Two IN lists made SQLite probe every
            // conversation with every client id: n² probes, 2 ms for 100 pairs.)
            let mut q = QueryBuilder::<Sqlite>::new(
                "SELECT m.conversation_id, m.client_id, m.seq, m.created_at FROM (",
            );
            q.push_values(chunk, |mut row, (conversation, client_id)| {
                row.push_bind(*conversation).push_bind(*client_id);
            });
            q.push(
                ") AS k JOIN messages m ON m.conversation_id = k.column1 AND m.client_id = k.column2",
            );
            let rows: Vec<StoredRow> = q.build_query_as().fetch_all(&mut **self).await?;
            plan::add_stored(&mut found, chunk, rows);
        }
        Ok(found)
    }

    async fn take_sequence_numbers(
        &mut self,
        wanted: &HashMap<&str, i64>,
    ) -> Result<HashMap<String, i64>, sqlx::Error> {
        let list: Vec<(&str, i64)> = wanted.iter().map(|(c, n)| (*c, *n)).collect();
        let mut first = HashMap::with_capacity(list.len());
        for chunk in list.chunks(LOOKUP_CHUNK / 2) {
            // A join with a VALUES list: one probe per conversation (a CASE
            // over the list compared each row with every conversation).
            let mut q = QueryBuilder::<Sqlite>::new(
                "UPDATE conversations SET next_seq = next_seq + v.column2 FROM (",
            );
            q.push_values(chunk, |mut row, (conversation, n)| {
                row.push_bind(*conversation).push_bind(*n);
            });
            q.push(") AS v WHERE conversations.id = v.column1 RETURNING id, next_seq");
            let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut **self).await?;
            first.extend(plan::first_reserved(wanted, rows));
        }
        Ok(first)
    }

    /// In multi-row statements of [`INSERT_CHUNK`] rows.
    async fn insert_new(
        &mut self,
        rows: &[(&NewMessage, Option<usize>)],
        fates: &[Fate],
        at: &str,
    ) -> Result<(), sqlx::Error> {
        let new = plan::new_rows(rows, fates)?;
        for chunk in new.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO messages (conversation_id, seq, sender, body, client_id, meta, created_at) ",
            );
            q.push_values(chunk, |mut row, (m, seq, meta)| {
                row.push_bind(m.conversation.as_str())
                    .push_bind(*seq)
                    .push_bind(m.sender.as_str())
                    .push_bind(m.text.as_str())
                    .push_bind(m.client_id.as_ref().map(|c| c.as_str()))
                    .push_bind(meta.as_deref())
                    .push_bind(at);
            });
            q.build().execute(&mut **self).await?;
        }
        Ok(())
    }
}
