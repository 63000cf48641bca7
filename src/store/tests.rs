//! The writer and the store together: batches, ordering, faults. Every
//! test runs on SQLite and on PostgreSQL (`on_both!`).

use crate::ids::{ConversationId, TokenDigest};
use crate::lang::Lang;
use crate::store::{Store, StoreError, Writer};
use crate::transcript::{NewMessage, Sender};

/// Runs each test body once on a fresh SQLite file and once on a fresh
/// PostgreSQL database (skipped, with a line, when none is configured).
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(&crate::store::testing::sqlite_database(dir.path())).await
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(url) = crate::store::testing::postgres_database().await {
                    super::$name(&url).await
                }
            }
        }
    )*};
}

on_both!(
    side_records_between_appends_keep_every_outcome_and_the_audit_chain,
    a_busy_batch_numbers_each_conversation_in_order_and_stores_resends_once,
    numbering_continues_after_a_restart,
    replies_follow_their_message_and_are_not_stored_twice_for_a_resend,
    safety_events_of_every_kind_are_recorded,
    only_one_of_two_writers_claims_a_queued_chat,
    the_throttle_table_keeps_one_window_of_every_key,
    a_booking_writes_its_confirmation_with_it_and_one_sender_claims_it,
);

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
async fn side_records_between_appends_keep_every_outcome_and_the_audit_chain(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let key = crate::store::AuditKey::new(b"a-test-audit-key-000").unwrap();
    let (writer, _task) = Writer::spawn(store.clone());
    let writer = writer.with_audit_key(key.clone());
    let c = writer
        .start_conversation(None, TokenDigest([1; 32]), None, Lang::En, None)
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
        writer.start_conversation(None, TokenDigest([2; 32]), None, Lang::En, None),
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
        .audit("2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z", 10)
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
async fn a_busy_batch_numbers_each_conversation_in_order_and_stores_resends_once(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let (writer, _task) = Writer::spawn(store.clone());
    let mut conversations = Vec::new();
    for i in 0..3u8 {
        let started = writer
            .start_conversation(None, TokenDigest([i; 32]), None, Lang::En, None)
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
async fn numbering_continues_after_a_restart(url: &str) {
    let c = {
        let store = Store::connect(url).await.unwrap();
        let (writer, task) = Writer::spawn(store.clone());
        let c = writer
            .start_conversation(None, TokenDigest([9; 32]), None, Lang::En, None)
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
    let store = Store::connect(url).await.unwrap();
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
async fn replies_follow_their_message_and_are_not_stored_twice_for_a_resend(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let (writer, _task) = Writer::spawn(store.clone());
    let c = writer
        .start_conversation(None, TokenDigest([7; 32]), None, Lang::En, None)
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

/// Every kind the safety check can give is recorded (the urgent tier came
/// later and needed a migration); an unknown kind is refused by the table.
async fn safety_events_of_every_kind_are_recorded(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let (writer, _task) = Writer::spawn(store.clone());
    let c = writer
        .start_conversation(None, TokenDigest([3; 32]), None, Lang::En, None)
        .await
        .unwrap()
        .id;
    for kind in [
        crate::safety::Kind::Medical,
        crate::safety::Kind::Crisis,
        crate::safety::Kind::Urgent,
    ] {
        writer
            .record_safety(c.clone(), "a_category".into(), kind.as_str())
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
    assert!(
        writer
            .record_safety(c.clone(), "a_category".into(), "shrug")
            .await
            .is_err()
    );
}

/// Two writers on one database (as two nodes would have) claim the same
/// queued chat at once: the database lets exactly one through, the other
/// hears `Conflict`, and a chat that is not queued cannot be claimed.
async fn only_one_of_two_writers_claims_a_queued_chat(url: &str) {
    use crate::store::HandoffChange;
    let first = Store::connect(url).await.unwrap();
    let second = Store::connect(url).await.unwrap();
    let (one, _t1) = Writer::spawn(first.clone());
    let (two, _t2) = Writer::spawn(second.clone());
    let mut staff = Vec::new();
    for name in ["ana", "ben"] {
        staff.push(
            first
                .create_staff(name, crate::accounts::Role::Agent, "x")
                .await
                .unwrap(),
        );
    }
    for round in 0..5u8 {
        let c = one
            .start_conversation(None, TokenDigest([10 + round; 32]), None, Lang::En, None)
            .await
            .unwrap()
            .id;
        let reason = crate::transcript::Reason::PatientRequest;
        one.set_handoff(c.clone(), HandoffChange::Queued { reason })
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            one.set_handoff(c.clone(), HandoffChange::Claimed { agent: staff[0] }),
            two.set_handoff(c.clone(), HandoffChange::Claimed { agent: staff[1] }),
        );
        let won: Vec<_> = [&a, &b].iter().map(|r| r.is_ok()).collect();
        assert_eq!(
            won.iter().filter(|w| **w).count(),
            1,
            "round {round}: {a:?} {b:?}"
        );
        let lost = if a.is_ok() { b } else { a };
        assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
        let holder = second.conversation_info(&c).await.unwrap().unwrap();
        assert_eq!(holder.handoff, "assigned");
        let winner = if won[0] { staff[0] } else { staff[1] };
        assert_eq!(holder.assigned_to, Some(winner));
    }
    let bot = one
        .start_conversation(None, TokenDigest([99; 32]), None, Lang::En, None)
        .await
        .unwrap()
        .id;
    assert!(matches!(
        two.set_handoff(bot, HandoffChange::Claimed { agent: staff[1] })
            .await,
        Err(StoreError::Conflict(_))
    ));
}

/// A full key is refused; counting any key deletes every key's rows from
/// before the window, so failures of names and addresses that never come
/// back do not pile up.
async fn the_throttle_table_keeps_one_window_of_every_key(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let long_ago = "2000-01-01T00:00:00.000Z";
    let b = [("signin:name:b".to_owned(), 1)];
    assert!(store.throttle_take(&b, long_ago).await.unwrap().is_ok());
    assert!(
        store.throttle_take(&b, long_ago).await.unwrap().is_err(),
        "b is full"
    );
    // A window that starts after every stored failure: all are old now.
    let a = [("signin:name:a".to_owned(), 5)];
    assert!(
        store
            .throttle_take(&a, "2999-01-01T00:00:00.000Z")
            .await
            .unwrap()
            .is_ok()
    );
    assert!(
        store.throttle_take(&b, long_ago).await.unwrap().is_ok(),
        "b's old failure was deleted while a was counted"
    );
}

/// A booking and its confirmation are written together: a booking that
/// loses its race leaves no message behind, and of two senders claiming
/// the one message, exactly one gets it; a claimed message is not due
/// again until its lease ends, and a sent one never.
async fn a_booking_writes_its_confirmation_with_it_and_one_sender_claims_it(url: &str) {
    use crate::patient::{BirthDate, Channel, Email, Patient, PatientName};
    use crate::store::{MessageKind, NewAppointment, NewOutbound};
    let store = Store::connect(url).await.unwrap();
    let (writer, _task) = Writer::spawn(store.clone());
    let start = jiff::Timestamp::now().as_second() / 3600 * 3600 + 30 * 86_400;
    let booking = |code: &str| NewAppointment {
        code: code.into(),
        type_id: "flu-shot".into(),
        provider: "np-garcia".into(),
        location: "main".into(),
        starts_at: start,
        ends_at: start + 900,
        patient: Patient {
            name: PatientName::parse("Ana Ruiz").unwrap(),
            dob: BirthDate::parse("1985-03-14").unwrap(),
            phone: None,
            email: Some(Email::parse("ana@example.com").unwrap()),
            contact: Channel::Email,
        },
        source: "chat",
        conversation: None,
        booked_by: None,
        ics_token: "token".into(),
        replaces: None,
        confirm: Some(NewOutbound {
            kind: MessageKind::BookingConfirmed,
            channel: Channel::Email,
            recipient: "ana@example.com".into(),
            lang: Lang::Es,
        }),
        lang: Lang::Es,
    };
    let id = writer.book(booking("AAAA1111")).await.unwrap();
    assert!(matches!(
        writer.book(booking("BBBB2222")).await,
        Err(StoreError::Conflict(_))
    ));
    let now = jiff::Timestamp::now().as_second() + 1;
    let due = store.outbox_due(now, 10).await.unwrap();
    assert_eq!(due.len(), 1, "one message, for the booking that stood");
    let o = &due[0];
    assert_eq!(o.appointment, Some(id));
    assert_eq!(
        (o.recipient.as_str(), o.lang, o.attempts),
        ("ana@example.com", Lang::Es, 0)
    );
    let about = store.appointment_by_id(id).await.unwrap().unwrap();
    assert_eq!(about.code, "AAAA1111");

    let lease = now + 300;
    let (a, b) = tokio::join!(store.outbox_claim(o, lease), store.outbox_claim(o, lease));
    assert!(a.unwrap() ^ b.unwrap(), "exactly one sender claims it");
    assert!(
        store.outbox_due(now, 10).await.unwrap().is_empty(),
        "leased"
    );
    let again = store.outbox_due(lease, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1, "due again when the lease ends");
    store.outbox_sent(o.id, now).await.unwrap();
    assert!(
        store.outbox_due(lease + 1, 10).await.unwrap().is_empty(),
        "sent"
    );
}
