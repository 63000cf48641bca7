//! Appending messages to SQLite in bulk: a run of appends from one write
//! batch costs three statements however long it is (find resends, take
//! sequence numbers, insert), not three per message. Each statement is a round
//! trip to sqlx's database thread, and the writer waits for every one.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, Transaction};

use crate::store::plan::{self, Done, Fate, PendingAppend, Stored};
use crate::transcript::{self, NewMessage};

/// Rows per INSERT statement (7 parameters each; SQLite allows 32,766).
const INSERT_CHUNK: usize = 256;
/// Bound parameters per lookup statement (conversations, or conversation and
/// client id pairs at two parameters each).
const LOOKUP_CHUNK: usize = 500;

/// Appends `run` in order inside `tx` (see [`plan`] for the rules); `run`
/// is emptied only when every statement succeeded, so a failure can still
/// answer each caller.
pub(super) async fn append_run(
    tx: &mut Transaction<'_, Sqlite>,
    run: &mut Vec<PendingAppend>,
) -> Result<Vec<Done>, sqlx::Error> {
    let rows = plan::rows(run);
    let stored = stored_client_ids(tx, &plan::client_keys(&rows)).await?;
    let (mut fates, wanted) = plan::plan(&rows, &stored);
    let first = take_sequence_numbers(tx, &wanted).await?;
    let at = transcript::now();
    plan::settle(&rows, &mut fates, first, &at);
    insert_new(tx, &rows, &fates, &at).await?;
    drop(rows);
    Ok(plan::answers(run, &fates, &at))
}

/// Client ids of the run that are already stored, keyed by (conversation, client id).
async fn stored_client_ids<'r>(
    tx: &mut Transaction<'_, Sqlite>,
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
        let rows: Vec<(String, String, i64, String)> =
            q.build_query_as().fetch_all(&mut **tx).await?;
        for (conversation, client_id, seq, at) in rows {
            if let Some(key) = chunk
                .iter()
                .find(|(c, id)| *c == conversation && *id == client_id)
            {
                found.insert(*key, (seq, at));
            }
        }
    }
    Ok(found)
}

/// Reserves `wanted[c]` sequence numbers in each conversation; returns the
/// first reserved number of each conversation that exists.
async fn take_sequence_numbers(
    tx: &mut Transaction<'_, Sqlite>,
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
        let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut **tx).await?;
        for (conversation, next_seq) in rows {
            let n = wanted.get(conversation.as_str()).copied().unwrap_or(0);
            first.insert(conversation, next_seq - n);
        }
    }
    Ok(first)
}

/// Inserts the messages whose fate is `New`, in multi-row statements.
async fn insert_new(
    tx: &mut Transaction<'_, Sqlite>,
    run: &[(&NewMessage, Option<usize>)],
    fates: &[Fate],
    at: &str,
) -> Result<(), sqlx::Error> {
    let mut rows = Vec::with_capacity(run.len());
    for ((m, _), fate) in run.iter().zip(fates) {
        if let Fate::New { seq } = fate {
            let meta = if m.details.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&m.details).map_err(|e| sqlx::Error::Encode(e.into()))?)
            };
            rows.push((m, *seq, meta));
        }
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
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
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
