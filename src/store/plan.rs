//! What a write batch does, decided before any SQL runs: the order its ops
//! are applied in, and what becomes of each message of a run of appends
//! (new, a resend of a stored message, a reply that is not stored again),
//! and what the rows each backend's append statements read and write mean
//! for the run. Pure, so every backend follows the same rules and they are
//! unit-tested without a database.

use std::collections::HashMap;

use tokio::sync::oneshot;

use super::fault::Fault;
use super::{Appended, Exchanged, StoreError, StoreResult, WriteOp};
use crate::transcript::NewMessage;

/// An applied op waiting for its transaction: called with `None` once the
/// commit succeeded (the op's outcome is sent), or with the fault that
/// rolled it back.
pub(super) type Done = Box<dyn FnOnce(Option<Fault>) + Send>;

/// Builds a [`Done`] that sends `outcome` to `reply` on commit.
pub(super) fn pending<T: Send + 'static>(
    reply: oneshot::Sender<StoreResult<T>>,
    outcome: StoreResult<T>,
) -> Done {
    Box::new(move |rolled_back| {
        let outcome = match rolled_back {
            None => outcome,
            Some(fault) => Err(StoreError::Unavailable(fault)),
        };
        // A caller that gave up waiting is not an error.
        let _ = reply.send(outcome);
    })
}

/// One append waiting in a batch: a message, the replies to store with it
/// (only if it is new), and where the outcome goes.
pub(super) type PendingAppend = (
    NewMessage,
    Vec<NewMessage>,
    oneshot::Sender<StoreResult<Exchanged>>,
);

/// One step of a batch, in the order a backend applies them. (Ops are
/// moved, not boxed: a batch holds a few hundred steps for a moment.)
#[allow(clippy::large_enum_variant)]
pub(super) enum Step {
    /// Appends written in bulk, in order.
    Appends(Vec<PendingAppend>),
    /// Any other op, alone.
    Op(WriteOp),
}

impl Step {
    /// Answers every caller of a step that was not committed.
    pub(super) fn fail(self, fault: Fault) {
        match self {
            Step::Appends(run) => {
                for (_, _, reply) in run {
                    let _ = reply.send(Err(StoreError::Unavailable(fault)));
                }
            }
            Step::Op(op) => op.fail(fault),
        }
    }
}

/// Orders a batch. Appends go in one run for as long as nothing they depend
/// on intervenes: records on the side ([`WriteOp::is_side_record`]) wait
/// until the run before them is written; any other op writes the run (and
/// the records held back behind it) first. Each statement is a round trip,
/// and a busy batch's records used to cut its appends into many runs.
pub(super) fn order(ops: Vec<WriteOp>) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut run = Vec::new();
    let mut side = Vec::new();
    let flush = |steps: &mut Vec<Step>, run: &mut Vec<PendingAppend>, side: &mut Vec<WriteOp>| {
        if !run.is_empty() {
            steps.push(Step::Appends(std::mem::take(run)));
        }
        steps.extend(side.drain(..).map(Step::Op));
    };
    for op in ops {
        match op {
            WriteOp::Append {
                message,
                replies,
                reply,
            } => run.push((message, replies, reply)),
            op if op.is_side_record() => side.push(op),
            op => {
                flush(&mut steps, &mut run, &mut side);
                steps.push(Step::Op(op));
            }
        }
    }
    flush(&mut steps, &mut run, &mut side);
    steps
}

/// What becomes of one message of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fate {
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

/// Every message of a run in order, each with the row its replies follow
/// (`None` for a patient's or bot's message that leads).
pub(super) fn rows(run: &[PendingAppend]) -> Vec<(&NewMessage, Option<usize>)> {
    let mut rows = Vec::new();
    for (message, replies, _) in run {
        let lead = rows.len();
        rows.push((message, None));
        rows.extend(replies.iter().map(|r| (r, Some(lead))));
    }
    rows
}

/// The (conversation, client id) pairs of a run's rows, to look up.
pub(super) fn client_keys<'r>(rows: &[(&'r NewMessage, Option<usize>)]) -> Vec<(&'r str, &'r str)> {
    rows.iter()
        .filter_map(|(m, _)| Some((m.conversation.as_str(), m.client_id.as_ref()?.as_str())))
        .collect()
}

/// Client ids already stored: (conversation, client id) → (seq, at).
pub(super) type Stored<'r> = HashMap<(&'r str, &'r str), (i64, String)>;

/// A message of the run found stored: conversation, client id, seq, stored
/// at (RFC 3339).
pub(super) type StoredRow = (String, String, i64, String);

/// Adds the messages found stored for `keyed` (some of a run's
/// [`client_keys`]) to `found`, under the run's own key.
pub(super) fn add_stored<'r>(
    found: &mut Stored<'r>,
    keyed: &[(&'r str, &'r str)],
    rows: Vec<StoredRow>,
) {
    for (conversation, client_id, seq, at) in rows {
        if let Some(key) = keyed
            .iter()
            .find(|(c, id)| *c == conversation && *id == client_id)
        {
            found.insert(*key, (seq, at));
        }
    }
}

/// Each conversation's first reserved number, from its counter after
/// `wanted` numbers were taken (rows of conversation and `next_seq`).
pub(super) fn first_reserved(
    wanted: &HashMap<&str, i64>,
    rows: Vec<(String, i64)>,
) -> impl Iterator<Item = (String, i64)> {
    rows.into_iter().map(|(conversation, next_seq)| {
        let n = wanted.get(conversation.as_str()).copied().unwrap_or(0);
        (conversation, next_seq - n)
    })
}

/// A message to insert: the message, its number, its details as JSON
/// (`None` when it has none).
pub(super) type NewRow<'m> = (&'m NewMessage, i64, Option<String>);

/// The rows of a run whose fate is `New`, in run order.
pub(super) fn new_rows<'m>(
    rows: &[(&'m NewMessage, Option<usize>)],
    fates: &[Fate],
) -> Result<Vec<NewRow<'m>>, sqlx::Error> {
    let mut new = Vec::with_capacity(rows.len());
    for ((m, _), fate) in rows.iter().zip(fates) {
        if let Fate::New { seq } = fate {
            let meta = if m.details.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&m.details).map_err(|e| sqlx::Error::Encode(e.into()))?)
            };
            new.push((*m, *seq, meta));
        }
    }
    Ok(new)
}

/// Decides each row's fate from what is stored, and how many sequence
/// numbers each conversation needs. A client id already stored (or seen
/// earlier in the run) is answered with the original; its replies are not
/// stored again.
pub(super) fn plan<'r>(
    rows: &[(&'r NewMessage, Option<usize>)],
    stored: &Stored<'r>,
) -> (Vec<Fate>, HashMap<&'r str, i64>) {
    let mut first_in_run: HashMap<(&str, &str), usize> = HashMap::new();
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    let mut fates: Vec<Fate> = Vec::with_capacity(rows.len());
    for (i, (m, lead)) in rows.iter().enumerate() {
        let conversation = m.conversation.as_str();
        let client_id = m.client_id.as_ref().map(|c| c.as_str());
        let fate = match (lead, client_id) {
            (Some(lead), _) if fates[*lead] != Fate::Pending => Fate::Skipped,
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
        if fate == Fate::Pending {
            *wanted.entry(conversation).or_default() += 1;
        }
        fates.push(fate);
    }
    (fates, wanted)
}

/// Numbers the new rows from each conversation's first reserved number
/// (`first`; a conversation missing from it does not exist), in run order,
/// and answers repeats with the number their original got.
pub(super) fn settle(
    rows: &[(&NewMessage, Option<usize>)],
    fates: &mut [Fate],
    mut first: HashMap<String, i64>,
    at: &str,
) {
    // In run order, so a repeat's original (always earlier) is settled first.
    for i in 0..fates.len() {
        let settled = match &fates[i] {
            Fate::Pending => match first.get_mut(rows[i].0.conversation.as_str()) {
                Some(seq) => {
                    *seq += 1;
                    Fate::New { seq: *seq - 1 }
                }
                None => Fate::Missing,
            },
            Fate::RepeatOf(original) => match &fates[*original] {
                Fate::New { seq } => Fate::Duplicate {
                    seq: *seq,
                    at: at.to_owned(),
                },
                _ => Fate::Missing,
            },
            _ => continue,
        };
        fates[i] = settled;
    }
}

/// The outcome of each append of `run` from the settled fates, waiting for
/// the commit; empties `run`.
pub(super) fn answers(run: &mut Vec<PendingAppend>, fates: &[Fate], at: &str) -> Vec<Done> {
    let appended = |fate: &Fate| match fate {
        Fate::New { seq } => Ok(Appended {
            seq: *seq,
            at: at.to_owned(),
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
    done
}

#[cfg(test)]
mod tests;
