//! Errors that help: each mistake a user can make on the command line gets a message that
//! names the file and says what to do instead, exit 2, and nothing written. Also where the
//! record is found when `--record` is not given (`ONRECORD_RECORD`, then the nearest
//! directory with `knowledge/`, as git finds a repository), `fill --format json`, and the
//! `coverage --min-answered` gate.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Run, TODAY, copy_dir, copy_example, onrecord, repo};

const CSV: &str = "fixtures/questionnaires/vendor-assessment.csv";
/// An xlsx with a visible `Security` sheet and a hidden `Lists` sheet.
const XLSX: &str = "fuzz/seeds/xlsx_patch/two-sheets.xlsx";

/// A scratch directory (no record in it) holding a copy of the questionnaire `rel` as `name`.
fn scratch_with(rel: &str, name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join(rel), dir.path().join(name)).unwrap();
    dir
}

/// Asserts a usage error: exit 2, nothing on stdout, and `parts` in the message.
fn assert_usage_error(run: &Run, parts: &[&str]) {
    assert_eq!(run.code, 2, "{}", run.seen());
    assert!(run.stdout.is_empty(), "{}", run.seen());
    for part in parts {
        assert!(
            run.stderr.contains(part),
            "`{part}` missing in:\n{}",
            run.stderr
        );
    }
}

/// The file names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_sheet_the_file_lacks_is_named_with_the_sheets_it_has() {
    let dir = scratch_with(XLSX, "q.xlsx");
    let run = onrecord(
        dir.path(),
        &["fill", "q.xlsx", "--sheet", "Secrity", "--dry-run"],
    );
    assert_usage_error(
        &run,
        &[
            "`q.xlsx`",
            "--sheet `Secrity`: the file has no such sheet",
            "its sheets are `Security`, `Lists` (hidden)",
        ],
    );
}

#[test]
fn a_question_column_without_questions_names_the_nearest_that_has_some() {
    let dir = scratch_with(CSV, "q.csv");
    for (col, reason) in [
        ("A", "ids"),
        ("E", "empty comments"),
        ("H", "past the table"),
    ] {
        let run = onrecord(
            dir.path(),
            &["fill", "q.csv", "--question-col", col, "--dry-run"],
        );
        assert_usage_error(
            &run,
            &[
                "`q.csv`",
                &format!("--question-col {col}: column {col} of sheet `q` holds no questions"),
                "the nearest column that does is C (15 cells read as questions)",
                "pass --question-col C",
            ],
        );
        assert!(!run.stderr.contains("found no questions"), "{reason}");
    }
    // The column it names does work.
    let fixed = onrecord(
        dir.path(),
        &["fill", "q.csv", "--question-col", "C", "--dry-run"],
    );
    assert_eq!(fixed.code, 0, "{}", fixed.seen());
}

#[test]
fn a_header_row_past_the_sheet_says_how_many_rows_it_has() {
    let dir = scratch_with(CSV, "q.csv");
    let run = onrecord(
        dir.path(),
        &["fill", "q.csv", "--header-row", "500", "--dry-run"],
    );
    assert_usage_error(
        &run,
        &[
            "`q.csv`",
            "--header-row 500 is past the last row",
            "sheet `q` has 16 rows",
        ],
    );
}

#[test]
fn an_output_extension_onrecord_cannot_write_is_refused_with_the_one_to_use() {
    let dir = scratch_with(XLSX, "q.xlsx");
    std::fs::copy(repo().join(CSV), dir.path().join("q.csv")).unwrap();
    let before = listing(dir.path());
    for (input, output, want) in [
        ("q.xlsx", "out.xls", "name the output .xlsx"),
        ("q.xlsx", "out.pdf", "name the output .xlsx"),
        ("q.xlsx", "out.csv", "name the output .xlsx"),
        ("q.csv", "out.pdf", "name the output .csv"),
        ("q.csv", "out.xlsx", "name the output .csv"),
    ] {
        let run = onrecord(dir.path(), &["fill", input, "-o", output]);
        assert_usage_error(&run, &[&format!("`{output}`"), want]);
        assert_eq!(
            listing(dir.path()),
            before,
            "{input} -o {output} wrote something"
        );
    }
}

#[test]
fn a_directory_is_not_a_questionnaire() {
    let dir = scratch_with(CSV, "q.csv");
    std::fs::create_dir(dir.path().join("inbox")).unwrap();
    let empty = onrecord(dir.path(), &["fill", "inbox"]);
    assert_usage_error(
        &empty,
        &["`inbox` is a directory", "name a questionnaire file (xlsx"],
    );
    // One that holds questionnaires names them.
    let full = onrecord(dir.path(), &["fill", "."]);
    assert_usage_error(&full, &["`.` is a directory", "such as `./q.csv`"]);
    let coverage = onrecord(dir.path(), &["coverage", "inbox"]);
    assert_usage_error(&coverage, &["`inbox` is a directory"]);
}

#[test]
fn fill_format_json_prints_the_report_and_nothing_else() {
    let record = copy_example();
    std::fs::copy(repo().join(CSV), record.path().join("q.csv")).unwrap();
    let run = onrecord(
        record.path(),
        &["fill", "q.csv", "--format", "json", "--report", "r.json"],
    );
    assert_eq!(run.code, 0, "{}", run.seen());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(json["questionnaire"], "q.csv");
    assert!(json["summary"]["questions"].as_u64().unwrap() > 0);
    assert!(json["summary"]["answered_share"].is_number());
    assert!(!json["rows"].as_array().unwrap().is_empty());
    // The same report `--report` writes.
    let written = std::fs::read_to_string(record.path().join("r.json")).unwrap();
    assert_eq!(run.stdout, written);
    // The summary still goes to stderr.
    assert!(
        run.stderr.contains("wrote q.answered.csv"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unwritable_report_path_is_found_before_anything_is_written() {
    let record = copy_example();
    std::fs::copy(repo().join(CSV), record.path().join("q.csv")).unwrap();
    let before = listing(record.path());
    let missing = onrecord(
        record.path(),
        &["fill", "q.csv", "--report", "no-dir/r.json"],
    );
    assert_usage_error(
        &missing,
        &[
            "`no-dir/r.json`",
            "the directory `no-dir` does not exist",
            "create it",
        ],
    );
    assert_eq!(listing(record.path()), before);
    // A directory that takes no new file, even for root: /proc.
    #[cfg(target_os = "linux")]
    {
        let proc = onrecord(
            record.path(),
            &["fill", "q.csv", "--report", "/proc/r.json"],
        );
        assert_usage_error(
            &proc,
            &[
                "`/proc/r.json`",
                "cannot write the report there",
                "choose another path",
            ],
        );
        assert_eq!(listing(record.path()), before);
    }
}

/// Runs `onrecord ARGS` in `cwd` with `ONRECORD_RECORD` set to `env` (or unset).
fn onrecord_env(cwd: &Path, env: Option<&Path>, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_onrecord"));
    command
        .args(args)
        .current_dir(cwd)
        .env("ONRECORD_TODAY", TODAY);
    match env {
        Some(path) => command.env("ONRECORD_RECORD", path),
        None => command.env_remove("ONRECORD_RECORD"),
    };
    let output = command.output().expect("run onrecord");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// A copy of a `fixtures/check` record whose `check` reports errors.
fn broken_record() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record");
    copy_dir(&repo().join("fixtures/check/duplicate-id"), &record);
    (dir, record)
}

#[test]
fn check_inside_knowledge_finds_the_record_above_and_prints_paths_that_open() {
    let (_dir, record) = broken_record();
    let inside = record.join("knowledge");
    let run = onrecord_env(&inside, None, &["check"]);
    assert_eq!(run.code, 1, "{}", run.seen());
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("../knowledge/data.toml:4: error:"),
        "{first}"
    );
    // Each `path:line` opens from where check ran.
    for line in run.stdout.lines().filter(|l| l.contains(": error:")) {
        let path = line.split(':').next().unwrap();
        assert!(inside.join(path).is_file(), "{path}");
    }
    // From the record's root, the same paths without `../`, as before.
    let root = onrecord_env(&record, None, &["check"]);
    assert!(root.stdout.starts_with("knowledge/data.toml:4: error:"));
}

#[test]
fn no_record_says_where_it_looked_and_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = onrecord_env(dir.path(), None, &["check"]);
    let looked = std::fs::canonicalize(dir.path()).unwrap();
    assert_usage_error(
        &run,
        &[
            "no record found",
            &format!("`{}` and every directory above it", looked.display()),
            "ONRECORD_RECORD is not set",
            "--record DIR",
            "`onrecord init DIR`",
        ],
    );
    // A named directory that is no record says so, naming it.
    let named = onrecord_env(dir.path(), Some(dir.path()), &["check"]);
    assert_usage_error(&named, &["ONRECORD_RECORD names", "which is not a record"]);
}

#[test]
fn record_flag_wins_over_the_environment_which_wins_over_discovery() {
    let (dir, broken) = broken_record();
    let good = copy_example();
    // The environment, from a directory with no record.
    let env = onrecord_env(dir.path(), Some(good.path()), &["check"]);
    assert_eq!(env.code, 0, "{}", env.seen());
    // The environment over the record the current directory is in.
    let over_found = onrecord_env(&broken, Some(good.path()), &["check"]);
    assert_eq!(over_found.code, 0, "{}", over_found.seen());
    // --record over the environment.
    let flag = onrecord_env(
        dir.path(),
        Some(good.path()),
        &["--record", broken.to_str().unwrap(), "check"],
    );
    assert_eq!(flag.code, 1, "{}", flag.seen());
}

#[test]
fn coverage_min_answered_gates_the_share_sent_unread() {
    let vendor = "fixtures/gates/vendor-security.csv";
    let run = onrecord(&repo(), &["coverage", vendor]);
    assert_eq!(run.code, 0, "{}", run.seen());
    // The text summary gives the answered share beside coverage.
    let share = run
        .stdout
        .lines()
        .next()
        .and_then(|l| l.split(" (").nth(1))
        .and_then(|l| l.strip_suffix("% answered)"))
        .map(|p| p.parse::<f64>().unwrap())
        .unwrap_or_else(|| panic!("no answered share in {}", run.stdout));
    let above = format!("{}", share + 1.0);
    let failed = onrecord(&repo(), &["coverage", vendor, "--min-answered", &above]);
    assert_eq!(failed.code, 1, "{}", failed.seen());
    assert!(
        failed.stderr.contains(&format!(
            "onrecord: {vendor}: answered share {share:.1}% (answered, sent unread, of all \
             questions) is below --min-answered {above}"
        )),
        "{}",
        failed.stderr
    );
    let below = format!("{}", share - 1.0);
    let passed = onrecord(&repo(), &["coverage", vendor, "--min-answered", &below]);
    assert_eq!(passed.code, 0, "{}", passed.seen());
    let github = onrecord(
        &repo(),
        &[
            "coverage",
            vendor,
            "--min-answered",
            &above,
            "--format",
            "github",
        ],
    );
    assert!(
        github
            .stdout
            .contains("title=answered share below --min-answered::"),
        "{}",
        github.stdout
    );
    let bad = onrecord(&repo(), &["coverage", vendor, "--min-answered", "120"]);
    assert_eq!(bad.code, 2);
}
