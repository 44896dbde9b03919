//! The example record shipped at the repository root.

use crate::{onrecord, repo};

#[test]
fn example_record_checks_clean() {
    let run = onrecord(&repo(), &["check"]);
    assert_eq!(run.stdout, "0 errors, 0 warnings\n", "{}", run.stdout);
    assert_eq!(run.code, 0);
}

#[test]
fn example_record_covers_every_common_criterion() {
    let run = onrecord(
        &repo(),
        &["gaps", "--framework", "soc2", "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let soc2 = &json["frameworks"][0];
    assert_eq!(soc2["entries"], 61);
    let uncovered: Vec<&str> = soc2["uncovered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert!(
        uncovered.iter().all(|id| !id.starts_with("CC")),
        "{uncovered:?}"
    );
    assert!(run.stdout.contains("SOC 2") || json["frameworks"][0]["framework"] == "soc2");
}

#[test]
fn example_record_is_realistic_in_size_and_honesty() {
    let loaded = onrecord::record::load(&repo(), &Default::default()).expect("load");
    let controls = &loaded.record.controls;
    assert!((80..=150).contains(&controls.len()), "{}", controls.len());
    let no = controls
        .iter()
        .filter(|c| c.answer == onrecord::record::Answer::No)
        .count();
    assert!(no >= 5, "honest negatives: {no}");
    let cuec = loaded.record.catalog("cuec").unwrap().entries.len();
    assert!((10..=15).contains(&cuec), "{cuec}");
}

#[test]
fn evaluation_record_checks_clean() {
    let run = onrecord(&repo().join("fixtures/eval/record"), &["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// The richer variant (`fixtures/eval/record-phrased`) is the same record with more phrasings:
/// it checks without a warning (a repeated phrasing would be one).
#[test]
fn phrased_evaluation_record_checks_clean() {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_eval_record(dir.path(), Some("record-phrased"));
    let run = onrecord(dir.path(), &["check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("0 errors, 0 warnings"),
        "{}",
        run.stdout
    );
}
