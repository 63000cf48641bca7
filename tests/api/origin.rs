//! Only the clinic's own pages may open a patient chat.

use crate::helpers::{Chat, spawn_app, spawn_app_with};
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
