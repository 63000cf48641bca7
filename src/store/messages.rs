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

#[cfg(test)]
mod tests {
    use crate::ids::{ConversationId, TokenDigest};
    use crate::lang::Lang;
    use crate::store::{Store, StoreError, Writer};
    use crate::transcript::{NewMessage, Sender};

    fn message(conversation: &ConversationId, text: &str, client_id: Option<&str>) -> NewMessage {
        NewMessage {
            conversation: conversation.clone(),
            sender: if client_id.is_some() {
                Sender::Patient
            } else {
                Sender::Bot
            },
            text: text.into(),
            client_id: client_id.map(|c| c.parse().unwrap()),
            details: Default::default(),
        }
    }

    /// Side records queued between appends (audit entries, an unanswered
    /// question) are stored with them in one batch: the appends keep their
    /// numbering, the audit chain its order, and a new conversation queued
    /// among them (an op that writes the run first) is created and numbered
    /// from 1.
    #[tokio::test]
    async fn side_records_between_appends_keep_every_outcome_and_the_audit_chain() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let key = crate::store::AuditKey::new(b"a-test-audit-key-000").unwrap();
        let (writer, _task) = Writer::spawn(store.clone());
        let writer = writer.with_audit_key(key.clone());
        let c = writer
            .start_conversation(None, TokenDigest([1; 32]), None, Lang::En)
            .await
            .unwrap()
            .id;
        let audit = |n: u32| crate::store::AuditEntry {
            actor: format!("agent{n}"),
            role: "agent".into(),
            action: "transcript.view".into(),
            target: c.to_string(),
            allowed: true,
        };
        // Queued together (nothing runs until this task yields), so one batch.
        let (one, first_audit, unanswered, two, started, second_audit, three) = tokio::join!(
            writer.append(message(&c, "one", Some("a1"))),
            writer.audit(audit(1)),
            writer.record_unanswered(c.clone(), "is the moon open"),
            writer.append(message(&c, "two", Some("a2"))),
            writer.start_conversation(None, TokenDigest([2; 32]), None, Lang::En),
            writer.audit(audit(2)),
            writer.append(message(&c, "three", Some("a3"))),
        );
        let seqs: Vec<i64> = [one, two, three]
            .into_iter()
            .map(|a| a.unwrap().seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
        first_audit.unwrap();
        second_audit.unwrap();
        unanswered.unwrap();
        let other = started.unwrap().id;
        assert_eq!(
            writer
                .append(message(&other, "hi", Some("b1")))
                .await
                .unwrap()
                .seq,
            1
        );
        let report = store.verify_audit(&key, None).await.unwrap().unwrap();
        assert_eq!((report.legacy, report.keyed), (0, 2));
        let actors: Vec<String> = store
            .audit("0000", "9999", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.actor)
            .collect();
        assert_eq!(
            actors,
            ["agent1", "agent2"],
            "in the order they were queued"
        );
    }

    /// Many appends committed together (resends and an unknown conversation
    /// among them) get the numbers, duplicates and errors one-at-a-time would.
    #[tokio::test]
    async fn a_busy_batch_numbers_each_conversation_in_order_and_stores_resends_once() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let (writer, _task) = Writer::spawn(store.clone());
        let mut conversations = Vec::new();
        for i in 0..3u8 {
            let started = writer
                .start_conversation(None, TokenDigest([i; 32]), None, Lang::En)
                .await
                .unwrap();
            conversations.push(started.id);
        }
        let first = writer
            .append(message(&conversations[0], "sent before", Some("early")))
            .await
            .unwrap();
        // All submitted at once, so they queue up and share batches.
        let mut appends = Vec::new();
        for n in 0..60 {
            let c = &conversations[n % 3];
            appends.push(message(c, &format!("patient {n}"), Some(&format!("m{n}"))));
            appends.push(message(c, &format!("bot {n}"), None));
        }
        appends.push(message(&conversations[0], "resend of m0", Some("m0")));
        appends.push(message(&conversations[0], "resend of early", Some("early")));
        let unknown: ConversationId = format!("cv_{}", "0".repeat(32)).parse().unwrap();
        appends.push(message(&unknown, "lost", Some("x")));
        let outcomes =
            futures_util::future::join_all(appends.into_iter().map(|m| writer.append(m))).await;

        let (resend_m0, resend_early) = (&outcomes[120], &outcomes[121]);
        assert!(matches!(outcomes[122], Err(StoreError::NotFound)));
        let m0 = outcomes[0].as_ref().unwrap();
        assert!(!m0.duplicate);
        let resend_m0 = resend_m0.as_ref().unwrap();
        assert!(resend_m0.duplicate);
        assert_eq!(resend_m0.seq, m0.seq);
        let resend_early = resend_early.as_ref().unwrap();
        assert!(resend_early.duplicate);
        assert_eq!(resend_early.seq, first.seq);
        for (i, c) in conversations.iter().enumerate() {
            let history = store
                .history(c, crate::transcript::Page::latest(1_000))
                .await
                .unwrap()
                .messages;
            let seqs: Vec<i64> = history.iter().map(|m| m.seq).collect();
            let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
            assert_eq!(seqs, expected, "conversation {i} is numbered without gaps");
            let texts: Vec<&str> = history
                .iter()
                .map(|m| m.text.as_str())
                .filter(|t| t.starts_with("patient"))
                .collect();
            let sent: Vec<String> = (0..60)
                .filter(|n| n % 3 == i)
                .map(|n| format!("patient {n}"))
                .collect();
            assert_eq!(texts, sent, "conversation {i} keeps the order sent");
            assert!(!history.iter().any(|m| m.text.starts_with("resend")));
        }
    }

    /// Numbering continues where the database left off after a restart,
    /// when the writer no longer remembers the conversation.
    #[tokio::test]
    async fn numbering_continues_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let c = {
            let store = Store::connect(&url).await.unwrap();
            let (writer, task) = Writer::spawn(store.clone());
            let c = writer
                .start_conversation(None, TokenDigest([9; 32]), None, Lang::En)
                .await
                .unwrap()
                .id;
            for n in 0..3 {
                writer
                    .append(message(&c, &format!("before {n}"), Some(&format!("b{n}"))))
                    .await
                    .unwrap();
            }
            drop(writer);
            task.await.unwrap();
            c
        };
        let store = Store::connect(&url).await.unwrap();
        let (writer, _task) = Writer::spawn(store.clone());
        let resent = writer
            .append(message(&c, "before 2", Some("b2")))
            .await
            .unwrap();
        assert!(resent.duplicate);
        let after = writer
            .exchange(
                message(&c, "after", Some("a")),
                vec![message(&c, "reply", None)],
            )
            .await
            .unwrap();
        assert_eq!(after.message.seq, resent.seq + 1);
        assert_eq!(after.replies[0].seq, resent.seq + 2);
        let seqs: Vec<i64> = store
            .history(&c, crate::transcript::Page::latest(1_000))
            .await
            .unwrap()
            .messages
            .iter()
            .map(|m| m.seq)
            .collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    }

    /// A turn's replies are numbered right after the patient's message, and
    /// a resent turn stores no second set of replies.
    #[tokio::test]
    async fn replies_follow_their_message_and_are_not_stored_twice_for_a_resend() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let (writer, _task) = Writer::spawn(store.clone());
        let c = writer
            .start_conversation(None, TokenDigest([7; 32]), None, Lang::En)
            .await
            .unwrap()
            .id;
        let turn = |n: u8| {
            let replies = vec![
                message(&c, &format!("answer {n}"), None),
                message(&c, &format!("follow-up {n}"), None),
            ];
            writer.exchange(
                message(&c, &format!("question {n}"), Some(&format!("q{n}"))),
                replies,
            )
        };
        // Two turns and a resend of the first, all in one batch.
        let (first, second, resend) = tokio::join!(turn(1), turn(2), turn(1));
        let (first, second, resend) = (first.unwrap(), second.unwrap(), resend.unwrap());
        assert!(!first.message.duplicate && !second.message.duplicate);
        assert!(resend.message.duplicate);
        assert_eq!(resend.message.seq, first.message.seq);
        assert!(resend.replies.is_empty());
        let seqs = |x: &crate::store::Exchanged| {
            std::iter::once(x.message.seq)
                .chain(x.replies.iter().map(|r| r.seq))
                .collect::<Vec<_>>()
        };
        let (a, b) = (seqs(&first), seqs(&second));
        assert_eq!(a, vec![a[0], a[0] + 1, a[0] + 2]);
        assert_eq!(b, vec![a[0] + 3, a[0] + 4, a[0] + 5]);
        // And later, from another batch.
        let later = turn(2).await.unwrap();
        assert!(later.message.duplicate && later.replies.is_empty());
        let texts: Vec<String> = store
            .history(&c, crate::transcript::Page::latest(1_000))
            .await
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(
            texts,
            [
                "question 1",
                "answer 1",
                "follow-up 1",
                "question 2",
                "answer 2",
                "follow-up 2"
            ]
        );
    }
}
