//! Appending messages to PostgreSQL in bulk: a run of appends from one write
//! batch costs three statements however long it is (find resends, take
//! sequence numbers, insert), each with its values as arrays (`unnest`), so
//! no statement grows with the run and none is cut into chunks.

use std::collections::HashMap;

use sqlx::{Postgres, Transaction};

use crate::store::plan::{self, Done, Fate, PendingAppend, Stored};
use crate::transcript::{self, NewMessage};

/// Appends `run` in order inside `tx` (see [`plan`] for the rules); `run`
/// is emptied only when every statement succeeded, so a failure can still
/// answer each caller.
pub(super) async fn append_run(
    tx: &mut Transaction<'_, Postgres>,
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

/// Client ids of the run that are already stored.
async fn stored_client_ids<'r>(
    tx: &mut Transaction<'_, Postgres>,
    keyed: &[(&'r str, &'r str)],
) -> Result<Stored<'r>, sqlx::Error> {
    let mut found = Stored::new();
    if keyed.is_empty() {
        return Ok(found);
    }
    let (conversations, client_ids): (Vec<&str>, Vec<&str>) = keyed.iter().copied().unzip();
    let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
        "SELECT m.conversation_id, m.client_id, m.seq, rfc3339(m.created_at)
         FROM unnest($1::text[], $2::text[]) AS k(conversation_id, client_id)
         JOIN messages m ON m.conversation_id = k.conversation_id AND m.client_id = k.client_id",
    )
    .bind(&conversations)
    .bind(&client_ids)
    .fetch_all(&mut **tx)
    .await?;
    for (conversation, client_id, seq, at) in rows {
        if let Some(key) = keyed
            .iter()
            .find(|(c, id)| *c == conversation && *id == client_id)
        {
            found.insert(*key, (seq, at));
        }
    }
    Ok(found)
}

/// Reserves `wanted[c]` sequence numbers in each conversation; returns the
/// first reserved number of each conversation that exists. The rows are
/// locked in id order, so two nodes' writers numbering the same
/// conversations wait for each other instead of deadlocking.
async fn take_sequence_numbers(
    tx: &mut Transaction<'_, Postgres>,
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
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(conversation, next_seq)| {
            let n = wanted.get(conversation.as_str()).copied().unwrap_or(0);
            (conversation, next_seq - n)
        })
        .collect())
}

/// Inserts the messages whose fate is `New`, in one statement.
async fn insert_new(
    tx: &mut Transaction<'_, Postgres>,
    run: &[(&NewMessage, Option<usize>)],
    fates: &[Fate],
    at: &str,
) -> Result<(), sqlx::Error> {
    let mut conversations = Vec::new();
    let mut seqs = Vec::new();
    let mut senders = Vec::new();
    let mut bodies = Vec::new();
    let mut client_ids = Vec::new();
    let mut metas = Vec::new();
    for ((m, _), fate) in run.iter().zip(fates) {
        if let Fate::New { seq } = fate {
            conversations.push(m.conversation.as_str());
            seqs.push(*seq);
            senders.push(m.sender.as_str());
            bodies.push(m.text.as_str());
            client_ids.push(m.client_id.as_ref().map(|c| c.as_str()));
            metas.push(if m.details.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&m.details).map_err(|e| sqlx::Error::Encode(e.into()))?)
            });
        }
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}
