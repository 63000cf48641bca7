//! `frontdesk loadtest`: the real binary drives a real server in this process.

use std::process::Command;

use serde_json::Value;

use super::helpers::{ServerProcess, copy_dir, knowledge_dir, spawn_app_with};

fn loadtest(args: Vec<String>) -> std::process::Output {
    loadtest_with(args, &[])
}

pub(crate) fn loadtest_with(args: Vec<String>, envs: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .arg("loadtest")
        .args(args)
        .env_remove("FRONTDESK_LOADTEST_PASSWORD")
        .envs(envs.iter().copied())
        .output()
        .expect("the frontdesk binary runs")
}

/// Runs `frontdesk loadtest ARGS --json` off the runtime (the server under
/// test runs on it) and returns the report, failing on a non-zero exit.
pub(crate) async fn report_of(args: Vec<String>, envs: &[(&'static str, String)]) -> Value {
    let envs = envs.to_vec();
    let out = tokio::task::spawn_blocking(move || {
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut args = args;
        args.push("--json".to_owned());
        loadtest_with(args, &envs)
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).expect("a JSON report")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_steady_run_gets_replies_without_errors_or_drops() {
    let app = spawn_app_with(|s| s.limits.messages_per_minute = 100_000).await;
    let report = report_of(
        args(&[
            "--url",
            &format!("ws://{}/chat", app.addr),
            "--connections=5",
            "--duration-secs=2",
            "--rate=5",
            "--knowledge",
            &knowledge_dir().display().to_string(),
        ]),
        &[],
    )
    .await;
    assert!(report["replies"].as_u64().unwrap() > 0, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report:#}");
    assert_eq!(report["dropped"], 0, "{report:#}");
    assert_eq!(report["connect_failures"], 0, "{report:#}");
    assert_eq!(report["connected"], 5, "{report:#}");
    assert!(report["reply_latency_ms"]["samples"].as_u64().unwrap() > 0);
}

/// Several `--url`s (the nodes of a cluster, with no load balancer in
/// front): the connections are spread over them in turn, and every one is
/// answered by the server it went to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_spread_over_several_servers() {
    let one = spawn_app_with(|s| s.limits.messages_per_minute = 100_000).await;
    let two = spawn_app_with(|s| s.limits.messages_per_minute = 100_000).await;
    let report = report_of(
        args(&[
            "--url",
            &format!("ws://{}/chat", one.addr),
            "--url",
            &format!("ws://{}/chat", two.addr),
            "--connections=6",
            "--duration-secs=2",
            "--rate=2",
            "--knowledge",
            &knowledge_dir().display().to_string(),
        ]),
        &[],
    )
    .await;
    assert_eq!(report["connected"], 6, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report:#}");
    assert_eq!(
        report["urls"].as_array().map(Vec::len),
        Some(2),
        "{report:#}"
    );
    for app in [&one, &two] {
        let store = frontdesk::store::Store::connect(&app.database_url())
            .await
            .unwrap();
        let facts = store
            .insight_facts("2000-01-01T00:00:00.000Z", "2999-01-01T00:00:00.000Z")
            .await
            .unwrap();
        assert_eq!(facts.conversations.len(), 3, "three chats each");
    }
    // What is about one server needs exactly one.
    let out = loadtest(args(&[
        "--url",
        &format!("ws://{}/chat", one.addr),
        "--url",
        &format!("ws://{}/chat", two.addr),
        "--baseline",
    ]));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("give one --url"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_server_that_is_not_on_this_machine_is_refused() {
    for url in ["ws://192.0.2.10:8080/chat", "ws://example.org/chat"] {
        let out = loadtest(vec!["--url".to_owned(), url.to_owned()]);
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("only loopback"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_under_load_serves_a_new_generation_without_drops_and_restores_the_article() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&knowledge_dir(), copy.path());
    let dir = copy.path().to_owned();
    let app = spawn_app_with(|s| {
        s.data.knowledge = dir.clone();
        s.limits.messages_per_minute = 100_000;
    })
    .await;
    let article = copy.path().join("visit/parking.md");
    let original = std::fs::read_to_string(&article).unwrap();
    let report = report_of(
        args(&[
            "--url",
            &format!("ws://{}/chat", app.addr),
            "--connections=3",
            "--duration-secs=3",
            "--rate=5",
            "--knowledge",
            &copy.path().display().to_string(),
            "--reload",
            &article.display().to_string(),
            "--reload-at-secs=1",
        ]),
        &[],
    )
    .await;
    let reload = &report["reload"];
    assert_eq!(reload["reloaded"], true, "{report:#}");
    assert!(
        reload["generation_after"].as_u64().unwrap()
            > reload["generation_before"].as_u64().unwrap(),
        "{report:#}"
    );
    assert_eq!(reload["dropped_connections"], 0, "{report:#}");
    assert_eq!(report["dropped"], 0, "{report:#}");
    assert_eq!(reload["restored"], true, "{report:#}");
    assert_eq!(std::fs::read_to_string(&article).unwrap(), original);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_bookings_book_each_slot_exactly_once_and_are_cancelled_after() {
    let app = spawn_app_with(|s| s.limits.messages_per_minute = 100_000).await;
    let cookie = app.staff("loadbooker", "agent").await;
    let report = report_of(
        args(&[
            "--url",
            &format!("ws://{}/chat", app.addr),
            "--connections=3",
            "--duration-secs=2",
            "--rate=2",
            "--knowledge",
            &knowledge_dir().display().to_string(),
            "--bookings=20",
            "--staff-user=loadbooker",
        ]),
        &[(
            "FRONTDESK_LOADTEST_PASSWORD",
            "loadbooker-long-password".to_owned(),
        )],
    )
    .await;
    let b = &report["bookings"];
    let slots = b["slots"].as_u64().unwrap();
    assert!(slots > 0, "{report:#}");
    assert_eq!(b["attempts"], 20, "{report:#}");
    assert_eq!(b["created"], slots, "{report:#}");
    assert_eq!(b["conflicts"], 20 - slots, "{report:#}");
    assert_eq!(b["other_errors"], 0, "{report:#}");
    assert_eq!(b["double_booked"], 0, "{report:#}");
    assert_eq!(b["cancelled"], slots, "{report:#}");
    let upcoming: Vec<Value> = app
        .get_as(&cookie, "/api/appointments")
        .await
        .json()
        .await
        .unwrap();
    assert!(upcoming.is_empty(), "{upcoming:?}");
}

#[test]
fn bookings_without_the_password_in_the_environment_are_refused() {
    let out = loadtest_with(
        args(&[
            "--url=ws://127.0.0.1:9/chat",
            "--bookings=5",
            "--staff-user=someone",
        ]),
        &[],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("FRONTDESK_LOADTEST_PASSWORD"), "{stderr}");
}

/// A two-second, five-connection run against `frontdesk serve` in its own
/// process, watched through `--server-pid`.
async fn report_against_a_server_process(extra: &[&str], envs: &[(&str, &str)]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), envs);
    let mut list = args(&[
        "--url",
        &format!("ws://{}/chat", server.addr),
        "--connections=5",
        "--duration-secs=2",
        "--knowledge",
        &knowledge_dir().display().to_string(),
        "--server-pid",
        &server.child.id().to_string(),
    ]);
    list.extend(args(extra));
    report_of(list, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_memory_is_sampled_by_pid_during_an_idle_run() {
    let report = report_against_a_server_process(&["--mode=idle"], &[]).await;
    let rss = &report["server_rss_mib"];
    let start = rss["start"].as_f64().unwrap();
    assert!(start > 0.0, "{report:#}");
    assert!(rss["peak"].as_f64().unwrap() >= start, "{report:#}");
    assert!(rss["end"].as_f64().unwrap() > 0.0, "{report:#}");
    assert!(
        report["rss_per_connection_kib"].as_f64().unwrap() >= 0.0,
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_run_compares_the_cpu_per_answered_message_with_the_bare_stack() {
    let report = report_against_a_server_process(
        &["--rate=20", "--baseline"],
        &[("FRONTDESK_MESSAGES_PER_MINUTE", "100000")],
    )
    .await;
    let answered = report["answered"].as_u64().unwrap();
    assert!(answered > 0, "{report:#}");
    // A debug build answering messages spends well over one 10 ms tick.
    let server_cpu = &report["server_cpu"];
    assert!(server_cpu["seconds"].as_f64().unwrap() > 0.0, "{report:#}");
    let per_message = server_cpu["us_per_answered"].as_f64().unwrap();
    let implied = server_cpu["seconds"].as_f64().unwrap() * 1e6 / answered as f64;
    assert!((per_message - implied).abs() < 1e-6, "{report:#}");
    assert!(
        report["harness_cpu"]["cores"].as_f64().unwrap() > 0.0,
        "{report:#}"
    );
    let baseline = &report["baseline"];
    assert!(
        baseline["totals"]["answered"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    assert!(
        baseline["server_cpu"]["cores"].as_f64().unwrap() >= 0.0,
        "{report:#}"
    );
    assert!(
        baseline["harness_cpu"]["cores"].as_f64().is_some(),
        "{report:#}"
    );
}

#[test]
fn a_server_pid_that_cannot_be_read_is_refused_before_the_run() {
    let out = loadtest(args(&[
        "--url=ws://127.0.0.1:9/chat",
        "--knowledge",
        &knowledge_dir().display().to_string(),
        "--server-pid=4294967295",
    ]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--server-pid"), "{stderr}");
}
