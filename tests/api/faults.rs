//! Acked means stored when storage fails: a full disk, a lock held by
//! another process, the database file removed or replaced, PostgreSQL
//! restarted under a chat. Each test ends with the same check: every
//! acknowledged message is in the database, and every refused one is
//! stored at most once.

use std::time::Duration;

use super::helpers::faults::{HeldLock, Ledger, Outcome, Tmpfs};
use super::helpers::postgres_server::OwnPostgres;
use super::helpers::{
    Backend, Chat, EVENT_TIMEOUT, ServerProcess, Ws, ask_for_person, backend, database_env,
    database_url, finish, frontdesk_command, knowledge_dir, only_on_sqlite, run_cli,
    scrape_metrics, sign_in, sqlite_url, until_listed,
};

const FAST: &[(&str, &str)] = &[("FRONTDESK_MESSAGES_PER_MINUTE", "100000")];

/// A message as long as patients' longest (about 1,900 characters).
fn long_text(i: usize) -> String {
    format!("message {i}: ") + &"my appointment question, again and again. ".repeat(45)
}

/// Sends `id` until it is acknowledged, as the widget's outbox does.
async fn resend_until_acked(chat: &mut Chat, ledger: &mut Ledger, id: &str, text: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let outcome = chat.try_say(id, text).await;
        ledger.record(id, &outcome);
        match outcome {
            Outcome::Acked(_) => return,
            Outcome::Refused(code) => assert_eq!(code, "unavailable", "{id}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} was never accepted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_full_disk_refuses_messages_and_recovers_without_losing_an_ack() {
    if !only_on_sqlite("fills the filesystem that holds the SQLite file") {
        return;
    }
    let Some(disk) = Tmpfs::mount("4m") else {
        return;
    };
    let logs = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start_logging_to(disk.path(), logs.path(), FAST);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let started = chat.start().await;
    let mut ledger = Ledger::new(started["conversation"].as_str().unwrap());
    for i in 0..5 {
        let id = format!("before-{i}");
        let outcome = chat.try_say(&id, &long_text(i)).await;
        assert!(matches!(outcome, Outcome::Acked(_)), "{outcome:?}");
        ledger.record(&id, &outcome);
    }

    let ballast = disk.fill();
    // Keep talking on the full disk: some writes may still fit in pages the
    // database already has, but sooner or later they are refused, and
    // whatever was acknowledged must really be stored.
    let mut refusals = 0;
    for i in 0..400 {
        let id = format!("full-{i}");
        let outcome = chat.try_say(&id, &long_text(i)).await;
        ledger.record(&id, &outcome);
        if let Outcome::Refused(code) = &outcome {
            assert_eq!(code, "unavailable");
            refusals += 1;
            if refusals == 30 {
                break;
            }
        }
    }
    if refusals < 30 {
        // It went back to acknowledging on a full disk: show what was lost.
        server.kill_hard();
        ledger.verify(&sqlite_url(disk.path())).await;
        panic!("a full disk refused only {refusals} messages, then acknowledged the rest");
    }
    let health = server
        .health_until(|status, body| status == 503 && body["storage"] == "failing")
        .await;
    assert_eq!(health["storage_fault"], "disk_full", "{health}");

    std::fs::remove_file(ballast).unwrap();
    // With nobody writing, the server notices the room by itself (its
    // probe), so a load balancer sends chats again...
    server
        .health_until(|status, body| status == 200 && body["storage"] == "ok")
        .await;
    // ...and the refused messages come back from the patient's outbox, with
    // the same ids, and are stored once.
    for id in ledger.refused() {
        resend_until_acked(&mut chat, &mut ledger, &id, "resent after the disk filled").await;
    }
    assert!(ledger.refused().is_empty());
    let outcome = chat.try_say("after", "and one more").await;
    assert!(matches!(outcome, Outcome::Acked(_)), "{outcome:?}");
    ledger.record("after", &outcome);

    let log = server.output();
    assert_eq!(
        log.matches("storage is failing").count(),
        1,
        "the fault is logged once, not per message:\n{log}"
    );
    assert!(log.contains("disk_full"), "{log}");
    assert!(log.contains("storage recovered"), "{log}");
    server.kill_hard();
    ledger.verify(&sqlite_url(disk.path())).await;
}

/// Signs a new agent in on a server process; returns the session cookie.
async fn agent_cookie(server: &ServerProcess, dir: &std::path::Path) -> String {
    let out = run_cli(
        dir,
        &["agent", "add", "maria", "--role", "agent"],
        "maria-long-password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/login", server.addr))
        .json(&serde_json::json!({"name": "maria", "password": "maria-long-password"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_lock_held_by_another_process_refuses_messages_until_released() {
    if !only_on_sqlite("holds SQLite's file lock from another process") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut envs = FAST.to_vec();
    envs.push(("FRONTDESK_METRICS_TOKEN", "scrape-me"));
    let server = ServerProcess::start(dir.path(), &envs);
    let cookie = agent_cookie(&server, dir.path()).await;
    let mut console = Ws::console(server.addr, &cookie).await.unwrap();
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let started = chat.start().await;
    let mut ledger = Ledger::new(started["conversation"].as_str().unwrap());
    let outcome = chat.try_say("first", "hello").await;
    assert!(matches!(outcome, Outcome::Acked(_)));
    ledger.record("first", &outcome);

    // Another process (this test) takes the write lock and keeps it past
    // the server's 5-second busy timeout.
    let lock = HeldLock::take(&sqlite_url(dir.path())).await;
    let outcome = chat.try_say("while-locked", "is anyone there?").await;
    assert_eq!(outcome, Outcome::Refused("unavailable".into()));
    ledger.record("while-locked", &outcome);
    let health = server.health_until(|status, _| status == 503).await;
    assert_eq!(health["storage"], "failing");
    assert_eq!(health["storage_fault"], "locked", "{health}");
    // Agents see it in the console; operators in the metrics.
    let banner = console.until("storage").await;
    assert_eq!(
        (&banner["ok"], &banner["fault"]),
        (&false.into(), &"locked".into()),
        "{banner}"
    );
    let metrics = scrape_metrics(server.addr, "scrape-me").await;
    assert!(metrics.contains("frontdesk_storage_up 0"), "{metrics}");
    // The refused message's batch, and any probe since.
    let locked: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("frontdesk_store_failed_batches_total{fault=\"locked\"} "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(locked >= 1, "{metrics}");

    lock.release().await;
    resend_until_acked(&mut chat, &mut ledger, "while-locked", "is anyone there?").await;
    server
        .health_until(|status, body| status == 200 && body["storage"] == "ok")
        .await;
    assert_eq!(console.until("storage").await["ok"], true);
    let log = server.output();
    assert!(log.contains("locked"), "{log}");
    assert!(
        !log.contains("shutting down"),
        "a held lock is not a shutdown:\n{log}"
    );
    ledger.verify(&sqlite_url(dir.path())).await;
}

#[tokio::test]
async fn a_database_file_removed_or_replaced_is_never_written_to_blindly() {
    if !only_on_sqlite("replaces the SQLite file under the server") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("frontdesk.db");
    let mut server = ServerProcess::start(dir.path(), FAST);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let started = chat.start().await;
    let mut ledger = Ledger::new(started["conversation"].as_str().unwrap());
    for id in ["one", "two"] {
        let outcome = chat.try_say(id, "before the swap").await;
        assert!(matches!(outcome, Outcome::Acked(_)));
        ledger.record(id, &outcome);
    }

    // An operator restores a copy over the live file (a consistent copy,
    // taken with VACUUM INTO while the server runs).
    use sqlx::Connection;
    let copy = dir.path().join("restored.db");
    let mut other = sqlx::SqliteConnection::connect(&sqlite_url(dir.path()))
        .await
        .unwrap();
    sqlx::query("VACUUM INTO ?")
        .bind(copy.to_str().unwrap())
        .execute(&mut other)
        .await
        .unwrap();
    other.close().await.unwrap();
    std::fs::rename(&copy, &db).unwrap();
    let outcome = chat.try_say("three", "after the swap").await;
    assert_eq!(outcome, Outcome::Refused("unavailable".into()));
    ledger.record("three", &outcome);
    let health = server.health_until(|status, _| status == 503).await;
    assert_eq!(health["storage_fault"], "file_replaced", "{health}");

    // A restart opens the file the operator put in place (after removing
    // the old write-ahead log, as docs/operations.md says to), which holds
    // everything acknowledged before the copy; the refused message is
    // resent and stored.
    server.kill_hard();
    for stale in ["frontdesk.db-wal", "frontdesk.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(stale));
    }
    let server = ServerProcess::start(dir.path(), FAST);
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    chat.resume(started["resume"].as_str().unwrap()).await;
    resend_until_acked(&mut chat, &mut ledger, "three", "after the swap").await;
    ledger.verify(&sqlite_url(dir.path())).await;

    // Removed altogether: refused, and no empty database appears.
    std::fs::remove_file(&db).unwrap();
    let outcome = chat.try_say("four", "after the removal").await;
    assert_eq!(outcome, Outcome::Refused("unavailable".into()));
    let health = server.health_until(|status, _| status == 503).await;
    assert_eq!(health["storage_fault"], "file_replaced", "{health}");
    assert!(
        !db.exists(),
        "the server created a new, empty database file"
    );
}

/// A port nothing listens on right now, for a server the harness starts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `frontdesk loadtest` arguments that run a server of its own on the
/// fixture knowledge with its database in `dir`.
fn kill_restart_args(extra: &[&str], dir: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = vec![
        format!("--url=ws://127.0.0.1:{}/chat", free_port()),
        "--knowledge".into(),
        knowledge_dir().display().to_string(),
        format!("--database-url={}", database_url(dir)),
        format!("--server-log={}", dir.join("server.log").display()),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_five_times_under_load_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let args = kill_restart_args(
        &[
            "--connections=10",
            "--rate=5",
            "--duration-secs=12",
            "--kill-restarts=5",
        ],
        dir.path(),
    );
    let report = super::loadtest::report_of(args, &database_env(dir.path())).await;
    let d = &report["durability"];
    assert_eq!(d["restarts"], 5, "{d}");
    assert_eq!(d["conversations"], 10, "{d}");
    let acknowledged = d["acknowledged"].as_u64().unwrap();
    assert!(acknowledged >= 100, "{d}");
    assert_eq!(d["stored"].as_u64(), Some(acknowledged), "{d}");
    assert_eq!(
        (d["lost"].as_u64(), d["duplicated"].as_u64()),
        (Some(0), Some(0)),
        "{d}"
    );
    // Every kill dropped every patient, and each came back.
    assert!(d["reconnects"].as_u64().unwrap() >= 50, "{d}");
}

#[test]
fn kill_restarts_refuses_bad_settings_before_starting_anything() {
    let dir = tempfile::tempdir().unwrap();
    for (extra, expected) in [
        (&["--kill-restarts=0"][..], "--kill-restarts must be 1..=20"),
        (
            &["--kill-restarts=21"][..],
            "--kill-restarts must be 1..=20",
        ),
        (&["--kill-restarts=2", "--mode=idle"][..], "steady or ramp"),
        (&["--kill-restarts=2", "--baseline"][..], "does not combine"),
        (&["--kill-restarts=x"][..], "invalid value"),
    ] {
        let out = super::loadtest::loadtest_with(kill_restart_args(extra, dir.path()), &[]);
        assert!(!out.status.success(), "{extra:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
    }
    // Without a database to check, it is refused by the argument parser.
    let out = super::loadtest::loadtest_with(vec!["--kill-restarts=2".into()], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--database-url"));
    assert!(
        !dir.path().join("frontdesk.db").exists(),
        "nothing was started"
    );
}

/// PostgreSQL stopped at once (a crash, a failover) under a chat: the
/// patient hears `unavailable` and nothing is acknowledged; `/health` says
/// `unreachable`; once the database is back the server reconnects by
/// itself, the refused messages are stored once when resent, and every
/// acknowledged one is there.
#[tokio::test]
async fn postgres_restarted_under_a_chat_loses_no_acknowledged_message() {
    if backend() != Backend::Postgres {
        eprintln!("only on PostgreSQL: restarts the database server");
        return;
    }
    let Some(pg) = OwnPostgres::start() else {
        return;
    };
    let url = pg.database("frontdesk").await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit.key").display().to_string();
    let envs = [
        ("FRONTDESK_MESSAGES_PER_MINUTE", "100000"),
        ("FRONTDESK_DATABASE_URL", url.as_str()),
        ("FRONTDESK_AUDIT_KEY_FILE", key.as_str()),
    ];
    let mut server = ServerProcess::start(dir.path(), &envs);
    let printed = server.wait_for_line(|l| l.contains("created the console account"));
    let admin_password = printed[1].trim().to_owned();
    // A second node on the same database, and an agent account.
    let other = ServerProcess::start(dir.path(), &envs);
    let agent = frontdesk_command(&["agent", "add", "rui", "--role", "agent"])
        .envs(envs)
        .spawn()
        .unwrap();
    assert!(finish(agent, "rui-long-password\n").status.success());
    let mut chat = Chat::connect(server.addr, None).await.unwrap();
    let started = chat.start().await;
    let mut ledger = Ledger::new(started["conversation"].as_str().unwrap());
    for i in 0..5 {
        let id = format!("before-{i}");
        let outcome = chat.try_say(&id, "before the restart").await;
        assert!(matches!(outcome, Outcome::Acked(_)), "{outcome:?}");
        ledger.record(&id, &outcome);
    }

    pg.stop();
    // Each refusal waits out the writer's 5 s connection timeout.
    let mut refusals = 0;
    for i in 0..3 {
        let id = format!("down-{i}");
        let outcome = chat.try_say(&id, "while the database is down").await;
        ledger.record(&id, &outcome);
        if let Outcome::Refused(code) = &outcome {
            assert_eq!(code, "unavailable");
            refusals += 1;
        }
    }
    assert_eq!(
        refusals, 3,
        "nothing is acknowledged while the database is down"
    );
    let health = server
        .health_until(|status, body| status == 503 && body["storage"] == "failing")
        .await;
    assert_eq!(health["storage_fault"], "unreachable", "{health}");

    pg.start_again();
    server
        .health_until(|status, body| status == 200 && body["storage"] == "ok")
        .await;
    for id in ledger.refused() {
        resend_until_acked(&mut chat, &mut ledger, &id, "resent after the restart").await;
    }
    let outcome = chat.try_say("after", "and one more").await;
    assert!(matches!(outcome, Outcome::Acked(_)), "{outcome:?}");
    ledger.record("after", &outcome);
    assert_eq!(ledger.acked(), 9);
    let log = server.output();
    assert!(log.contains("storage recovered"), "{log}");

    // The nodes hear each other again by themselves (both lost their
    // listening connections): a chat that asks for a person on the first
    // node reaches an agent on the second, and the claim comes back. (The
    // agent signs in only now: earlier, the chat above would have been
    // queued for them.)
    let rui = sign_in(other.addr, "rui", "rui-long-password").await;
    let mut console = Ws::console(other.addr, &rui).await.unwrap();
    let admin = sign_in(server.addr, "admin", &admin_password).await;
    until_listed(server.addr, &admin, "rui", true, EVENT_TIMEOUT).await;
    let mut patient = Chat::connect(server.addr, None).await.unwrap();
    ask_for_person(&mut patient).await;
    let conversation = console.only_waiting().await;
    console
        .send_json(serde_json::json!({"type": "claim", "conversation": conversation}))
        .await;
    console.until("claimed").await;
    let joined = tokio::time::timeout(EVENT_TIMEOUT / 2, patient.until("agent_joined")).await;
    let Ok(joined) = joined else {
        panic!(
            "the first node never heard of the claim:\n{}\n--- second node:\n{}",
            server.output(),
            other.output()
        );
    };
    assert_eq!(joined["name"], "rui");
    server.kill_hard();
    ledger.verify(&url).await;
}
