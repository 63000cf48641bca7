//! The editors' workspace (/console/knowledge) in the browser: an editor
//! adds a phrasing and patients get the article at once; broken front
//! matter and a file changed on disk are refused with a clear message and
//! the file stays as it was. Each server edits a copy of the fixture
//! knowledge (`knowledge_access` has who may use it, and axe).

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::harness::{Browser, browser_or_skip};
use super::helpers::{TestApp, copy_dir, knowledge_dir, spawn_app_with, turn};

pub(super) const BICYCLE: &str = "where do I leave my bicycle";

/// A server on a copy of the fixture knowledge, which tests may change.
pub(super) async fn app_on_copy() -> (TestApp, TempDir) {
    let kb = tempfile::tempdir().expect("temp dir");
    copy_dir(&knowledge_dir(), kb.path());
    let dir = kb.path().to_path_buf();
    let app = spawn_app_with(move |s| s.data.knowledge = dir).await;
    (app, kb)
}

/// Signs `name` (an editor) in on the console and follows its link to the
/// workspace; waits for the list of articles.
pub(super) async fn editor_opens_workspace(browser: &Browser, app: &TestApp, name: &str) {
    app.staff(name, "editor").await;
    browser
        .sign_in_until(
            &app.url("/console"),
            name,
            "document.querySelector('[data-testid=editor-message] a[href=\"/console/knowledge\"]')",
            "the editor's card with its link to the workspace",
        )
        .await;
    click(browser, "open-workspace").await;
    wait_for_list(browser).await;
}

/// Clicks the element with this `data-testid`.
pub(super) async fn click(browser: &Browser, testid: &str) {
    browser.by_testid(testid).await.click().await.unwrap();
}

pub(super) async fn wait_for_list(browser: &Browser) {
    browser
        .wait_for(
            "document.querySelector('[data-testid=kb-row][data-id=parking]')",
            "the list of articles",
        )
        .await;
}

/// Opens article `id` from the list; waits until the form shows it.
pub(super) async fn open_article(browser: &Browser, id: &str) {
    browser
        .client
        .find(Locator::Css(&format!(
            "[data-testid=kb-row][data-id='{id}']"
        )))
        .await
        .expect("the article's row")
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            &format!(
                "document.querySelector('[data-testid=kb-row][data-id={}]').getAttribute('aria-current') === 'true' && document.querySelector('[data-testid=kb-title]').value !== ''",
                json!(id)
            ),
            "the article in the editor",
        )
        .await;
}

/// Asks `question` in the try box; returns {saved, draft}, each
/// {decision, article} or null when that side shows no answer.
pub(super) async fn try_question(browser: &Browser, question: &str) -> Value {
    let input = browser.by_testid("kb-try-question").await;
    input.clear().await.unwrap();
    input.send_keys(question).await.unwrap();
    click(browser, "kb-try-submit").await;
    let asked = json!(question);
    browser
        .wait_for(
            &format!(
                "document.querySelector('[data-testid=kb-try-saved]').dataset.question === {asked} && document.querySelector('[data-testid=kb-try-draft]').dataset.question === {asked}"
            ),
            "both answers of the try box",
        )
        .await;
    browser
        .js(
            "const side = (t) => { const box = document.querySelector(`[data-testid=${t}]`);
               const d = box.querySelector('[data-testid=kb-try-decision]');
               const a = box.querySelector('[data-testid=kb-try-article]');
               return d ? {decision: d.dataset.decision, article: a ? a.dataset.id : null} : null; };
             const shown = document.querySelector('[data-testid=kb-try-draft]').textContent;
             return {saved: side('kb-try-saved'), draft: side('kb-try-draft'), shown};",
        )
        .await
}

/// Waits until the check passed (Save enabled), then clicks Save.
async fn click_save(browser: &Browser) {
    browser
        .wait_for(
            "!document.querySelector('[data-testid=kb-save]').disabled",
            "Save enabled once the check passes",
        )
        .await;
    click(browser, "kb-save").await;
}

pub(super) fn text_of(testid: &str) -> String {
    format!("((document.querySelector('[data-testid={testid}]') || {{}}).textContent || '')")
}

#[tokio::test]
async fn an_editor_adds_a_phrasing_and_patients_get_the_article_at_once() {
    let browser = browser_or_skip!();
    let (app, kb) = app_on_copy().await;
    // A patient asks; the bot does not know, so the question is unanswered.
    let mut patient = app.chat().await;
    patient.start().await;
    let before = turn(&mut patient, "b1", BICYCLE, None).await;
    assert!(
        !before.to_string().contains("Alder Street"),
        "answered before the edit: {before}"
    );

    editor_opens_workspace(&browser, &app, "ed").await;
    let saved_only = try_question(&browser, BICYCLE).await;
    assert_ne!(saved_only["saved"]["decision"], "answer", "{saved_only}");
    assert_eq!(saved_only["draft"], Value::Null, "no article is open");

    // Two clicks: the article, then "Add as a phrasing" on the question.
    open_article(&browser, "parking").await;
    // The example as insights shows it (redacted, so maybe not verbatim).
    let add = "[data-testid=kb-add-phrasing][data-text*=bicycle]";
    browser
        .wait_for(
            &format!("!document.querySelector({}).disabled", json!(add)),
            "the patient's question under What patients asked",
        )
        .await;
    let example = browser
        .js(&format!(
            "return document.querySelector({}).dataset.text;",
            json!(add)
        ))
        .await;
    browser
        .client
        .find(Locator::Css(add))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for(
            &format!(
                "document.querySelector('[data-testid=kb-questions]').value.split('\\n').includes({example})"
            ),
            "the question among the article's phrasings",
        )
        .await;
    // The draft answers it; what patients get does not change before saving.
    let side_by_side = try_question(&browser, BICYCLE).await;
    assert_eq!(
        side_by_side["draft"],
        json!({"decision": "answer", "article": "parking"}),
        "{side_by_side}"
    );
    assert_ne!(
        side_by_side["saved"]["decision"], "answer",
        "{side_by_side}"
    );

    click_save(&browser).await;
    browser
        .wait_for(
            &format!("{}.includes('Patients get it now')", text_of("kb-status")),
            "the save announced as live",
        )
        .await;
    let text = std::fs::read_to_string(kb.path().join("visit/parking.md")).unwrap();
    let example = example.as_str().unwrap_or_default();
    assert!(text.contains(example), "the file has the phrasing:\n{text}");

    // Live as soon as saved: the first try after the save answers it.
    let after = try_question(&browser, BICYCLE).await;
    assert_eq!(
        after["saved"],
        json!({"decision": "answer", "article": "parking"}),
        "{after}"
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // And in a patient's chat.
    browser.demo_page(app.addr).await;
    browser.open_widget().await;
    browser.send_message(BICYCLE).await;
    browser
        .wait_for(
            "[...root.querySelectorAll('.msg.bot .bubble')].some(b => b.textContent.includes('garage on Alder Street'))",
            "the parking answer in the patient's chat",
        )
        .await;
}

/// Selects everything in the focused field and types `text` over it.
pub(super) async fn retype(browser: &Browser, testid: &str, text: &str) {
    let field = browser.by_testid(testid).await;
    field.click().await.unwrap();
    let select_all = format!("{}a{}", Key::Control, Key::Null);
    field.send_keys(&select_all).await.unwrap();
    field
        .send_keys(&format!("{}{text}", Key::Backspace))
        .await
        .unwrap();
}

#[tokio::test]
async fn broken_front_matter_is_shown_at_its_line_and_never_saved() {
    let browser = browser_or_skip!();
    let (app, kb) = app_on_copy().await;
    let file = kb.path().join("visit/parking.md");
    let original = std::fs::read(&file).unwrap();
    editor_opens_workspace(&browser, &app, "ed").await;
    open_article(&browser, "parking").await;

    retype(&browser, "kb-min-confidence", "7").await;
    browser
        .wait_for(
            &format!(
                "/line \\d+: .*min_confidence/.test({}) && /min_confidence/.test(document.getElementById('kb-f-min_confidence-problems').textContent)",
                text_of("kb-problems")
            ),
            "the problem with its line, beside the field",
        )
        .await;
    assert_eq!(
        browser
            .js("return document.querySelector('[data-testid=kb-save]').disabled;")
            .await,
        Value::Bool(true),
        "Save is disabled while there are problems"
    );
    // A submit that gets past the disabled button is refused all the same.
    browser
        .js("document.querySelector('[data-testid=kb-form]').requestSubmit();")
        .await;
    browser
        .wait_for(
            &format!("{}.includes('not saved')", text_of("kb-alert")),
            "the refusal",
        )
        .await;

    // An empty title is a problem of the title field.
    retype(&browser, "kb-min-confidence", "").await;
    retype(&browser, "kb-title", "").await;
    browser
        .wait_for(
            "document.getElementById('kb-f-title-problems').textContent.includes('line') && document.querySelector('[data-testid=kb-title]').getAttribute('aria-invalid') === 'true' && !/min_confidence/.test(document.querySelector('[data-testid=kb-problems]').textContent)",
            "the empty title's problem beside the title",
        )
        .await;
    assert_eq!(
        browser
            .js("return document.querySelector('[data-testid=kb-save]').disabled;")
            .await,
        Value::Bool(true)
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        original,
        "the file is unchanged"
    );
}

/// Adds a key the checks do not know (`author`) to the fixture's parking
/// article, as someone editing by hand might.
pub(super) fn add_unknown_key(kb: &TempDir) -> std::path::PathBuf {
    let file = kb.path().join("visit/parking.md");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "tags = [\"visit\"]\n",
        "tags = [\"visit\"]\nauthor = \"Dr Lee\"\n",
    );
    std::fs::write(&file, text).unwrap();
    file
}

#[tokio::test]
async fn a_key_the_checks_do_not_know_is_removed_with_one_button_and_saved() {
    let browser = browser_or_skip!();
    let (app, kb) = app_on_copy().await;
    let file = add_unknown_key(&kb);
    editor_opens_workspace(&browser, &app, "ed").await;
    open_article(&browser, "parking").await;
    browser
        .wait_for(
            &format!(
                "/line 5: unknown key `author`/.test({}) && document.querySelector('[data-testid=kb-save]').disabled",
                text_of("kb-problems")
            ),
            "the unknown key's problem at its line, Save disabled",
        )
        .await;
    click(&browser, "kb-remove-key").await;
    browser
        .wait_for(
            "document.querySelector('[data-testid=kb-problems]').children.length === 0 && document.activeElement === document.querySelector('[data-testid=kb-save]')",
            "no problem left, focus on Save",
        )
        .await;
    assert!(
        std::fs::read_to_string(&file).unwrap().contains("author"),
        "nothing is written before Save"
    );
    click_save(&browser).await;
    browser
        .wait_for(
            &format!("{}.includes('Saved')", text_of("kb-status")),
            "the save announced",
        )
        .await;
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("author"), "{text}");
    assert!(text.contains("title = \"Where do I park?\""), "{text}");
}

#[tokio::test]
async fn a_file_changed_on_disk_while_open_is_a_conflict_that_keeps_the_draft() {
    let browser = browser_or_skip!();
    let (app, kb) = app_on_copy().await;
    let file = kb.path().join("visit/parking.md");
    editor_opens_workspace(&browser, &app, "ed").await;
    open_article(&browser, "parking").await;

    // Someone edits the file by hand meanwhile.
    let by_hand = std::fs::read_to_string(&file)
        .unwrap()
        .replace("level 2", "level 3");
    std::fs::write(&file, &by_hand).unwrap();

    browser
        .by_testid("kb-questions")
        .await
        .send_keys(&format!("{}bike parking", Key::Enter))
        .await
        .unwrap();
    click_save(&browser).await;
    browser
        .wait_for(
            "!document.querySelector('[data-testid=kb-conflict]').hidden && document.querySelector('[data-testid=kb-reload]')",
            "the conflict message with its reload button",
        )
        .await;
    let alert = browser
        .js(&format!("return {};", text_of("kb-alert")))
        .await;
    assert!(
        alert.as_str().unwrap_or_default().starts_with("Not saved"),
        "{alert}"
    );
    let draft = browser
        .js("return document.querySelector('[data-testid=kb-questions]').value;")
        .await;
    assert!(
        draft.as_str().unwrap_or_default().contains("bike parking"),
        "the editor's text stays to copy: {draft}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        by_hand,
        "the hand edit stays"
    );

    click(&browser, "kb-reload").await;
    browser
        .wait_for(
            "document.querySelector('[data-testid=kb-body]').value.includes('level 3') && document.querySelector('[data-testid=kb-conflict]').hidden",
            "the article as it is on disk now",
        )
        .await;
}

#[tokio::test]
async fn a_group_of_unanswered_questions_becomes_a_new_article() {
    let browser = browser_or_skip!();
    let (app, kb) = app_on_copy().await;
    let mut patient = app.chat().await;
    patient.start().await;
    turn(&mut patient, "b1", BICYCLE, None).await;
    editor_opens_workspace(&browser, &app, "ed").await;

    browser
        .wait_for(
            "document.querySelector('[data-testid=kb-new-from-group]')",
            "the group under What patients asked",
        )
        .await;
    click(&browser, "kb-new-from-group").await;
    browser
        .wait_for(
            "document.querySelector('[data-testid=kb-title]').value.includes('bicycle') && /body|empty/i.test(document.querySelector('[data-testid=kb-problems]').textContent)",
            "the title taken from the group, and the empty answer as a problem",
        )
        .await;
    retype(&browser, "kb-id", "bicycles").await;
    browser
        .by_testid("kb-body")
        .await
        .send_keys("Bicycle racks are beside the main entrance.")
        .await
        .unwrap();
    click_save(&browser).await;
    browser
        .wait_for(
            "document.querySelector('[data-testid=kb-row][data-id=bicycles]')",
            "the new article in the list",
        )
        .await;
    // The editor shows where the file went.
    let path = browser
        .js("return document.querySelector('[data-testid=kb-meta] code').textContent;")
        .await;
    let file = kb.path().join(path.as_str().unwrap_or_default());
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(text.contains("Bicycle racks"), "{}: {text}", file.display());
    let after = try_question(&browser, BICYCLE).await;
    assert_eq!(after["saved"]["article"], "bicycles", "{after}");
}

/// Clicks Retire and answers the confirm dialog with its Retire button.
async fn retire_open_article(browser: &Browser) {
    click(browser, "kb-retire").await;
    browser
        .wait_for(
            "document.querySelector('[data-testid=kb-confirm]') && document.querySelector('[data-testid=kb-confirm]').open",
            "the confirm dialog",
        )
        .await;
    click(browser, "kb-confirm-yes").await;
}

#[tokio::test]
async fn retiring_asks_first_and_refuses_an_article_others_link_to() {
    let browser = browser_or_skip!();
    let (app, kb) = app_on_copy().await;
    editor_opens_workspace(&browser, &app, "ed").await;

    // The Spanish version translates it: retiring it would break that link.
    open_article(&browser, "parking").await;
    retire_open_article(&browser).await;
    browser
        .wait_for(
            &format!("{}.startsWith('Not retired')", text_of("kb-alert")),
            "the refusal",
        )
        .await;
    assert!(kb.path().join("visit/parking.md").exists());

    open_article(&browser, "medical-records").await;
    retire_open_article(&browser).await;
    browser
        .wait_for(
            &format!("{}.startsWith('Retired')", text_of("kb-status")),
            "the retirement announced",
        )
        .await;
    browser
        .wait_for(
            "!document.querySelector('[data-testid=kb-row][data-id=medical-records]')",
            "the article gone from the list",
        )
        .await;
    assert!(!kb.path().join("records/records.md").exists());
    assert!(kb.path().join("records/records.md.retired").exists());
}
