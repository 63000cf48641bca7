//! Console accounts and sign-in, through the real HTTP API and CLI.

use serde_json::{Value, json};

use super::helpers::{ServerProcess, run_cli, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_first_start_prints_an_admin_password_that_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]);
    let printed = server.wait_for_line(|l| l.contains("created the console account"));
    let secret = printed
        .get(1)
        .expect("the password is printed")
        .trim()
        .to_owned();
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/login", server.addr))
        .json(&json!({"name": "admin", "password": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let me: Value = response.json().await.unwrap();
    assert_eq!(me, json!({"name": "admin", "role": "admin"}));
    drop(server);

    // The second start finds an account and prints no password.
    let again = ServerProcess::start(dir.path(), &[]);
    assert!(!again.output().contains("created the console account"));
    assert!(!again.output().contains(&secret));
}

#[tokio::test]
async fn wrong_credentials_get_401_and_repeated_failures_are_throttled() {
    let app = spawn_app().await;
    assert_eq!(
        app.login("admin", "not the password").await,
        Err(reqwest::StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        app.login("nobody", "whatever-password").await,
        Err(reqwest::StatusCode::UNAUTHORIZED)
    );
    for _ in 0..4 {
        let _ = app.login("admin", "still wrong").await;
    }
    // Even the right password is refused while the name is locked.
    assert_eq!(
        app.login("admin", &app.admin_password).await,
        Err(reqwest::StatusCode::TOO_MANY_REQUESTS)
    );
}

#[tokio::test]
async fn a_signed_out_or_missing_session_is_refused() {
    let app = spawn_app().await;
    let anonymous = reqwest::get(app.url("/api/me")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let cookie = app.login_admin().await;
    assert_eq!(app.get_as(&cookie, "/api/me").await.status(), 200);
    let out = reqwest::Client::new()
        .post(app.url("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(app.get_as(&cookie, "/api/me").await.status(), 401);
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = spawn_app_with(|s| s.sessions.session_idle_secs = 1).await;
    let cookie = app.login_admin().await;
    assert_eq!(app.get_as(&cookie, "/api/me").await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.get_as(&cookie, "/api/me").await.status(), 401);
}

/// 200 guesses sent at once get no more real password checks than the
/// documented five per name (401), the rest are refused unchecked (429),
/// and the right password is refused until the lockout ends.
#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_only_the_documented_checks() {
    let app = spawn_app().await;
    let guesses = (0..200).map(|i| {
        let app = &app;
        async move { app.login("admin", &format!("guess number {i}")).await }
    });
    let results = futures_util::future::join_all(guesses).await;
    let checked = results
        .iter()
        .filter(|r| **r == Err(reqwest::StatusCode::UNAUTHORIZED))
        .count();
    let refused = results
        .iter()
        .filter(|r| **r == Err(reqwest::StatusCode::TOO_MANY_REQUESTS))
        .count();
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_eq!(checked + refused, 200);
    assert_eq!(
        app.login("admin", &app.admin_password).await,
        Err(reqwest::StatusCode::TOO_MANY_REQUESTS)
    );
}

#[tokio::test]
async fn an_overlong_name_is_refused_before_it_is_remembered() {
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .post(app.url("/api/login"))
        .json(&json!({"name": "a".repeat(65), "password": "whatever-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("64"), "{body}");
}

/// `frontdesk agent disable` runs in another process; the server notices
/// and closes the dismissed agent's open console (4001) within seconds,
/// without waiting for the console to send anything.
#[tokio::test]
async fn disabling_an_account_from_another_process_closes_its_console() {
    let app = spawn_app().await;
    let cookie = app.staff("dana", "agent").await;
    let mut console = app.console(&cookie).await;
    let disabled = app.cli(&["agent", "disable", "dana"], "").await;
    assert!(disabled.status.success());
    assert_eq!(console.closed().await, super::helpers::Closed::Code(4001));
}

#[tokio::test]
async fn agents_are_added_listed_and_disabled_from_the_command_line() {
    let app = spawn_app().await;
    let added = app
        .cli(
            &["agent", "add", "maria", "--role", "agent"],
            "a-long-enough-secret\n",
        )
        .await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let cookie = app
        .login("maria", "a-long-enough-secret")
        .await
        .expect("maria signs in");
    let me: Value = app.get_as(&cookie, "/api/me").await.json().await.unwrap();
    assert_eq!(me["role"], "agent");

    let short = app
        .cli(&["agent", "add", "lee", "--role", "agent"], "short\n")
        .await;
    assert!(!short.status.success());
    let twice = app
        .cli(
            &["agent", "add", "maria", "--role", "agent"],
            "a-long-enough-secret\n",
        )
        .await;
    assert!(!twice.status.success());

    let list = app.cli(&["agent", "list"], "").await;
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        listed.contains("maria") && listed.contains("admin"),
        "{listed}"
    );
    assert!(!listed.contains("argon2"), "hashes are never printed");

    assert!(
        app.cli(&["agent", "disable", "maria"], "")
            .await
            .status
            .success()
    );
    assert_eq!(
        app.get_as(&cookie, "/api/me").await.status(),
        401,
        "her session ended"
    );
    assert_eq!(
        app.login("maria", "a-long-enough-secret").await,
        Err(reqwest::StatusCode::UNAUTHORIZED)
    );
    assert!(
        !app.cli(&["agent", "disable", "nobody"], "")
            .await
            .status
            .success()
    );
}

#[test]
fn an_unknown_role_is_refused_by_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_cli(
        dir.path(),
        &["agent", "add", "x", "--role", "janitor"],
        "a-long-enough-secret\n",
    );
    assert!(!out.status.success());
}

/// Sessions are kept in the database: a restart (a deploy) does not sign
/// staff out, and a cookie signed out before the restart stays refused.
#[tokio::test]
async fn a_restart_keeps_staff_signed_in_and_signed_out_cookies_stay_out() {
    let mut app = spawn_app().await;
    let kept = app.login_admin().await;
    let left = app.login_admin().await;
    let out = reqwest::Client::new()
        .post(app.url("/api/logout"))
        .header("cookie", &left)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    app.stop().await;
    app.start_again().await;
    let me = app.get_as(&kept, "/api/me").await;
    assert_eq!(me.status(), 200);
    assert_eq!(
        me.json::<serde_json::Value>().await.unwrap()["name"],
        "admin"
    );
    assert_eq!(app.get_as(&left, "/api/me").await.status(), 401);
    let mut console = app.console(&kept).await;
    assert!(console.queue_of(0).await.is_empty());
}

/// Two servers on one database share the sign-in limits: guesses on one
/// lock the name on the other too, so a second node is not a fresh five
/// guesses; the right password on the first, once the lock is lifted, is
/// what forgives it.
#[tokio::test]
async fn failed_sign_ins_on_one_server_lock_the_name_on_another() {
    let one = spawn_app().await;
    let two = one.second_node().await;
    for i in 0..5 {
        assert_eq!(
            one.login("admin", &format!("guess number {i}")).await,
            Err(reqwest::StatusCode::UNAUTHORIZED)
        );
    }
    assert_eq!(
        two.login("admin", &two.admin_password).await,
        Err(reqwest::StatusCode::TOO_MANY_REQUESTS),
        "the other server counts the first one's failures"
    );
    assert!(two.login("nobody-else", "a wrong password").await.is_err());
}
