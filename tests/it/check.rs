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
    let run = onrecord(dir.path(), &["--record", ".", "check"]);
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

/// Runs `onrecord ARGS` in `dir` like [`onrecord`], but fails the test instead of waiting when
/// it has not finished in 30 seconds (a record file that blocks must not hang `check`).
fn onrecord_or_hang(dir: &std::path::Path, args: &[&str]) -> crate::Run {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_onrecord"))
        .args(args)
        .current_dir(dir)
        .env("ONRECORD_TODAY", crate::TODAY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run onrecord");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            child.wait().ok();
            panic!("onrecord {args:?} hung in {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    crate::Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// The clean fixture, copied, with a knowledge file that fails to parse beside what the
/// test adds: its error must still be reported.
fn clean_record_with_a_syntax_error() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_dir(
        &repo().join("fixtures/check/clean/knowledge"),
        &dir.path().join("knowledge"),
    );
    crate::copy_dir(
        &repo().join("fixtures/check/clean/mappings"),
        &dir.path().join("mappings"),
    );
    std::fs::write(
        dir.path().join("knowledge/broken.toml"),
        "[[control]]\nid = \"BAD-01\n",
    )
    .unwrap();
    dir
}

/// Issue 15, case 17: a FIFO named `*.toml` blocked `check` on open, for ever.
#[cfg(unix)]
#[test]
fn a_fifo_in_the_record_is_reported_not_waited_on() {
    let dir = clean_record_with_a_syntax_error();
    for fifo in ["knowledge/x.toml", "mappings/cuec.csv"] {
        let path = dir.path().join(fifo);
        std::fs::remove_file(&path).ok();
        crate::mkfifo(&path);
    }
    let run = onrecord_or_hang(dir.path(), &["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for fifo in ["knowledge/x.toml", "mappings/cuec.csv"] {
        assert!(
            run.stdout.contains(&format!(
                "{fifo}: error: is not a regular file (a FIFO)\n  hint: remove it or replace it with a regular file\n"
            )),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("knowledge/broken.toml:2: error: TOML syntax error"),
        "{}",
        run.stdout
    );
}

/// Issue 15, case 17: a link to /dev/zero was read until memory ran out.
#[cfg(unix)]
#[test]
fn a_link_to_a_device_is_reported_not_read() {
    let dir = clean_record_with_a_syntax_error();
    for link in ["knowledge/zero.toml", "thesaurus.txt"] {
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(link)).unwrap();
    }
    let run = onrecord_or_hang(dir.path(), &["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for link in ["knowledge/zero.toml", "thesaurus.txt"] {
        assert!(
            run.stdout.contains(&format!(
                "{link}: error: is not a regular file (a character device)\n"
            )),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("knowledge/broken.toml:2: error"),
        "{}",
        run.stdout
    );
    // The answering commands refuse the record instead of reading the device.
    let ask = onrecord_or_hang(dir.path(), &["ask", "Is data encrypted at rest?"]);
    assert_eq!(ask.code, 2, "{}", ask.stdout);
    assert!(
        ask.stderr.contains("run `onrecord check`"),
        "{}",
        ask.stderr
    );
}

/// Issue 15, case 17: a file over `record_file_bytes`, and files together over `record_bytes`,
/// are reported with the limit and how to raise it; the other files are still checked.
#[test]
fn files_over_the_size_limits_are_reported_with_the_limit() {
    let dir = clean_record_with_a_syntax_error();
    let size = std::fs::metadata(dir.path().join("knowledge/security.toml"))
        .unwrap()
        .len();
    let run = onrecord_or_hang(dir.path(), &["check", "--limit", "record_file_bytes=400"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "knowledge/security.toml: error: is {size} bytes, over the limit record_file_bytes (400)\n  \
             hint: split the file, or raise the limit with --limit record_file_bytes=N\n"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("knowledge/broken.toml:2: error"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("cuec.csv: error"), "{}", run.stdout);

    let run = onrecord_or_hang(dir.path(), &["check", "--limit", "record_bytes=1K"]);
    assert!(
        run.stdout.contains(
            "over the limit record_bytes (1024); the file was not read\n  \
             hint: make the record smaller, or raise the limit with --limit record_bytes=N\n"
        ),
        "{}",
        run.stdout
    );
    let raised = onrecord_or_hang(dir.path(), &["check", "--limit", "record_bytes=1M"]);
    assert!(
        !raised.stdout.contains("over the limit"),
        "{}",
        raised.stdout
    );
}

/// Every row of a 10,000-row matrix naming a control that is not there (ids renamed in
/// knowledge/ only) each got a did-you-mean hint by comparing it with all 10,000 controls.
#[test]
fn ten_thousand_unknown_controls_get_their_hints_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    generated_record(dir.path(), 10_000);
    let matrix = dir.path().join("mappings/controls.csv");
    let renamed = std::fs::read_to_string(&matrix)
        .unwrap()
        .replace("\nGEN-", "\nGEM-");
    std::fs::write(&matrix, renamed).unwrap();
    let started = std::time::Instant::now();
    let run = onrecord(dir.path(), &["check"]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "mappings/controls.csv:2: error: control `GEM-00000` is not in knowledge/\n  \
             hint: did you mean `GEN-00000`?\n"
        ),
        "{}",
        &run.stdout[..run.stdout.len().min(2000)]
    );
    assert_eq!(run.stdout.matches("did you mean").count(), 10_000);
    assert!(
        took < std::time::Duration::from_secs(20),
        "check of 10,000 unknown controls took {took:?}"
    );
}

/// A link to a folder above it was followed until the path was too long, reading every file
/// forty times over; a link to nothing stopped `check` with exit 2.
#[cfg(unix)]
#[test]
fn links_back_up_and_links_to_nothing_are_reported_once() {
    let dir = clean_record_with_a_syntax_error();
    let knowledge = dir.path().join("knowledge");
    std::os::unix::fs::symlink(".", knowledge.join("loop")).unwrap();
    std::os::unix::fs::symlink("missing.toml", knowledge.join("gone.toml")).unwrap();
    let run = onrecord_or_hang(dir.path(), &["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "knowledge/loop: warning: links to a folder that is already read; its files are read once\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("knowledge/gone.toml: error: is a link to a file that does not exist\n"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("duplicate control id"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("knowledge/broken.toml:2: error"),
        "{}",
        run.stdout
    );
}
