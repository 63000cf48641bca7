//! Appending messages to SQLite in bulk: a run of appends from one write
//! batch costs three statements however long it is (find resends, take
//! sequence numbers, insert), not three per message. Each statement is a round
//! trip to sqlx's database thread, and the writer waits for every one.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, Transaction};
use tokio::sync::oneshot;

use super::sqlite::{Done, pending};
use super::{Appended, Exchanged, StoreError, StoreResult};
use crate::transcript::{self, NewMessage};

/// Rows per INSERT statement (7 parameters each; SQLite allows 32,766).
const INSERT_CHUNK: usize = 256;
/// Bound parameters per lookup statement (conversations, or conversation and
/// client id pairs at two parameters each).
const LOOKUP_CHUNK: usize = 500;

/// One append waiting in a batch: a message, the replies to store with it
/// (only if it is new), and where the outcome goes.
pub(super) type PendingAppend = (
    NewMessage,
    Vec<NewMessage>,
    oneshot::Sender<StoreResult<Exchanged>>,
);

/// What becomes of one message of the run.
enum Fate {
    /// New; its number is taken once the run's counts are known.
    Pending,
    New {
        seq: i64,
    },
    /// Already stored: answered with the original.
    Duplicate {
        seq: i64,
        at: String,
    },
    /// A resend of the message at this earlier row of the run.
    RepeatOf(usize),
    /// A reply to a message that turned out to be a resend: not stored again.
    Skipped,
    /// No such conversation.
    Missing,
}

/// Appends `run` in order inside `tx`; `run` is emptied only when every
/// statement succeeded, so a failure can still answer each caller. Sequence numbers follow the run's
/// order within each conversation, each message directly followed by its
/// replies; a client id already stored (or seen earlier in the run) is
/// answered with the original message, and its replies are not stored.
pub(super) async fn append_run(
    tx: &mut Transaction<'_, Sqlite>,
    run: &mut Vec<PendingAppend>,
) -> Result<Vec<Done>, sqlx::Error> {
    // Every message of the run in order, with the row its replies follow.
    let mut rows: Vec<(&NewMessage, Option<usize>)> = Vec::new();
    for (message, replies, _) in run.iter() {
        let lead = rows.len();
        rows.push((message, None));
        rows.extend(replies.iter().map(|r| (r, Some(lead))));
    }
    let stored = stored_client_ids(tx, &rows).await?;
    let mut first_in_run: HashMap<(&str, &str), usize> = HashMap::new();
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    let mut fates: Vec<Fate> = Vec::with_capacity(rows.len());
    for (i, (m, lead)) in rows.iter().enumerate() {
        let conversation = m.conversation.as_str();
        let client_id = m.client_id.as_ref().map(|c| c.as_str());
        let fate = match (lead, client_id) {
            (Some(lead), _) if !matches!(fates[*lead], Fate::Pending) => Fate::Skipped,
            (None, Some(client_id)) => {
                if let Some((seq, at)) = stored.get(&(conversation, client_id)) {
                    Fate::Duplicate {
                        seq: *seq,
                        at: at.clone(),
                    }
                } else if let Some(first) = first_in_run.get(&(conversation, client_id)) {
                    Fate::RepeatOf(*first)
                } else {
                    first_in_run.insert((conversation, client_id), i);
                    Fate::Pending
                }
            }
            _ => Fate::Pending,
        };
        if matches!(fate, Fate::Pending) {
            *wanted.entry(conversation).or_default() += 1;
        }
        fates.push(fate);
    }
    let mut next = take_sequence_numbers(tx, &wanted).await?;
    let at = transcript::now();
    // In run order, so a repeat's original (always earlier) is settled first.
    for i in 0..fates.len() {
        let settled = match &fates[i] {
            Fate::Pending => match next.get_mut(rows[i].0.conversation.as_str()) {
                Some(seq) => {
                    *seq += 1;
                    Fate::New { seq: *seq - 1 }
                }
                None => Fate::Missing,
            },
            Fate::RepeatOf(first) => match &fates[*first] {
                Fate::New { seq } => Fate::Duplicate {
                    seq: *seq,
                    at: at.clone(),
                },
                _ => Fate::Missing,
            },
            _ => continue,
        };
        fates[i] = settled;
    }
    insert_new(tx, &rows, &fates, &at).await?;
    let appended = |fate: &Fate| match fate {
        Fate::New { seq } => Ok(Appended {
            seq: *seq,
            at: at.clone(),
            duplicate: false,
        }),
        Fate::Duplicate { seq, at } => Ok(Appended {
            seq: *seq,
            at: at.clone(),
            duplicate: true,
        }),
        _ => Err(StoreError::NotFound),
    };
    let mut fates = fates.iter();
    let mut done = Vec::with_capacity(run.len());
    for (_, replies, reply) in run.drain(..) {
        let outcome = fates.next().map_or(Err(StoreError::NotFound), appended);
        let follow_ups: Vec<Appended> = fates
            .by_ref()
            .take(replies.len())
            .filter_map(|f| appended(f).ok())
            .collect();
        done.push(pending(
            reply,
            outcome.map(|message| Exchanged {
                message,
                replies: follow_ups,
            }),
        ));
    }
    Ok(done)
}

/// Client ids of the run that are already stored, keyed by (conversation, client id).
async fn stored_client_ids<'r>(
    tx: &mut Transaction<'_, Sqlite>,
    rows: &[(&'r NewMessage, Option<usize>)],
) -> Result<HashMap<(&'r str, &'r str), (i64, String)>, sqlx::Error> {
    let keyed: Vec<(&str, &str)> = rows
        .iter()
        .filter_map(|(m, _)| Some((m.conversation.as_str(), m.client_id.as_ref()?.as_str())))
        .collect();
    let mut found = HashMap::new();
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
