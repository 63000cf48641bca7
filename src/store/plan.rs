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
mod tests {
    use super::*;
    use crate::ids::ConversationId;
    use crate::transcript::Sender;

    fn message(conversation: &ConversationId, client_id: Option<&str>) -> NewMessage {
        NewMessage {
            conversation: conversation.clone(),
            sender: if client_id.is_some() {
                Sender::Patient
            } else {
                Sender::Bot
            },
            text: "text".into(),
            client_id: client_id.map(|c| c.parse().unwrap()),
            details: Default::default(),
        }
    }

    fn append(
        message: NewMessage,
        replies: Vec<NewMessage>,
    ) -> (PendingAppend, oneshot::Receiver<StoreResult<Exchanged>>) {
        let (tx, rx) = oneshot::channel();
        ((message, replies, tx), rx)
    }

    fn op_append(m: NewMessage) -> WriteOp {
        let (reply, _) = oneshot::channel();
        WriteOp::Append {
            message: m,
            replies: vec![],
            reply,
        }
    }

    fn kind(step: &Step) -> &'static str {
        match step {
            Step::Appends(_) => "appends",
            Step::Op(WriteOp::RecordUnanswered { .. }) => "side",
            Step::Op(WriteOp::EndConversation { .. }) => "end",
            Step::Op(_) => "other",
        }
    }

    /// Side records wait behind the run they came after; any other op
    /// writes the run and the records held back before it goes.
    #[test]
    fn a_batch_keeps_appends_together_until_an_op_needs_them_written() {
        let c: ConversationId = ConversationId::generate();
        let side = || {
            let (reply, _) = oneshot::channel();
            WriteOp::RecordUnanswered {
                conversation: c.clone(),
                question: "q".into(),
                reply,
            }
        };
        let end = || {
            let (reply, _) = oneshot::channel();
            WriteOp::EndConversation {
                conversation: c.clone(),
                reply,
            }
        };
        let ops = vec![
            op_append(message(&c, Some("a"))),
            side(),
            op_append(message(&c, Some("b"))),
            end(),
            side(),
            op_append(message(&c, Some("c"))),
        ];
        let steps = order(ops);
        let kinds: Vec<_> = steps.iter().map(kind).collect();
        assert_eq!(kinds, ["appends", "side", "end", "appends", "side"]);
        match &steps[0] {
            Step::Appends(run) => assert_eq!(run.len(), 2),
            _ => unreachable!(),
        }
        assert!(order(vec![]).is_empty());
    }

    /// Numbers follow the run's order in each conversation, a message right
    /// before its replies; a resend (stored, or earlier in the run) gets the
    /// original's number and its replies are not stored again.
    #[test]
    fn a_run_numbers_new_messages_and_answers_resends_with_the_original() {
        let c1 = ConversationId::generate();
        let c2 = ConversationId::generate();
        let gone = ConversationId::generate();
        let (a, mut ra) = append(message(&c1, Some("a")), vec![message(&c1, None)]);
        let (b, _) = append(message(&c2, Some("b")), vec![]);
        let (again, mut r_again) = append(message(&c1, Some("a")), vec![message(&c1, None)]);
        let (old, mut r_old) = append(message(&c2, Some("old")), vec![message(&c2, None)]);
        let (lost, mut r_lost) = append(message(&gone, Some("x")), vec![]);
        let mut run = vec![a, b, again, old, lost];
        let rows = rows(&run);
        assert_eq!(rows.len(), 8);
        assert_eq!(
            client_keys(&rows),
            [
                (c1.as_str(), "a"),
                (c2.as_str(), "b"),
                (c1.as_str(), "a"),
                (c2.as_str(), "old"),
                (gone.as_str(), "x")
            ]
        );
        let mut stored = Stored::new();
        stored.insert((c2.as_str(), "old"), (4, "then".to_owned()));
        let (mut fates, wanted) = plan(&rows, &stored);
        assert_eq!(wanted[c1.as_str()], 2);
        assert_eq!(wanted[c2.as_str()], 1);
        assert_eq!(wanted[gone.as_str()], 1);
        assert_eq!(fates[3], Fate::RepeatOf(0));
        assert_eq!(fates[4], Fate::Skipped);
        let first = HashMap::from([(c1.as_str().to_owned(), 10), (c2.as_str().to_owned(), 5)]);
        settle(&rows, &mut fates, first, "now");
        assert_eq!(
            fates,
            [
                Fate::New { seq: 10 },
                Fate::New { seq: 11 },
                Fate::New { seq: 5 },
                Fate::Duplicate {
                    seq: 10,
                    at: "now".into()
                },
                Fate::Skipped,
                Fate::Duplicate {
                    seq: 4,
                    at: "then".into()
                },
                Fate::Skipped,
                Fate::Missing,
            ]
        );
        drop(rows);
        let done = answers(&mut run, &fates, "now");
        assert!(run.is_empty());
        done.into_iter().for_each(|d| d(None));
        let first = ra.try_recv().unwrap().unwrap();
        assert_eq!((first.message.seq, first.message.duplicate), (10, false));
        assert_eq!(
            first.replies.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [11]
        );
        let again = r_again.try_recv().unwrap().unwrap();
        assert_eq!((again.message.seq, again.message.duplicate), (10, true));
        assert!(again.replies.is_empty());
        let old = r_old.try_recv().unwrap().unwrap();
        assert_eq!((old.message.seq, old.message.at.as_str()), (4, "then"));
        assert!(matches!(
            r_lost.try_recv().unwrap(),
            Err(StoreError::NotFound)
        ));
    }

    /// What the append statements read comes back under the run's own keys
    /// (rows for other keys are ignored); the first reserved number is the
    /// counter less what was taken; only new rows are inserted, with their
    /// details as JSON when they have any.
    #[test]
    fn statement_rows_map_back_onto_the_run() {
        let c = ConversationId::generate();
        let keyed = [(c.as_str(), "a"), (c.as_str(), "b")];
        let mut found = Stored::new();
        add_stored(
            &mut found,
            &keyed,
            vec![
                (c.as_str().to_owned(), "b".to_owned(), 7, "then".to_owned()),
                ("other".to_owned(), "a".to_owned(), 1, "then".to_owned()),
            ],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[&(c.as_str(), "b")], (7, "then".to_owned()));

        let wanted = HashMap::from([(c.as_str(), 3)]);
        let first: HashMap<_, _> =
            first_reserved(&wanted, vec![(c.as_str().to_owned(), 13)]).collect();
        assert_eq!(first[c.as_str()], 10);

        let plain = message(&c, Some("a"));
        let mut detailed = message(&c, None);
        detailed.details.article = Some("hours".into());
        let rows = vec![(&plain, None), (&detailed, Some(0)), (&plain, None)];
        let fates = [
            Fate::New { seq: 1 },
            Fate::New { seq: 2 },
            Fate::RepeatOf(0),
        ];
        let new = new_rows(&rows, &fates).unwrap();
        assert_eq!(new.len(), 2);
        assert_eq!((new[0].1, new[0].2.as_deref()), (1, None));
        assert_eq!(
            (new[1].1, new[1].2.as_deref()),
            (2, Some(r#"{"article":"hours"}"#))
        );
    }

    /// A rolled-back batch answers every caller with the fault, whether its
    /// op was applied or still waiting.
    #[test]
    fn a_rolled_back_batch_answers_every_caller_unavailable() {
        let c = ConversationId::generate();
        let (a, mut ra) = append(message(&c, Some("a")), vec![]);
        let mut run = vec![a];
        let mut fates = vec![Fate::Pending];
        settle(
            &rows(&run),
            &mut fates,
            HashMap::from([(c.as_str().to_owned(), 1)]),
            "now",
        );
        answers(&mut run, &fates, "now")
            .into_iter()
            .for_each(|d| d(Some(Fault::DiskFull)));
        assert!(matches!(
            ra.try_recv().unwrap(),
            Err(StoreError::Unavailable(Fault::DiskFull))
        ));
        let (b, mut rb) = append(message(&c, Some("b")), vec![]);
        Step::Appends(vec![b]).fail(Fault::Locked);
        assert!(matches!(
            rb.try_recv().unwrap(),
            Err(StoreError::Unavailable(Fault::Locked))
        ));
    }
}
