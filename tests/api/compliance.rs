//! Audit log, access refusals and retention, through the real server, CLI
//! and database.

use serde_json::{Value, json};

use super::helpers::{AroundDb, spawn_app};

/// Escalates a chat and lets `maria` claim it; returns the conversation id.
async fn claimed_by_maria(app: &super::helpers::TestApp, maria: &str) -> String {
    let mut agent = app.console(maria).await;
    let mut patient = app.chat().await;
    patient.start().await;
    patient.say("p1", "I want to talk to a person").await;
    let conversation = agent.only_waiting().await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent.until("claimed").await;
    conversation
}

#[tokio::test]
async fn staff_access_and_refusals_are_audited_without_message_text() {
    let app = spawn_app().await;
    let maria = app.staff("maria", "agent").await;
    let otto = app.staff("otto", "agent").await;
    let editor = app.staff("ed", "editor").await;
    let conversation = claimed_by_maria(&app, &maria).await;
    let path = format!("/api/conversations/{conversation}");
    assert_eq!(app.get_as(&maria, &path).await.status(), 200);
    assert_eq!(app.get_as(&otto, &path).await.status(), 403);
    assert_eq!(app.get_as(&editor, &path).await.status(), 403);
    assert_eq!(
        app.get_as(&maria, "/api/audit").await.status(),
        403,
        "only admins read the audit log"
    );

    assert_eq!(
        app.get_as(&editor, "/api/appointments/ABCD2345")
            .await
            .status(),
        403
    );
    let admin = app.login_admin().await;
    let rows: Vec<Value> = app.get_as(&admin, "/api/audit").await.json().await.unwrap();
    let seen: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["actor"].as_str().unwrap().into(),
                r["action"].as_str().unwrap().into(),
                r["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    for expected in [
        ("maria", "chat.claim", "allowed"),
        ("maria", "transcript.view", "allowed"),
        ("otto", "transcript.view", "refused"),
        ("ed", "transcript.view", "refused"),
        ("maria", "audit.view", "refused"),
        ("admin", "audit.view", "allowed"),
        ("ed", "appointment.view", "refused"),
    ] {
        let expected = (
            expected.0.to_owned(),
            expected.1.to_owned(),
            expected.2.to_owned(),
        );
        assert!(
            seen.contains(&expected),
            "{expected:?} missing from {seen:?}"
        );
    }
    let text = serde_json::to_string(&rows).unwrap();
    assert!(
        !text.contains("talk to a person"),
        "no message text in the audit log"
    );

    let csv = app
        .get_as(&admin, "/api/audit?format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("id,at,actor,role,action,target,outcome\n"),
        "{csv}"
    );
}

/// What the audit log takes in is checked and bounded, what it gives out
/// is safe to open in a spreadsheet, and reading callback requests (names
/// and numbers) is audited.
#[tokio::test]
async fn the_audit_log_takes_only_checked_bounded_fields_and_exports_no_formulas() {
    let app = spawn_app().await;
    let maria = app.staff("maria", "agent").await;
    let book = |slot: String| {
        reqwest::Client::new()
            .post(app.url("/api/appointments"))
            .header("cookie", &maria)
            .json(&serde_json::json!({"slot": slot, "patient": {}}))
            .send()
    };
    // A 2 MB "slot" is refused before anything is written about it.
    let huge = book("x".repeat(2_000_000)).await.unwrap();
    assert!(huge.status().is_client_error(), "{}", huge.status());
    // A formula where a slot goes: refused, and never stored as given.
    let formula = book("=HYPERLINK(\"http://evil.example\",\"x\")".into())
        .await
        .unwrap();
    assert_eq!(formula.status(), 400);
    assert_eq!(app.get_as(&maria, "/api/callbacks").await.status(), 200);

    let admin = app.login_admin().await;
    let rows: Vec<Value> = app.get_as(&admin, "/api/audit").await.json().await.unwrap();
    let text = serde_json::to_string(&rows).unwrap();
    assert!(
        !text.contains("xxxxxxxxxx"),
        "the oversized slot was audited"
    );
    assert!(
        !text.contains("HYPERLINK"),
        "the unchecked slot was audited"
    );
    assert!(
        rows.iter()
            .any(|r| r["actor"] == "maria" && r["action"] == "callbacks.list"),
        "{text}"
    );
    // Every exported cell is safe: none starts with a formula character.
    let csv = app
        .get_as(&admin, "/api/audit?format=csv")
        .await
        .text()
        .await
        .unwrap();
    for cell in csv.lines().skip(1).flat_map(|l| l.split(',')) {
        let inner = cell.trim_matches('"');
        assert!(
            !inner.starts_with(['=', '+', '-', '@']),
            "a formula cell: {cell}"
        );
    }
}

#[tokio::test]
async fn tampering_with_the_audit_log_is_detected() {
    let app = spawn_app().await;
    let maria = app.staff("maria", "agent").await;
    claimed_by_maria(&app, &maria).await;
    let ok = app.cli(&["audit", "verify"], "").await;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    // Updates are refused outright...
    let db = AroundDb::open(&app.database_url()).await;
    assert!(
        db.execute("UPDATE audit_log SET actor = 'nobody'")
            .await
            .is_err()
    );
    assert!(db.execute("DELETE FROM audit_log").await.is_err());
    // ...and someone who gets around the triggers breaks the chain.
    db.drop_audit_trigger("audit_log_no_update").await;
    db.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 1")
        .await
        .unwrap();
    let tampered = app.cli(&["audit", "verify"], "").await;
    assert_eq!(tampered.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&tampered.stdout).contains("entry 1"));
}

#[tokio::test]
async fn purge_removes_old_transcripts_and_appointments_and_keeps_the_rest() {
    let app = spawn_app().await;
    let mut chat = app.chat().await;
    let old = chat.start().await;
    chat.say("m1", "an old question").await;
    chat.expect("reply").await;
    // A chat waiting for a person is never purged from under the agents.
    let _agent = app.console(&app.staff("maria", "agent").await).await;
    let mut waiting = app.chat().await;
    let queued = waiting.start().await;
    waiting.say("w1", "I want to talk to a person").await;
    waiting.until("queued").await;
    // A future appointment is kept.
    let cookie = app.staff("lee", "agent").await;
    let slots: Vec<Value> = reqwest::get(app.url("/api/slots?type=sick-visit&days=3"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let booked = reqwest::Client::new()
        .post(app.url("/api/appointments"))
        .header("cookie", &cookie)
        .json(&json!({"slot": slots[0]["id"], "patient": {"name": "Ana Ruiz", "dob": "1985-03-14", "email": "ana@example.org", "contact": "email"}}))
        .send()
        .await
        .unwrap();
    let code = booked.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let dry = app
        .cli(&["purge", "--dry-run", "--retention-days", "0"], "")
        .await;
    let said = String::from_utf8_lossy(&dry.stdout).to_string();
    assert!(
        said.starts_with("would purge: 1 conversations"),
        "{said}\n{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let mut again = app.chat().await;
    again.resume(old["resume"].as_str().unwrap()).await;

    let real = app.cli(&["purge", "--retention-days", "0"], "").await;
    assert!(
        String::from_utf8_lossy(&real.stdout).starts_with("purged: 1 conversations"),
        "{}",
        String::from_utf8_lossy(&real.stdout)
    );
    let mut gone = app.chat().await;
    gone.send_json(json!({"type": "start", "resume": old["resume"]}))
        .await;
    assert_eq!(gone.expect("error").await["code"], "unknown_resume");
    let mut kept = app.chat().await;
    assert_eq!(
        kept.resume(queued["resume"].as_str().unwrap()).await["conversation"],
        queued["conversation"]
    );
    let stored = app.appointment(&cookie, &code).await;
    assert_eq!(stored["booked"], true);
    assert!(
        app.cli(&["audit", "verify"], "").await.status.success(),
        "the audit log is kept"
    );
}

/// The app's database opened around the server, with the audit log's
/// append-only triggers dropped, as an admin with database access could.
async fn without_triggers(app: &super::helpers::TestApp, triggers: &[&str]) -> AroundDb {
    let db = AroundDb::open(&app.database_url()).await;
    for trigger in triggers {
        db.drop_audit_trigger(trigger).await;
    }
    db
}

/// Every link recomputed, as someone with the database but not the key
/// would: as plain SHA-256 (`keyed` None) or as an HMAC under a guess.
async fn relink(db: &AroundDb, keyed: Option<&[u8]>) {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let rows = db.audit_rows().await;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut prev = "0".repeat(64);
    for (id, at, actor, role, action, target, outcome) in rows {
        let parts = [&prev, &at, &actor, &role, &action, &target, &outcome];
        let mut bytes = Vec::new();
        for p in parts {
            bytes.extend((p.len() as u64).to_be_bytes());
            bytes.extend(p.as_bytes());
        }
        let hash = match keyed {
            Some(key) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
                mac.update(&bytes);
                hex(&mac.finalize().into_bytes())
            }
            None => hex(&Sha256::digest(&bytes)),
        };
        db.set_links(id, &prev, &hash, keyed.is_some()).await;
        prev = hash;
    }
}

/// The chain is keyed with a secret outside the database: an admin who
/// edits a row and re-links the whole log is caught, and cutting entries
/// off the end is caught against a head exported earlier.
#[tokio::test]
async fn rewriting_the_log_without_its_key_or_cutting_it_short_is_caught() {
    let app = spawn_app().await;
    let maria = app.staff("maria", "agent").await;
    claimed_by_maria(&app, &maria).await;
    let head = app.cli(&["audit", "head"], "").await;
    assert!(
        head.status.success(),
        "{}",
        String::from_utf8_lossy(&head.stderr)
    );
    let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    assert_eq!(head.len(), 64, "{head}");
    let ok = app
        .cli(&["audit", "verify", "--expect-head", &head], "")
        .await;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let later = app.staff("lee", "agent").await;
    claimed_by_maria(&app, &later).await;

    let db = without_triggers(&app, &["audit_log_no_update"]).await;
    db.execute("UPDATE audit_log SET actor = 'nobody' WHERE actor = 'maria'")
        .await
        .unwrap();
    for guess in [None, Some(b"a-guessed-audit-key".as_slice())] {
        relink(&db, guess).await;
        let caught = app.cli(&["audit", "verify"], "").await;
        let said = String::from_utf8_lossy(&caught.stdout).to_string();
        assert_eq!(caught.status.code(), Some(1), "{guess:?}: {said}");
        assert!(said.starts_with("TAMPERED"), "{said}");
    }

    // Rows cut off the end leave an intact chain, but not the exported head.
    let fresh = spawn_app().await;
    let agent = fresh.staff("maria", "agent").await;
    claimed_by_maria(&fresh, &agent).await;
    let out = fresh.cli(&["audit", "head"], "").await;
    let head = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let db = without_triggers(&fresh, &["audit_log_no_delete"]).await;
    db.execute("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)")
        .await
        .unwrap();
    assert!(fresh.cli(&["audit", "verify"], "").await.status.success());
    let cut = fresh
        .cli(&["audit", "verify", "--expect-head", &head], "")
        .await;
    assert_eq!(cut.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&cut.stdout).contains("expected head is not in the log"));
    let garbled = fresh
        .cli(&["audit", "verify", "--expect-head", "abc"], "")
        .await;
    assert_eq!(garbled.status.code(), Some(2));
}

/// The invariant: staff access that cannot be audited does not happen. A
/// claim whose audit row cannot be written is refused and undone before the
/// patient or the queue hear of it; the chat still waits, and is claimed
/// once the log can be written again.
#[tokio::test]
async fn a_claim_that_cannot_be_audited_does_not_happen() {
    let app = spawn_app().await;
    let maria = app.staff("maria", "agent").await;
    let mut agent = app.console(&maria).await;
    let mut patient = app.chat().await;
    patient.start().await;
    patient.say("p1", "I want to talk to a person").await;
    let conversation = agent.only_waiting().await;

    let db = AroundDb::open(&app.database_url()).await;
    db.break_audit_inserts().await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    let refused = agent.until_error().await;
    assert_eq!(refused["code"], "unavailable", "{refused}");
    assert_eq!(agent.queue_of(1).await[0]["conversation"], conversation);
    // The patient never heard an agent join.
    patient
        .send_json(json!({"type": "say", "id": "p2", "text": "hello?"}))
        .await;
    loop {
        let frame = patient.recv().await;
        assert_ne!(frame["type"], "agent_joined", "{frame}");
        if frame["type"] == "ack" && frame["id"] == "p2" {
            break;
        }
    }

    db.mend_audit_inserts().await;
    agent
        .send_json(json!({"type": "claim", "conversation": conversation}))
        .await;
    agent.until("claimed").await;
    patient.until("agent_joined").await;
}

/// A log written before the chain was keyed: the first start with a key
/// anchors it (one keyed entry covers every earlier link), and from then on
/// it verifies, saying how many entries are only SHA-256 linked.
#[tokio::test]
async fn a_log_from_before_keying_is_anchored_on_the_next_start() {
    let mut app = spawn_app().await;
    let maria = app.staff("maria", "agent").await;
    claimed_by_maria(&app, &maria).await;
    app.stop().await;
    let db = without_triggers(&app, &["audit_log_no_update"]).await;
    relink(&db, None).await;
    let before = db.count("audit_log").await;
    let unanchored = app.cli(&["audit", "verify"], "").await;
    assert_eq!(unanchored.status.code(), Some(1));

    app.start_again().await;
    let anchored = app.cli(&["audit", "verify"], "").await;
    let said = String::from_utf8_lossy(&anchored.stdout).to_string();
    assert!(anchored.status.success(), "{said}");
    assert!(
        said.contains(&format!("({before} from before keying")),
        "{said}"
    );
}
