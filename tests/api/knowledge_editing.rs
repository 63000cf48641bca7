//! The editors' workspace API (`/api/knowledge/…`) through the real server:
//! an editor's save changes what patients get at once, a draft changes
//! nothing, broken articles and stale versions are refused with the file
//! untouched, and only editors and admins may use it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tempfile::TempDir;

use super::helpers::{TestApp, copy_dir, knowledge_dir, spawn_app_with};

/// Never answered by the fixture knowledge until an editor adds it.
pub(super) const BICYCLE: &str = "where do I leave my bicycle";

/// A server over its own copy of the fixture knowledge, and an editor.
pub(super) async fn workspace() -> (TestApp, TempDir, String) {
    let kb = tempfile::tempdir().unwrap();
    copy_dir(&knowledge_dir(), kb.path());
    let dir = kb.path().to_path_buf();
    let app = spawn_app_with(|s| s.data.knowledge = dir).await;
    let editor = app.staff("erin", "editor").await;
    (app, kb, editor)
}

fn parking(kb: &TempDir) -> PathBuf {
    kb.path().join("visit/parking.md")
}

pub(super) async fn send(
    app: &TestApp,
    cookie: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, app.url(path))
        .header("cookie", cookie);
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(tag) = if_match {
        req = req.header("if-match", format!("\"{tag}\""));
    }
    let res = req.send().await.expect("request sent");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(super) async fn get(app: &TestApp, cookie: &str, path: &str) -> (u16, Value) {
    send(app, cookie, reqwest::Method::GET, path, None, None).await
}

pub(super) async fn try_question(app: &TestApp, cookie: &str, body: Value) -> Value {
    let (status, v) = send(
        app,
        cookie,
        reqwest::Method::POST,
        "/api/knowledge/try",
        Some(body),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// `POST /api/knowledge/articles`: creates an article.
pub(super) async fn create(app: &TestApp, cookie: &str, fields: Value) -> (u16, Value) {
    let path = "/api/knowledge/articles";
    send(app, cookie, reqwest::Method::POST, path, Some(fields), None).await
}

async fn save(app: &TestApp, cookie: &str, id: &str, fields: &Value, tag: &str) -> (u16, Value) {
    let path = format!("/api/knowledge/articles/{id}");
    send(
        app,
        cookie,
        reqwest::Method::PUT,
        &path,
        Some(fields.clone()),
        Some(tag),
    )
    .await
}

/// What a patient's chat answers.
async fn patient_asks(app: &TestApp, text: &str) -> Value {
    let mut chat = app.chat().await;
    chat.start().await;
    chat.say("q1", text).await;
    chat.expect("reply").await
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test]
async fn an_added_phrasing_answers_the_escalated_question_at_once_for_try_and_patients() {
    let (app, kb, editor) = workspace().await;
    let before = try_question(&app, &editor, json!({"question": BICYCLE})).await;
    assert_ne!(before["decision"], "answer", "{before}");
    assert_eq!(before["knowledge"], "saved");
    assert_ne!(patient_asks(&app, BICYCLE).await["article"], "parking");

    let (status, list) = get(&app, &editor, "/api/knowledge/articles").await;
    assert_eq!(status, 200);
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "parking")
        .expect("parking is listed")
        .clone();
    assert_eq!(row["path"], "visit/parking.md");
    assert_eq!(row["lang"], "en");
    assert_eq!(row["versions"]["es"], "parking-es");
    assert!(row["modified"].as_str().is_some_and(|m| m.ends_with('Z')));

    let (status, mut article) = get(&app, &editor, "/api/knowledge/articles/parking").await;
    assert_eq!(status, 200, "{article}");
    assert_eq!(article["title"], "Where do I park?");
    assert_eq!(article["problems"], json!([]));
    let tag = article["etag"].as_str().unwrap().to_owned();
    article["questions"]
        .as_array_mut()
        .unwrap()
        .push(json!(BICYCLE));
    let on_disk = read(&parking(&kb));
    let (status, saved) = save(&app, &editor, "parking", &article, &tag).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["live"], true);
    assert_ne!(saved["etag"], tag.as_str());

    // Served as soon as the save returns: no restart, no waiting.
    let after = try_question(&app, &editor, json!({"question": BICYCLE})).await;
    assert_eq!(after["decision"], "answer", "{after}");
    assert_eq!(after["article"], "parking");
    assert_eq!(after["matched"]["phrasing"], BICYCLE);
    assert_eq!(after["matched"]["by"], "phrasing");
    assert_eq!(patient_asks(&app, BICYCLE).await["article"], "parking");

    // The file keeps its layout: only the questions line changed.
    let now = read(&parking(&kb));
    let changed: Vec<(&str, &str)> = on_disk
        .lines()
        .zip(now.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{now}");
    assert!(changed[0].1.starts_with("questions = ") && changed[0].1.contains(BICYCLE));
    assert!(now.contains("review_by = \"2099-01-01\""), "{now}");

    // Audited with the article and the versions, never the text.
    let admin = app.login_admin().await;
    let rows: Vec<Value> = app.get_as(&admin, "/api/audit").await.json().await.unwrap();
    let entry = rows
        .iter()
        .find(|r| r["action"] == "knowledge.save")
        .expect("the save is audited");
    assert_eq!(entry["actor"], "erin");
    let target = entry["target"].as_str().unwrap();
    assert_eq!(
        target,
        format!("parking {tag}..{}", saved["etag"].as_str().unwrap())
    );
}

#[tokio::test]
async fn a_draft_is_tried_beside_the_saved_answer_and_changes_nothing() {
    let (app, kb, editor) = workspace().await;
    let (_, mut draft) = get(&app, &editor, "/api/knowledge/articles/parking").await;
    draft["questions"]
        .as_array_mut()
        .unwrap()
        .push(json!(BICYCLE));
    let on_disk = read(&parking(&kb));
    let tried = try_question(&app, &editor, json!({"question": BICYCLE, "draft": draft})).await;
    assert_eq!(tried["knowledge"], "draft");
    assert_eq!(tried["decision"], "answer", "{tried}");
    assert_eq!(tried["article"], "parking");
    let saved = try_question(&app, &editor, json!({"question": BICYCLE})).await;
    assert_ne!(saved["decision"], "answer", "{saved}");
    assert_ne!(patient_asks(&app, BICYCLE).await["article"], "parking");
    assert_eq!(read(&parking(&kb)), on_disk);

    // Safety first, in a draft too; the language is detected.
    let danger = try_question(
        &app,
        &editor,
        json!({"question": "I have crushing chest pain", "draft": draft}),
    )
    .await;
    assert_eq!(danger["decision"], "emergency", "{danger}");
    let spanish = try_question(
        &app,
        &editor,
        json!({"question": "¿Dónde puedo estacionar mi coche?"}),
    )
    .await;
    assert_eq!(spanish["lang"], "es", "{spanish}");
}

#[tokio::test]
async fn a_broken_article_is_refused_with_its_line_and_the_file_is_untouched() {
    let (app, kb, editor) = workspace().await;
    let (_, article) = get(&app, &editor, "/api/knowledge/articles/parking").await;
    let tag = article["etag"].as_str().unwrap().to_owned();
    let on_disk = read(&parking(&kb));

    let mut broken = article.clone();
    broken["min_confidence"] = json!(7);
    let (status, refused) = save(&app, &editor, "parking", &broken, &tag).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "invalid");
    let problem = &refused["problems"][0];
    assert_eq!(problem["field"], "min_confidence");
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("between 0 and 1")
    );
    // The line is the one the key would be on in the file written.
    let (_, checked) = send(
        &app,
        &editor,
        reqwest::Method::POST,
        "/api/knowledge/check",
        Some(broken.clone()),
        None,
    )
    .await;
    let file = checked["file"].as_str().unwrap();
    let line = file
        .lines()
        .position(|l| l.starts_with("min_confidence = 7"))
        .unwrap()
        + 1;
    assert_eq!(problem["line"], line);
    assert_eq!(checked["problems"], refused["problems"]);

    let mut untitled = article.clone();
    untitled["title"] = json!("  ");
    let (status, refused) = save(&app, &editor, "parking", &untitled, &tag).await;
    assert_eq!(status, 422);
    assert_eq!(refused["problems"][0]["field"], "title");

    let mut dangling = article.clone();
    dangling["related"] = json!(["no-such-article"]);
    let (status, refused) = save(&app, &editor, "parking", &dangling, &tag).await;
    assert_eq!(status, 422);
    assert!(refused["message"].as_str().unwrap().contains("not saved"));
    assert_eq!(refused["problems"][0]["field"], "related");
    assert_eq!(read(&parking(&kb)), on_disk, "nothing refused is written");

    // The preview is the widget's: sanitised the same way.
    let mut scripted = article.clone();
    scripted["body"] = json!("Lot **B**. <script>alert(1)</script>");
    let (_, checked) = send(
        &app,
        &editor,
        reqwest::Method::POST,
        "/api/knowledge/check",
        Some(scripted),
        None,
    )
    .await;
    let html = checked["html"].as_str().unwrap();
    assert!(
        html.contains("<strong>B</strong>") && !html.contains("script"),
        "{html}"
    );
}

#[tokio::test]
async fn a_file_changed_on_disk_since_it_was_opened_is_not_overwritten() {
    let (app, kb, editor) = workspace().await;
    let (_, article) = get(&app, &editor, "/api/knowledge/articles/parking").await;
    let tag = article["etag"].as_str().unwrap().to_owned();
    let by_hand = read(&parking(&kb)).replace("level 2", "level 3");
    std::fs::write(parking(&kb), &by_hand).unwrap();

    let mut mine = article.clone();
    mine["title"] = json!("Where can I park my car?");
    let (status, refused) = save(&app, &editor, "parking", &mine, &tag).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("changed since you opened it")
    );
    assert_eq!(read(&parking(&kb)), by_hand);

    // Without a version it is not even tried.
    let (status, _) = send(
        &app,
        &editor,
        reqwest::Method::PUT,
        "/api/knowledge/articles/parking",
        Some(mine.clone()),
        None,
    )
    .await;
    assert_eq!(status, 428);

    // Opened again, the hand edit is there and the save goes through.
    let (_, fresh) = get(&app, &editor, "/api/knowledge/articles/parking").await;
    assert!(fresh["body"].as_str().unwrap().contains("level 3"));
    mine["body"] = fresh["body"].clone();
    let (status, _) = save(
        &app,
        &editor,
        "parking",
        &mine,
        fresh["etag"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(read(&parking(&kb)).contains("title = \"Where can I park my car?\""));
}

#[tokio::test]
async fn an_article_is_created_answered_and_retired_and_links_hold_it_back() {
    let (app, kb, editor) = workspace().await;
    let new = json!({
        "title": "Can I bring my bicycle?",
        "questions": [BICYCLE, "bike rack"],
        "tags": ["visit"],
        "lang": "en",
        "body": "Yes: the bike racks are beside the main door.",
    });
    let (status, created) = create(&app, &editor, new.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], "can-i-bring-my-bicycle");
    assert_eq!(created["path"], "visit/can-i-bring-my-bicycle.md");
    assert_eq!(created["live"], true);
    let answered = try_question(&app, &editor, json!({"question": BICYCLE})).await;
    assert_eq!(answered["article"], "can-i-bring-my-bicycle", "{answered}");

    let (status, again) = create(&app, &editor, new).await;
    assert_eq!(status, 409, "{again}");

    // The Spanish version names the parking article: it stays until unlinked.
    let (status, held) = send(
        &app,
        &editor,
        reqwest::Method::DELETE,
        "/api/knowledge/articles/parking",
        None,
        None,
    )
    .await;
    assert_eq!(status, 422, "{held}");
    assert!(
        held["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("es/estacionamiento.md names this article in `translation_of`")
    );
    assert!(parking(&kb).exists());

    let (status, retired) = send(
        &app,
        &editor,
        reqwest::Method::DELETE,
        "/api/knowledge/articles/can-i-bring-my-bicycle",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{retired}");
    assert_eq!(
        retired["retired"],
        "visit/can-i-bring-my-bicycle.md.retired"
    );
    assert!(
        kb.path()
            .join("visit/can-i-bring-my-bicycle.md.retired")
            .exists()
    );
    let gone = try_question(&app, &editor, json!({"question": BICYCLE})).await;
    assert_ne!(gone["article"], "can-i-bring-my-bicycle");
    let (status, _) = get(
        &app,
        &editor,
        "/api/knowledge/articles/can-i-bring-my-bicycle",
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_key_the_checks_do_not_know_blocks_a_save_until_the_editor_removes_it() {
    let (app, kb, editor) = workspace().await;
    // Someone added a key and a comment by hand.
    let by_hand = read(&parking(&kb)).replace(
        "tags = [\"visit\"]\n",
        "# Checked with the garage in May.\ntags = [\"visit\"]\nauthor = \"Dr Lee\"\n",
    );
    std::fs::write(parking(&kb), &by_hand).unwrap();
    let (_, article) = get(&app, &editor, "/api/knowledge/articles/parking").await;
    let problem = &article["problems"][0];
    assert_eq!(problem["line"], 6, "{article}");
    assert_eq!(problem["key"], "author");
    assert!(
        problem.get("field").is_none(),
        "no field of the form holds it"
    );
    let tag = article["etag"].as_str().unwrap().to_owned();

    let mut edited = article.clone();
    edited["title"] = json!("Where can I park my car?");
    let (status, refused) = save(&app, &editor, "parking", &edited, &tag).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["problems"][0]["key"], "author");
    assert_eq!(read(&parking(&kb)), by_hand);

    edited["remove_keys"] = json!(["author"]);
    let (status, saved) = save(&app, &editor, "parking", &edited, &tag).await;
    assert_eq!(status, 200, "{saved}");
    let now = read(&parking(&kb));
    assert!(!now.contains("author"), "{now}");
    assert!(now.contains("# Checked with the garage in May.\n"), "{now}");
    assert!(
        now.contains("title = \"Where can I park my car?\""),
        "{now}"
    );
    let (_, reopened) = get(&app, &editor, "/api/knowledge/articles/parking").await;
    assert_eq!(reopened["problems"], json!([]));
}
