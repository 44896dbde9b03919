//! `onrecord gaps`: coverage per framework and the `--min` gate.

use crate::{onrecord, record_with, repo};

#[test]
fn text_output_names_coverage_and_uncovered_entries() {
    let run = onrecord(&repo(), &["gaps"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("SOC 2 CC: 33/33"), "{}", run.stdout);
    assert!(run.stdout.contains("ISO 27001: "));
    assert!(run.stdout.contains("CUEC: "));
}

#[test]
fn min_gate_fails_below_and_passes_above() {
    let pass = onrecord(&repo(), &["gaps", "--framework", "soc2", "--min", "90"]);
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    let fail = onrecord(&repo(), &["gaps", "--framework", "soc2", "--min", "100"]);
    assert_eq!(fail.code, 1);
    assert!(fail.stderr.contains("below --min 100"), "{}", fail.stderr);
}

#[test]
fn only_no_and_only_na_are_listed_apart() {
    let dir = record_with(
        "[[control]]\nid = \"A\"\ntitle = \"t\"\nanswer = \"no\"\nstatement = \"We do not.\"\nreviewed = 2026-06-01\n\n\
         [[control]]\nid = \"B\"\ntitle = \"t\"\nanswer = \"n/a\"\nstatement = \"Not ours.\"\nreviewed = 2026-06-01\n",
        "control,soc2\nA,CC6.1\nB,CC6.4\n",
    );
    let run = onrecord(
        dir.path(),
        &["gaps", "--framework", "soc2", "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let f = &json["frameworks"][0];
    assert_eq!(f["covered"], 0);
    assert_eq!(f["only_no"][0]["id"], "CC6.1");
    assert_eq!(f["only_no"][0]["controls"][0], "A");
    assert_eq!(f["only_na"][0]["id"], "CC6.4");
}

#[test]
fn unknown_framework_is_a_usage_error() {
    let run = onrecord(&repo(), &["gaps", "--framework", "pci"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown framework `pci`"));
}

#[test]
fn github_format_prints_valid_annotations_and_the_min_failure() {
    let run = onrecord(&repo(), &["gaps", "--format", "github", "--min", "100"]);
    assert_eq!(run.code, 1);
    crate::assert_annotations(&run.stdout);
    assert!(
        run.stdout.contains("::warning title=SOC 2 gap::"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("::error title=framework coverage below --min::SOC 2 coverage ")
    );
    // `%` in the message is escaped.
    assert!(run.stdout.contains("%25 is below --min 100"));
}
