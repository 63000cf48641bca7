//! Who may use the editors' workspace, and what it refuses: only editors
//! and admins (refusals audited), clear errors for bad requests, writes
//! only from the server's own pages, and a rate per account.

use serde_json::{Value, json};

use super::knowledge_editing::{create, get, send, workspace};

#[tokio::test]
async fn only_editors_and_admins_get_in_and_refusals_are_audited() {
    let (app, _kb, _editor) = workspace().await;
    let agent = app.staff("amos", "agent").await;
    let supervisor = app.staff("sue", "supervisor").await;
    let admin = app.login_admin().await;
    let draft = json!({"question": "hours"});
    for who in [&agent, &supervisor] {
        assert_eq!(get(&app, who, "/api/knowledge/articles").await.0, 403);
        assert_eq!(
            get(&app, who, "/api/knowledge/articles/parking").await.0,
            403
        );
        let (status, body) = send(
            &app,
            who,
            reqwest::Method::POST,
            "/api/knowledge/try",
            Some(draft.clone()),
            None,
        )
        .await;
        assert_eq!(status, 403, "{body}");
        let (status, _) = send(
            &app,
            who,
            reqwest::Method::DELETE,
            "/api/knowledge/articles/parking",
            None,
            None,
        )
        .await;
        assert_eq!(status, 403);
    }
    assert_eq!(get(&app, "", "/api/knowledge/articles").await.0, 401);
    assert_eq!(get(&app, &admin, "/api/knowledge/articles").await.0, 200);
    let rows: Vec<Value> = app.get_as(&admin, "/api/audit").await.json().await.unwrap();
    assert!(rows.iter().any(|r| r["actor"] == "amos"
        && r["action"] == "knowledge.retire"
        && r["outcome"] == "refused"));
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_writes_have_a_rate() {
    let (app, _kb, editor) = workspace().await;
    let post = |body: Value| {
        send(
            &app,
            &editor,
            reqwest::Method::POST,
            "/api/knowledge/try",
            Some(body),
            None,
        )
    };
    assert_eq!(post(json!({"question": "  "})).await.0, 400);
    assert_eq!(
        post(json!({"question": "hours", "lang": "fr"})).await.0,
        400
    );
    assert_eq!(post(json!({"question": "x".repeat(2_001)})).await.0, 400);
    assert_eq!(post(json!({"nothing": true})).await.0, 400);
    let (status, bad) = post(
        json!({"question": "hours", "draft": {"title": "x", "body": "y", "min_confidence": 3}}),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    let (status, bad) = post(
        json!({"question": "hours", "draft": {"title": "x", "body": "y",
        "remove_keys": vec!["k"; 301]}}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("remove_keys"));
    assert_eq!(
        get(&app, &editor, "/api/knowledge/articles/..%2Fetc")
            .await
            .0,
        400
    );
    assert_eq!(
        get(&app, &editor, "/api/knowledge/articles/nope").await.0,
        404
    );

    // A write from another site is refused before anything else.
    let res = reqwest::Client::new()
        .delete(app.url("/api/knowledge/articles/hours"))
        .header("cookie", &editor)
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // Thirty writes a minute per account: a burst of thirty, then one
    // every two seconds, so a slow machine may slip in one more before 429.
    let mut statuses = Vec::new();
    while statuses.len() < 100 && statuses.last() != Some(&429) {
        let (status, body) = send(
            &app,
            &editor,
            reqwest::Method::PUT,
            "/api/knowledge/articles/hours",
            Some(json!({"title": "x", "body": "y"})),
            None,
        )
        .await;
        if status == 429 {
            assert!(
                body["message"].as_str().unwrap().contains("try again"),
                "{body}"
            );
        }
        statuses.push(status);
    }
    assert!(statuses[..30].iter().all(|s| *s == 428), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test]
async fn a_write_that_fails_on_disk_is_refused_and_audited_as_not_written() {
    let (app, kb, editor) = workspace().await;
    // A file the server never served (it does not parse) holds the name
    // the new article would get.
    let taken = kb.path().join("visit/bikes.md");
    std::fs::write(&taken, "no front matter here\n").unwrap();
    let new = json!({"id": "bikes", "title": "Can I bring my bike?", "tags": ["visit"],
        "body": "Yes: the racks are by the main door."});
    let (status, refused) = create(&app, &editor, new).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    assert_eq!(
        std::fs::read_to_string(&taken).unwrap(),
        "no front matter here\n"
    );

    let admin = app.login_admin().await;
    let rows: Vec<Value> = app.get_as(&admin, "/api/audit").await.json().await.unwrap();
    let creates: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r["action"] == "knowledge.create")
        .map(|r| {
            (
                r["outcome"].as_str().unwrap(),
                r["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(creates.len(), 2, "{creates:?}");
    let failed = creates
        .iter()
        .find(|(outcome, _)| *outcome == "refused")
        .expect("the failed write is audited");
    assert!(
        failed.1.starts_with("bikes none..") && failed.1.ends_with(" not written"),
        "{failed:?}"
    );
}
