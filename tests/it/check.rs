//! `onrecord check` on broken records: one folder per case under `fixtures/check/`, its
//! expected stdout and exit code in `expected.txt`. A new case needs no Rust.

use crate::{assert_snapshot, onrecord, repo};

#[test]
fn every_check_case_reports_exactly_its_expected_diagnostics() {
    let root = repo().join("fixtures/check");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures/check")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "expected at least 15 check cases, found {}",
        cases.len()
    );
    for case in cases {
        let run = onrecord(&case, &["check"]);
        assert!(
            run.code == 0 || run.code == 1,
            "{}: exit {} {}",
            case.display(),
            run.code,
            run.stderr
        );
        assert_snapshot(
            &case.join("expected.txt"),
            &format!("{}exit: {}\n", run.stdout, run.code),
        );
    }
}

#[test]
fn json_format_counts_match_the_diagnostics() {
    let case = repo().join("fixtures/check/many-problems");
    let run = onrecord(&case, &["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    let errors = diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .count();
    assert_eq!(json["errors"], errors);
    assert!(errors >= 5);
    assert!(
        diagnostics
            .iter()
            .all(|d| d["line"].as_u64().is_some() && d["path"].is_string())
    );
    assert_eq!(run.code, 1);
}

#[test]
fn github_format_prints_workflow_commands() {
    let case = repo().join("fixtures/check/unknown-soc2");
    let run = onrecord(&case, &["check", "--format", "github"]);
    for line in run.stdout.lines() {
        assert!(
            line.starts_with("::error file=mappings/controls.csv,line="),
            "{line}"
        );
        let (_, message) = line
            .split_once("::")
            .and_then(|(_, rest)| rest.split_once("::"))
            .expect("syntax");
        assert!(!message.contains('\n'));
    }
    assert!(run.stdout.contains("CC6.10"));
}

#[test]
fn a_directory_without_knowledge_is_unreadable_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = onrecord(dir.path(), &["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("has no `knowledge/` directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn stale_reviews_follow_max_age() {
    let case = repo().join("fixtures/check/stale-review");
    let strict = onrecord(&case, &["check", "--max-age", "30"]);
    let lenient = onrecord(&case, &["check", "--max-age", "5000"]);
    assert!(
        strict.stdout.matches("last reviewed").count()
            > lenient.stdout.matches("last reviewed").count()
    );
}

/// A record of `n` controls, each with two questions, a review date, a row in the matrix and a
/// CUEC row; a tenth more CUEC rows that no control references (each one a warning).
fn generated_record(dir: &std::path::Path, n: usize) {
    use std::fmt::Write;
    let (mut knowledge, mut matrix, mut cuec) = (
        String::new(),
        String::from("control,soc2,iso27001,cuec\n"),
        String::from("id,area,responsibility\n"),
    );
    for i in 0..n {
        writeln!(
            knowledge,
            "[[control]]\nid = \"GEN-{i:05}\"\ntitle = \"Generated control {i}\"\nanswer = \"yes\"\n\
             statement = \"We do generated thing number {i} for every customer, every day.\"\n\
             area = \"Area {a}\"\nreviewed = 2026-06-01\n\
             questions = [\"Do you do generated thing {i}?\", \"Is thing {i} done daily?\"]\n\
             keywords = [\"gen{i}\"]\n",
            a = i % 7
        )
        .unwrap();
        writeln!(matrix, "GEN-{i:05},CC6.1;CC7.2,A.8.24,CUEC-{i:05}").unwrap();
    }
    for i in 0..n + n / 10 {
        writeln!(
            cuec,
            "CUEC-{i:05},Area {},\"Customer does thing {i}.\"",
            i % 7
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.join("knowledge")).unwrap();
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    std::fs::write(dir.join("knowledge/gen.toml"), knowledge).unwrap();
    std::fs::write(dir.join("mappings/controls.csv"), matrix).unwrap();
    std::fs::write(dir.join("mappings/cuec.csv"), cuec).unwrap();
}

/// Issue 15, case 16: placing each control's line counted the file from its start, and each
/// reference and unused CUEC row scanned a list, so 10,000 controls took minutes.
#[test]
fn ten_thousand_controls_check_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    generated_record(dir.path(), 10_000);
    let started = std::time::Instant::now();
    let run = onrecord(dir.path(), &["check"]);
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.ends_with("0 errors, 1000 warnings\n"),
        "{}",
        run.stdout.lines().last().unwrap_or("")
    );
    assert!(
        took < std::time::Duration::from_secs(20),
        "check of 10,000 controls took {took:?}"
    );
}
