//! `frontdesk loadtest`: the real binary drives a real server in this process.

use std::process::Command;

use serde_json::Value;

use crate::helpers::{knowledge_dir, spawn_app_with};

fn loadtest(args: Vec<String>) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .arg("loadtest")
        .args(args)
        .output()
        .expect("the frontdesk binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_steady_run_gets_replies_without_errors_or_drops() {
    let app = spawn_app_with(|s| s.limits.messages_per_minute = 100_000).await;
    let args = vec![
        "--url".to_owned(),
        format!("ws://{}/chat", app.addr),
        "--connections=5".to_owned(),
        "--duration-secs=2".to_owned(),
        "--rate=5".to_owned(),
        "--knowledge".to_owned(),
        knowledge_dir().display().to_string(),
        "--json".to_owned(),
    ];
    let out = tokio::task::spawn_blocking(move || loadtest(args))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
    assert!(report["replies"].as_u64().unwrap() > 0, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report:#}");
    assert_eq!(report["dropped"], 0, "{report:#}");
    assert_eq!(report["connect_failures"], 0, "{report:#}");
    assert_eq!(report["connected"], 5, "{report:#}");
    assert!(report["reply_latency_ms"]["samples"].as_u64().unwrap() > 0);
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
