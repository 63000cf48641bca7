//! `frontdesk knowledge check`: one `path:line: message` line per problem.

use std::path::Path;

use crate::{fixture, frontdesk, stdout};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn the_fixture_is_clean() {
    let out = frontdesk(
        &["knowledge", "check", fixture().to_str().expect("utf-8")],
        "",
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(
        stdout(&out).starts_with("ok: 14 articles"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_bundled_clinic_knowledge_is_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let out = frontdesk(&["knowledge", "check", dir.to_str().expect("utf-8")], "");
    assert!(out.status.success(), "{}", stdout(&out));
}

#[test]
fn a_broken_clinic_file_is_reported_at_its_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "a.md", "+++\ntitle = \"A\"\n+++\nBody.\n");
    write(
        tmp.path(),
        "clinic.toml",
        "[clinic]\nname = \"X\"\ntimezone = \"Mars/Base\"\n",
    );
    let out = frontdesk(
        &["knowledge", "check", tmp.path().to_str().expect("utf-8")],
        "",
    );
    assert!(!out.status.success());
    let expected = format!(
        "{}:3: unknown time zone \"Mars/Base\"",
        tmp.path().join("clinic.toml").display()
    );
    assert_eq!(stdout(&out).trim(), expected);
}

#[test]
fn a_message_with_an_unknown_placeholder_is_reported_at_its_table() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "a.md", "+++\ntitle = \"A\"\n+++\nBody.\n");
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge/messages.toml");
    let text = std::fs::read_to_string(bundled).expect("bundled messages");
    let line = text
        .lines()
        .position(|l| l.starts_with("[es.booking_confirmed]"))
        .expect("the Spanish table")
        + 1;
    write(
        tmp.path(),
        "messages.toml",
        &text.replace(
            "Su código de confirmación es {code}",
            "Su diagnóstico: {diagnosis}",
        ),
    );
    let out = frontdesk(
        &["knowledge", "check", tmp.path().to_str().expect("utf-8")],
        "",
    );
    assert!(!out.status.success());
    let expected = format!(
        "{}:{line}: es.booking_confirmed: unknown placeholder {{diagnosis}}",
        tmp.path().join("messages.toml").display()
    );
    assert!(
        stdout(&out).trim().starts_with(&expected),
        "{}",
        stdout(&out)
    );
}

#[test]
fn every_problem_is_reported_with_its_path_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write(d, "a.md", "+++\ntitle = \"A\"\nbogus = 1\n+++\nBody.\n");
    write(
        d,
        "b.md",
        "+++\ntitle = \"B\"\ntags = [\"x\",\nlang = \"en\"\n+++\nBody.\n",
    );
    write(d, "c.md", "+++\nid = \"c\"\n+++\nBody.\n");
    write(d, "d.md", "+++\ntitle = \"D\"\n+++\n\n");
    write(
        d,
        "e.md",
        "+++\ntitle = \"E\"\nrelated = [\"nope\"]\n+++\nBody.\n",
    );
    write(d, "f.md", "+++\ntitle = \"Where do I park?\"\n+++\nBody.\n");
    write(
        d,
        "sub/g.md",
        "+++\ntitle = \"where do i PARK\"\n+++\nBody.\n",
    );
    write(d, "h.md", "+++\ntitle = \"H\"\nlang = \"fr\"\n+++\nBody.\n");
    write(d, "i.md", "+++\nid = \"a\"\ntitle = \"I\"\n+++\nBody.\n");
    write(
        d,
        "j.md",
        "+++\ntitle = \"J\"\nreview_by = 2001-02-03\n+++\nBody.\n",
    );
    write(d, "synonyms.txt", "# ok\nlonely\nshot, vaccine\n");
    write(d, ".#k.md", "editor lock file, ignored");
    write(d, "notes.toml", "not an article");

    let out = frontdesk(&["knowledge", "check", d.to_str().expect("utf-8")], "");
    assert_eq!(out.status.code(), Some(1));
    let p = |rel: &str| d.join(rel).display().to_string();
    let expected = vec![
        format!(
            "{}:3: unknown key `bogus` (known: id, title, questions, tags, lang, related, translation_of, min_confidence, owner, review_by)",
            p("a.md")
        ),
        format!("{}:4: bad TOML: invalid array; expected `]`", p("b.md")),
        format!("{}:1: missing required key `title`", p("c.md")),
        format!(
            "{}:3: the answer (after the closing `+++`) is empty",
            p("d.md")
        ),
        format!(
            "{}:3: `related` names `nope`, which is not an article",
            p("e.md")
        ),
        format!(
            "{}:3: unsupported language \"fr\": expected \"en\" or \"es\"",
            p("h.md")
        ),
        format!(
            "{}:1: duplicate id `a` (already used by {})",
            p("i.md"),
            p("a.md")
        ),
        format!("{}:3: review date 2001-02-03 has passed", p("j.md")),
        format!(
            "{}:2: question \"where do i PARK\" duplicates \"Where do I park?\" in {}:2",
            p("sub/g.md"),
            p("f.md")
        ),
        format!(
            "{}:2: a synonym group needs at least two comma-separated words",
            p("synonyms.txt")
        ),
    ];
    let mut got: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    let mut want = expected.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn an_unreadable_directory_is_an_error_not_a_clean_bill() {
    let out = frontdesk(&["knowledge", "check", "/nonexistent/knowledge"], "");
    assert!(!out.status.success());
    assert!(stdout(&out).is_empty());
}

/// `frontdesk … | head`: when the reader stops early, the command ends
/// quietly with the status of a SIGPIPE death, not an "internal error".
#[test]
fn output_cut_short_by_the_reader_ends_quietly() {
    use std::io::{BufRead, BufReader, Write};

    let dir = tempfile::tempdir().unwrap();
    // Far more than a pipe holds: one problem line per file.
    for i in 0..3_000 {
        write(dir.path(), &format!("a{i}.md"), "no front matter\n");
    }
    let many_questions = "where do I park\n".repeat(20_000);
    let fixture = crate::fixture();
    let runs: [(&[&str], &str); 2] = [
        (&["knowledge", "check", dir.path().to_str().unwrap()], ""),
        (
            &["answer", "--knowledge", fixture.to_str().unwrap()],
            &many_questions,
        ),
    ];
    for (args, input) in runs {
        let mut child = crate::spawn_frontdesk(args);
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_owned();
        let feeder = std::thread::spawn(move || {
            // The command may stop reading first; that is fine.
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?} printed something");
        // The reader is gone now.
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("internal error"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_broken_safety_examples_file_is_reported_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_dir(&crate::fixture(), dir.path());
    std::fs::write(
        dir.path().join("safety-examples.tsv"),
        "tier\tcategory\tlang\tsplit\tmessage\n911\tstroke\ten\ttune\tmy face is drooping\n999\tx\ten\ttune\thi\n",
    )
    .unwrap();
    let out = crate::frontdesk(&["knowledge", "check", dir.path().to_str().unwrap()], "");
    assert!(!out.status.success());
    let printed = crate::stdout(&out);
    assert!(
        printed.contains("safety-examples.tsv:3: unknown tier"),
        "{printed}"
    );
}

#[test]
fn too_few_safety_examples_of_a_tier_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_dir(&crate::fixture(), dir.path());
    let mut file = String::from("tier\tcategory\tlang\tsplit\tmessage\n");
    for i in 0..25 {
        file.push_str(&format!("911\tstroke\ten\ttune\tmy face is drooping {i}\n"));
        file.push_str(&format!("none\tadmin\ten\ttune\twhere do I park {i}\n"));
    }
    file.push_str("988\tsuicide\ten\ttune\ti want to end it all\n");
    std::fs::write(dir.path().join("safety-examples.tsv"), file).unwrap();
    let out = crate::frontdesk(&["knowledge", "check", dir.path().to_str().unwrap()], "");
    assert!(!out.status.success());
    let printed = crate::stdout(&out);
    assert!(
        printed.contains("safety-examples.tsv:1: only 1 examples of tier 988"),
        "{printed}"
    );
}
