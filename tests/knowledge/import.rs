//! `frontdesk knowledge import`: FAQ exports become files `check` accepts.

use std::io::Write;

use crate::{frontdesk, stdout};

fn import_then_check(file: &std::path::Path) -> std::path::PathBuf {
    let out_dir = file.parent().expect("parent").join("kb");
    let out = frontdesk(
        &[
            "knowledge",
            "import",
            file.to_str().expect("utf-8"),
            "--out",
            out_dir.to_str().expect("utf-8"),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let check = frontdesk(
        &["knowledge", "check", out_dir.to_str().expect("utf-8")],
        "",
    );
    assert!(check.status.success(), "{}", stdout(&check));
    out_dir
}

#[test]
fn jsonl_exports_become_articles_with_unique_ids() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("faq.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"question":"Do you offer payment plans?","answer":"Yes, *monthly*.","alternates":["pay over time"],"tags":["billing"]}"#, "\n",
            r#"{"id":"do-you-offer-payment-plans","question":"Can I get a discount?","answer":"Ask billing."}"#, "\n",
            r#"{"id":"horario","question":"¿Cuál es su horario?","answer":"De 8 a 18 h.","lang":"es"}"#, "\n",
        ),
    )
    .expect("write");
    let dir = import_then_check(&file);
    let first = std::fs::read_to_string(dir.join("do-you-offer-payment-plans.md")).expect("first");
    assert!(first.contains("questions = [\"pay over time\"]"), "{first}");
    assert!(dir.join("do-you-offer-payment-plans-2.md").exists());
    let es = std::fs::read_to_string(dir.join("horario.md")).expect("es");
    assert!(es.contains("lang = \"es\""), "{es}");

    // The imported articles answer questions.
    let out = frontdesk(
        &["answer", "--knowledge", dir.to_str().expect("utf-8")],
        "can I pay over time\n",
    );
    assert!(
        stdout(&out).contains("\"decision\":\"answer\""),
        "{}",
        stdout(&out)
    );
}

#[test]
fn csv_exports_with_quotes_and_alternates_import() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("faq.csv");
    std::fs::write(&file, "question,answer,alternates\n\"Where do I park, and is it free?\",\"Garage B, level 2.\",parking|car park\nWhat are your hours?,9 to 5,\n").expect("write");
    let dir = import_then_check(&file);
    let park =
        std::fs::read_to_string(dir.join("where-do-i-park-and-is-it-free.md")).expect("park");
    assert!(
        park.contains("questions = [\"parking\", \"car park\"]"),
        "{park}"
    );
    assert!(park.ends_with("Garage B, level 2.\n"), "{park}");
}

#[test]
fn gzipped_exports_import_and_existing_files_are_not_overwritten() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("faq.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&file).expect("create"),
        flate2::Compression::fast(),
    );
    gz.write_all(b"{\"id\":\"Q_1\",\"question\":\"What is asthma ?\",\"answer\":\"A lung disease.\",\"synonyms\":[]}\n").expect("gz");
    gz.finish().expect("finish");
    let dir = import_then_check(&file);
    assert!(dir.join("Q_1.md").exists());

    let again = frontdesk(
        &[
            "knowledge",
            "import",
            file.to_str().expect("utf-8"),
            "--out",
            dir.to_str().expect("utf-8"),
        ],
        "",
    );
    assert!(!again.status.success(), "overwrote without --force");
    let forced = frontdesk(
        &[
            "knowledge",
            "import",
            file.to_str().expect("utf-8"),
            "--out",
            dir.to_str().expect("utf-8"),
            "--force",
        ],
        "",
    );
    assert!(forced.status.success());
}
