//! `onrecord coverage`: every output format, every exit code, the `--min`, baseline and
//! stale gates. Questionnaires are in `fixtures/gates/`, expected outputs in
//! `fixtures/gates/expected/` (`ONRECORD_BLESS=1` rewrites them).

use std::path::Path;

use crate::{Run, assert_annotations, assert_snapshot, copy_example, onrecord, repo};

const VENDOR: &str = "fixtures/gates/vendor-security.csv";
const ONBOARDING: &str = "fixtures/gates/onboarding.csv";

/// Runs `onrecord coverage ARGS` from the repository root, so paths in the output are the
/// relative ones given here.
fn coverage(args: &[&str]) -> Run {
    let mut all = vec!["coverage"];
    all.extend_from_slice(args);
    onrecord(&repo(), &all)
}

/// Compares what a user sees with `fixtures/gates/expected/NAME`.
pub fn snapshot(name: &str, run: &Run) {
    assert_snapshot(
        &repo().join("fixtures/gates/expected").join(name),
        &run.seen(),
    );
}

#[test]
fn text_reports_each_file_and_the_total() {
    let run = coverage(&[VENDOR, ONBOARDING]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("total (2 files): 14 questions"));
    snapshot("coverage.txt", &run);
}

#[test]
fn json_is_the_report_per_file_with_total_regressions_and_stale() {
    let run = coverage(&[VENDOR, ONBOARDING, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["files", "regressions", "stale", "total"]);
    assert_eq!(json["files"][0]["questionnaire"], VENDOR);
    // Rows already answered are answered too: coverage measures the record, not the file.
    assert_eq!(json["files"][0]["summary"]["questions"], 8);
    assert_eq!(json["total"]["questions"], 14);
    snapshot("coverage.json.txt", &run);
}

#[test]
fn github_format_prints_valid_annotations() {
    let run = coverage(&[VENDOR, "--format", "github", "--min", "100"]);
    assert_eq!(run.code, 1);
    assert_annotations(&run.stdout);
    assert!(
        run.stdout.contains(
            "::error file=fixtures/gates/vendor-security.csv,title=coverage below --min::"
        )
    );
    snapshot("coverage.github.txt", &run);
}

#[test]
fn min_passes_at_or_below_and_fails_above_naming_the_file() {
    assert_eq!(coverage(&[VENDOR, ONBOARDING, "--min", "10"]).code, 0);
    let fail = coverage(&[VENDOR, ONBOARDING, "--min", "99.5"]);
    assert_eq!(fail.code, 1);
    assert!(
        fail.stderr.contains(&format!("{VENDOR}: coverage ")),
        "{}",
        fail.stderr
    );
    assert!(fail.stderr.contains("is below --min 99.5"));
}

#[test]
fn unreadable_questionnaires_and_bad_percentages_are_usage_errors() {
    let missing = coverage(&["fixtures/gates/no-such-file.csv"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no-such-file.csv"),
        "{}",
        missing.stderr
    );
    assert_eq!(coverage(&[VENDOR, "--min", "120"]).code, 2);
    assert_eq!(coverage(&[]).code, 2);
}

/// Removes the `[[control]]` table with `id` from the record's knowledge files, and its
/// mapping row.
fn remove_control(record: &Path, id: &str) {
    let mut found = false;
    for entry in walk(&record.join("knowledge")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let mut tables: Vec<&str> = text.split("[[control]]").collect();
        let before = tables.len();
        tables.retain(|t| !t.contains(&format!("id = \"{id}\"")));
        if tables.len() < before {
            found = true;
            std::fs::write(&entry, tables.join("[[control]]")).unwrap();
        }
    }
    assert!(found, "no control {id}");
    let matrix = record.join("mappings/controls.csv");
    let text = std::fs::read_to_string(&matrix).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{id},")))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&matrix, kept).unwrap();
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn removing_a_control_is_a_regression_against_the_baseline() {
    let record = copy_example();
    let record_dir = record.path().to_str().unwrap();
    let baseline = record.path().join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let first = coverage(&[
        VENDOR,
        ONBOARDING,
        "--record",
        record_dir,
        "--write-baseline",
        baseline,
    ]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // The baseline is the coverage JSON itself.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(baseline).unwrap()).unwrap();
    assert_eq!(written["files"][0]["questionnaire"], VENDOR);
    let against_baseline = || {
        coverage(&[
            VENDOR,
            ONBOARDING,
            "--record",
            record_dir,
            "--baseline",
            baseline,
        ])
    };
    let unchanged = against_baseline();
    assert_eq!(unchanged.code, 0, "{}", unchanged.stdout);

    // The only control about a continuity plan: its question falls off the record.
    remove_control(record.path(), "BCM-01");
    let run = against_baseline();
    assert_eq!(run.code, 1, "{}", run.seen());
    assert!(
        run.stdout.contains(
            "regression: fixtures/gates/vendor-security.csv: sheet vendor-security row 4: \
             Do you maintain a documented business continuity plan?: was answered yes, now not on the record"
        ),
        "{}",
        run.stdout
    );
    snapshot("coverage-regression.txt", &run);
    let vendor_in = |format: &str| {
        coverage(&[
            VENDOR,
            "--record",
            record_dir,
            "--baseline",
            baseline,
            "--format",
            format,
        ])
    };
    let json = vendor_in("json");
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let regression = &json["regressions"][0];
    assert_eq!(regression["file"], VENDOR);
    assert_eq!(regression["row"], 4);
    assert_eq!(regression["now"]["status"], "not_on_record");
    assert_eq!(regression["was"]["status"], "answered");
    let github = vendor_in("github");
    assert_annotations(&github.stdout);
    assert!(github.stdout.contains(
        "::error file=fixtures/gates/vendor-security.csv,line=4,title=coverage regression::"
    ));
}

#[test]
fn a_missing_or_malformed_baseline_is_a_usage_error_naming_it() {
    for (baseline, says) in [
        (
            "fixtures/gates/none.json",
            "could not read baseline `fixtures/gates/none.json`".to_string(),
        ),
        (VENDOR, format!("`{VENDOR}` is not a coverage baseline")),
    ] {
        let run = coverage(&[VENDOR, "--baseline", baseline]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains(&says), "{}", run.stderr);
    }
}

#[test]
fn stale_citations_are_listed_and_fail_only_with_fail_stale() {
    // The example record was reviewed in early 2026; "today" is 2026-11-23.
    let listed = coverage(&[VENDOR, "--max-age", "200"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains("stale: "), "{}", listed.stdout);
    let failed = coverage(&[VENDOR, "--max-age", "200", "--fail-stale"]);
    assert_eq!(failed.code, 1);
    snapshot("coverage-stale.txt", &failed);
    let github = coverage(&[
        VENDOR,
        "--max-age",
        "200",
        "--fail-stale",
        "--format",
        "github",
    ]);
    assert_annotations(&github.stdout);
    assert!(github.stdout.contains(",title=stale record::"));
    // --fail-stale alone takes check's default of 365 days, within which the record is.
    assert_eq!(coverage(&[VENDOR, "--fail-stale"]).code, 0);
}

#[test]
fn stale_answers_go_to_review_so_coverage_counts_them_but_answered_drops() {
    let fresh = coverage(&[VENDOR, "--format", "json"]);
    let stale = coverage(&[VENDOR, "--max-age", "200", "--format", "json"]);
    let parse = |run: &Run| serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap();
    let (fresh, stale) = (parse(&fresh), parse(&stale));
    let answered = |json: &serde_json::Value| json["total"]["answered"].as_u64().unwrap();
    assert!(answered(&stale) < answered(&fresh));
    assert_eq!(fresh["total"]["coverage"], stale["total"]["coverage"]);
}
