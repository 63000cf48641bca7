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
    let first: HashMap<_, _> = first_reserved(&wanted, vec![(c.as_str().to_owned(), 13)]).collect();
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
