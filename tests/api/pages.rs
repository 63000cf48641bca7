//! The built-in pages: the demo clinic page embedding the widget, the widget
//! script, the console, and health.

use crate::helpers::spawn_app;

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
async fn health_reports_ok_when_the_database_answers() {
    let app = spawn_app().await;
    let health = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}
