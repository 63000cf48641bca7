//! Live reload through the library API: edits apply without a restart, and a
//! broken edit never takes an answer away.

use std::path::Path;
use std::time::Duration;

use frontdesk::knowledge::{Decision, DecisionSettings, Knowledge};
use frontdesk::lang::Lang;
use frontdesk::utterance::Utterance;

use crate::{copy_dir, fixture};

/// Waits for reloads until `done` holds; fails after 10 s. No sleeping.
async fn until(k: &Knowledge, what: &str, done: impl Fn(&Decision) -> bool, question: &str) {
    let mut reloads = k.subscribe_reloads();
    let wait = async {
        loop {
            if done(&k.decide(&Utterance::analyse(question), Lang::En).await) {
                return;
            }
            reloads.changed().await.expect("indexer alive");
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for: {what}"));
}

fn answered(id: &'static str) -> impl Fn(&Decision) -> bool {
    move |d| d.article().is_some_and(|a| a.id.as_str() == id)
}

fn write(dir: &Path, rel: &str, text: &str) {
    std::fs::write(dir.join(rel), text).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_apply_live_and_broken_files_keep_their_last_good_version() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("knowledge");
    copy_dir(&fixture(), &dir);
    let k = Knowledge::open(dir.clone(), DecisionSettings::default())
        .await
        .expect("opens");
    assert_eq!(k.stats().articles_en, 11);
    assert!(
        k.decide(&Utterance::analyse("where is the cafeteria"), Lang::En)
            .await
            .article()
            .is_none()
    );

    // Added file.
    write(
        &dir,
        "visit/cafeteria.md",
        "+++\ntitle = \"Where is the cafeteria?\"\n+++\nGround floor, next to the lobby.\n",
    );
    until(
        &k,
        "new article answers",
        answered("cafeteria"),
        "where is the cafeteria",
    )
    .await;

    // Edited file: a new phrasing starts working.
    write(
        &dir,
        "visit/hours.md",
        "+++\ntitle = \"What are your opening hours?\"\nquestions = [\"When does the clinic close on weekdays?\"]\n+++\nMonday to Friday 8 am to 6 pm.\n",
    );
    until(
        &k,
        "edited article answers",
        answered("hours"),
        "when does the clinic close on weekdays",
    )
    .await;

    // Broken edit: the last good version keeps serving, and so the same
    // articles (the digest a deploy to several nodes compares).
    let digest = k.stats().digest;
    write(
        &dir,
        "visit/parking.md",
        "+++\ntitle = \"Where do I park?\nquestions = [\n+++\nbroken",
    );
    let generation = *k.subscribe_reloads().borrow();
    let after = k.reload_now().await.expect("reload");
    assert!(after > generation);
    let d = k
        .decide(&Utterance::analyse("where do i park"), Lang::En)
        .await;
    assert_eq!(d.article().map(|a| a.id.as_str()), Some("parking"), "{d:?}");
    assert!(k.stats().last_errors >= 1);
    assert_eq!(k.stats().digest, digest, "the same articles serve");

    // Deleted file: its answer is gone, and the digest changes.
    std::fs::remove_file(dir.join("visit/cafeteria.md")).expect("rm");
    until(
        &k,
        "deleted article no longer answers",
        |d| d.article().is_none(),
        "where is the cafeteria",
    )
    .await;
    assert_ne!(k.stats().digest, digest, "one article fewer serves");
}

#[tokio::test]
async fn opening_an_unreadable_directory_fails() {
    assert!(
        Knowledge::open("/nonexistent/knowledge".into(), DecisionSettings::default())
            .await
            .is_err()
    );
}
