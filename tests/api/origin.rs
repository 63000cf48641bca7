//! Only the clinic's own pages may open a patient chat.

use super::helpers::{Chat, spawn_app, spawn_app_with};
use tokio_tungstenite::tungstenite::Error;

#[tokio::test]
async fn upgrades_from_unlisted_origins_are_refused_with_403() {
    let app = spawn_app().await;
    match Chat::connect(app.addr, Some("https://evil.example")).await {
        Err(Error::Http(response)) => assert_eq!(response.status(), 403),
        Err(other) => panic!("expected an HTTP 403, got {other}"),
        Ok(_) => panic!("a foreign origin opened a chat"),
    }
}

#[tokio::test]
async fn same_origin_localhost_and_configured_origins_are_accepted() {
    let app = spawn_app_with(|s| {
        s.allowed_origins = vec!["https://www.example-clinic.org".into()];
    })
    .await;
    let own = format!("http://{}", app.addr);
    for origin in [
        own.as_str(),
        "http://localhost:3000",
        "https://www.example-clinic.org",
    ] {
        let mut chat = Chat::connect(app.addr, Some(origin))
            .await
            .unwrap_or_else(|e| panic!("{origin} refused: {e}"));
        chat.start().await;
    }
    assert!(
        Chat::connect(app.addr, Some("https://other-clinic.org"))
            .await
            .is_err()
    );
}

/// A form on a sibling subdomain (same site, other origin) sends the staff
/// cookie along with `SameSite=Strict`; every write is refused unless the
/// browser says it came from this server's own pages.
#[tokio::test]
async fn staff_writes_from_other_origins_are_refused() {
    let app = spawn_app().await;
    let cookie = app.staff("maria", "agent").await;
    let own = format!("http://{}", app.addr);
    let logout = |headers: Vec<(&'static str, String)>| {
        let mut request = reqwest::Client::new()
            .post(app.url("/api/logout"))
            .header("cookie", &cookie);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    for refused in [
        vec![("sec-fetch-site", "same-site".to_owned())],
        vec![("sec-fetch-site", "cross-site".to_owned())],
        vec![("origin", "https://portal.clinic.example".to_owned())],
        vec![("origin", "null".to_owned())],
    ] {
        let response = logout(refused.clone()).await.unwrap();
        assert_eq!(response.status(), 403, "{refused:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains("cross-site"),
            "{body}"
        );
    }
    // Still signed in: nothing above reached the handler.
    assert_eq!(app.get_as(&cookie, "/api/me").await.status(), 200);
    let callbacks = reqwest::Client::new()
        .post(app.url("/api/callbacks/1/done"))
        .header("cookie", &cookie)
        .header("origin", "https://portal.clinic.example")
        .send()
        .await
        .unwrap();
    assert_eq!(callbacks.status(), 403);
    // The console's own page, and a client that is not a browser, may.
    let same = logout(vec![
        ("sec-fetch-site", "same-origin".to_owned()),
        ("origin", own),
    ])
    .await
    .unwrap();
    assert_eq!(same.status(), 204);
}

/// Over https the session cookie is `__Host-` prefixed, and a plain
/// `frontdesk_session` cookie (which a sibling subdomain could set) is not
/// read at all.
#[tokio::test]
async fn over_https_the_session_cookie_is_host_prefixed_and_the_plain_one_ignored() {
    let app = spawn_app_with(|s| s.public_url = Some("https://desk.clinic.example".into())).await;
    let response = reqwest::Client::new()
        .post(app.url("/api/login"))
        .json(&serde_json::json!({"name": "admin", "password": app.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set.starts_with("__Host-frontdesk_session="), "{set}");
    assert!(set.contains("Secure") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Domain"), "{set}");
    let pair = set.split(';').next().unwrap().to_owned();
    assert_eq!(app.get_as(&pair, "/api/me").await.status(), 200);
    let token = pair.split_once('=').unwrap().1;
    let plain = format!("frontdesk_session={token}");
    assert_eq!(app.get_as(&plain, "/api/me").await.status(), 401);
    // Two different values (one planted beside the real one) are refused.
    let planted = format!("{pair}; __Host-frontdesk_session=st_planted");
    assert_eq!(app.get_as(&planted, "/api/me").await.status(), 401);
}
