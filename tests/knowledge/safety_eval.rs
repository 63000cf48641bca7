//! `frontdesk safety eval --set FILE`: a clinic's own labelled set, reported
//! on its holdout half per tier and language.

use crate::{frontdesk, stdout};

fn eval_set(contents: &str, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("set.tsv");
    std::fs::write(&path, contents).unwrap();
    let mut args = vec!["safety", "eval", "--set", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    frontdesk(&args, "")
}

#[test]
fn a_labelled_set_is_reported_on_its_holdout_half() {
    let set = "tier\tcategory\tlang\tsplit\tmessage\n\
        988\tsuicide\ten\tholdout\tI want to kill myself tonight\n\
        911\tstroke\ten\tholdout\tmy dad's words came out wrong all of a sudden\n\
        none\tadmin\ten\tholdout\thow do I pay my bill\n\
        none\tadmin\ten\ttune\twhat are your hours\n";
    let out = eval_set(set, &["--no-semantic", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let rules = &report["rules"];
    // One of the two held-out emergencies is caught by the rules, and the
    // tuning line is not counted.
    assert_eq!(rules["recall_911_988"], 0.5, "{report}");
    assert_eq!(rules["ordinary"], 1, "{report}");
    assert_eq!(rules["false_alarms"], 0.0, "{report}");
    assert_eq!(report["messages"]["holdout"], 3);
    assert!(
        report.get("rules_and_learned").is_none(),
        "no model asked for"
    );
}

#[test]
fn a_malformed_set_is_refused_with_its_line() {
    let out = eval_set(
        "tier\tcategory\tlang\tsplit\tmessage\n999\tx\ten\ttune\thi\n",
        &["--no-semantic"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("set.tsv:2: unknown tier"), "{stderr}");
}
