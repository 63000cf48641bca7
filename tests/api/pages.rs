//! The built-in pages: the demo clinic page embedding the widget, the widget
//! script, the console, and health.

use super::helpers::spawn_app;

#[tokio::test]
async fn the_demo_page_embeds_the_widget_with_one_script_tag() {
    let app = spawn_app().await;
    let page = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/widget.js""#), "{html}");

    let script = reqwest::get(app.url("/widget.js")).await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.headers().contains_key("x-frontdesk-version"));

    let console = reqwest::get(app.url("/console")).await.unwrap();
    assert_eq!(console.status(), 200);
}

#[tokio::test]
async fn health_reports_ok_and_the_knowledge_generation_serving() {
    let app = spawn_app().await;
    let health = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let serving = app.knowledge.stats();
    assert_eq!(body["knowledge"]["generation"], serving.generation);
    assert_eq!(body["knowledge"]["digest"], serving.digest.as_str());
    assert_eq!(
        body["knowledge"]["articles"],
        serving.articles_en + serving.articles_es
    );
    assert!(
        body["knowledge"]["articles"].as_u64().unwrap() > 0,
        "{body}"
    );
}

#[tokio::test]
async fn the_snippet_integrity_matches_the_served_widget_and_revalidation_is_cheap() {
    use base64::Engine;
    use sha2::{Digest, Sha384};
    let app = spawn_app().await;
    let out = app
        .cli(
            &[
                "widget",
                "snippet",
                "--url",
                "https://chat.example-clinic.org/",
                "--title",
                "Cedar \"Valley\"",
            ],
            "",
        )
        .await;
    assert!(out.status.success());
    let tag = String::from_utf8(out.stdout).unwrap();
    assert!(
        tag.starts_with("<script src=\"https://chat.example-clinic.org/widget.js?v="),
        "{tag}"
    );
    assert!(
        tag.contains("data-title=\"Cedar &quot;Valley&quot;\""),
        "{tag}"
    );
    let integrity = tag
        .split("integrity=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let served = reqwest::get(app.url("/widget.js")).await.unwrap();
    assert_eq!(served.headers()["access-control-allow-origin"], "*");
    let etag = served.headers()["etag"].to_str().unwrap().to_owned();
    let body = served.bytes().await.unwrap();
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&body));
    assert_eq!(integrity, format!("sha384-{digest}"));

    let again = reqwest::Client::new()
        .get(app.url("/widget.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(
        !app.cli(&["widget", "snippet", "--url", "ftp://x"], "")
            .await
            .status
            .success()
    );
}

#[tokio::test]
async fn the_console_cannot_be_framed_and_https_deployments_get_hsts() {
    let app = super::helpers::spawn_app_with(|s| {
        s.public_url = Some("https://chat.example-clinic.org".into())
    })
    .await;
    let console = reqwest::get(app.url("/console")).await.unwrap();
    let csp = console.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(console.headers()["x-frame-options"], "DENY");
    assert!(
        console.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}

/// A malformed query string, path or body gets the API's JSON error, the
/// same shape as every other error, not axum's plain text; and sign-in is
/// still checked first.
#[tokio::test]
async fn malformed_requests_get_a_json_error_after_the_sign_in_check() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let json_error = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.expect("a JSON error body");
        (
            status,
            body["error"].as_str().unwrap_or_default().to_owned(),
            body,
        )
    };

    let (status, code, body) = json_error(reqwest::get(app.url("/api/slots")).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "bad_request"), "{body}");
    assert!(body["message"].as_str().unwrap().contains("type"), "{body}");
    let (status, code, body) = json_error(
        reqwest::get(app.url("/api/slots?type=sick-visit&days=soon"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "bad_request"), "{body}");

    let done = |cookie: Option<String>| {
        let mut request = client.post(app.url("/api/callbacks/not-a-number/done"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let (status, code, _) = json_error(done(None).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    let cookie = app.staff("maria", "agent").await;
    let (status, code, body) = json_error(done(Some(cookie.clone())).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "bad_request"), "{body}");
    let (status, code, body) = json_error(app.get_as(&cookie, "/api/articles").await).await;
    assert_eq!((status, code.as_str()), (400, "bad_request"), "{body}");

    let (status, code, body) = json_error(
        client
            .post(app.url("/api/login"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "bad_request"), "{body}");
    let (status, code, body) = json_error(
        client
            .post(app.url("/api/login"))
            .header("content-type", "application/json")
            .body(vec![b' '; 3 << 20])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (413, "too_large"), "{body}");
}
