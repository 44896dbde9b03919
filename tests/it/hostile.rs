//! Issue 15's hostile and unlucky runs, one test per case: outputs that would replace inputs,
//! devices or each other, planted symlinks, parallel runs after a record change, damaged
//! indexes, interrupted runs. Each failed before the one writer (`outputs`) and the locked,
//! renamed index.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{ANSWERED, TODAY, copy_example, index_dir, onrecord, repo};

/// A scratch directory holding a copy of the bundled csv questionnaire as `q.csv`.
fn questionnaire() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.csv");
    std::fs::copy(
        repo().join("fixtures/questionnaires/vendor-assessment.csv"),
        &q,
    )
    .unwrap();
    (dir, q)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

use crate::xlsx_common::dir_listing as listing;

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let (dir, q) = questionnaire();
    assert_eq!(onrecord(&repo(), &["fill", s(&q)]).code, 0);
    let out = dir.path().join("q.answered.csv");
    std::fs::write(&out, "a person's edits").unwrap();
    let run = onrecord(&repo(), &["fill", s(&q)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("q.answered.csv` already exists"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "a person's edits");
    let run = onrecord(&repo(), &["fill", s(&q), "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read_to_string(&out).unwrap().contains("[IAM-"));
}

#[test]
fn no_output_may_be_an_input_or_another_output() {
    let (dir, q) = questionnaire();
    let original = std::fs::read(&q).unwrap();
    let out = dir.path().join("out.csv");
    let spelled = format!("{}/./q.csv", dir.path().display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["fill", s(&q), "--report", s(&q), "--force"],
            "would overwrite the input",
        ),
        (
            vec!["fill", s(&q), "--report", &spelled, "--force"],
            "would overwrite the input",
        ),
        (
            vec!["fill", s(&q), "-o", s(&out), "--report", s(&out)],
            "would be the same file",
        ),
        (
            vec!["coverage", s(&q), "--write-baseline", s(&q), "--force"],
            "would overwrite the input",
        ),
    ];
    for (args, message) in cases {
        let run = onrecord(&repo(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(
            std::fs::read(&q).unwrap(),
            original,
            "{args:?} changed the input"
        );
    }
    assert_eq!(listing(dir.path()), vec!["q.csv"]);
    // A hard link is the same file under another name.
    let link = dir.path().join("link.csv");
    std::fs::hard_link(&q, &link).unwrap();
    let run = onrecord(&repo(), &["fill", s(&q), "-o", s(&link), "--force"]);
    assert!(
        run.stderr.contains("would overwrite the input"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&q).unwrap(), original);
}

#[test]
fn a_device_or_fifo_is_never_replaced_by_an_output() {
    let (dir, q) = questionnaire();
    let null = dir.path().join("null.csv");
    std::os::unix::fs::symlink("/dev/null", &null).unwrap();
    let fifo = dir.path().join("fifo.json");
    crate::mkfifo(&fifo);
    for args in [
        vec!["fill", s(&q), "-o", s(&null), "--force"],
        vec!["fill", s(&q), "--report", s(&fifo), "--force"],
    ] {
        let run = onrecord(&repo(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a regular file"),
            "{}",
            run.stderr
        );
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn a_planted_temporary_symlink_is_never_followed() {
    let (dir, q) = questionnaire();
    let original = std::fs::read(&q).unwrap();
    // The fixed temporary name of earlier versions, pointing at the input.
    let planted = dir.path().join(".r.json.onrecord-tmp");
    std::os::unix::fs::symlink(&q, &planted).unwrap();
    let report = dir.path().join("r.json");
    let run = onrecord(&repo(), &["fill", s(&q), "--report", s(&report)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(&q).unwrap(), original);
    assert!(
        std::fs::read_to_string(&report)
            .unwrap()
            .contains("\"rows\"")
    );
    // Swept: it was a stale temporary name.
    assert!(std::fs::symlink_metadata(&planted).is_err());
}

#[test]
fn parallel_runs_with_the_same_report_all_succeed() {
    let (dir, q) = questionnaire();
    let report = dir.path().join("r.json");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let out = dir.path().join(format!("o{i}.csv"));
            spawn(
                &repo(),
                &[
                    "fill",
                    s(&q),
                    "-o",
                    s(&out),
                    "--report",
                    s(&report),
                    "--force",
                ],
            )
        })
        .collect();
    wait_all_succeed(children);
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.ends_with("}\n"), "a whole report");
    assert!(!listing(dir.path()).iter().any(|n| n.contains(".onrecord-")));
}

fn wait_all_succeed(children: Vec<std::process::Child>) {
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
    }
}

fn spawn(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_onrecord"))
        .args(args)
        .current_dir(dir)
        .env("ONRECORD_TODAY", TODAY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Ten parallel fills right after each of three record changes: every one sees a whole index
/// (the old or the new), so all ten outputs are the same bytes as a fill run alone.
#[test]
fn parallel_fills_right_after_a_record_change_are_identical_and_answered() {
    let record = copy_example();
    let (dir, q) = questionnaire();
    let knowledge = record.path().join("knowledge");
    let file = std::fs::read_dir(&knowledge)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "toml"))
        .unwrap();
    for round in 0..3 {
        // A change that alters the fingerprint but no answer.
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str(&format!("\n# round {round}\n"));
        std::fs::write(&file, text).unwrap();
        let children: Vec<_> = (0..10)
            .map(|i| {
                let out = dir.path().join(format!("r{round}-{i}.csv"));
                spawn(record.path(), &["fill", s(&q), "-o", s(&out), "--quiet"])
            })
            .collect();
        wait_all_succeed(children);
        let alone = dir.path().join(format!("alone-{round}.csv"));
        assert_eq!(
            onrecord(record.path(), &["fill", s(&q), "-o", s(&alone)]).code,
            0
        );
        let expected = std::fs::read(&alone).unwrap();
        assert!(
            String::from_utf8_lossy(&expected).matches("[IAM-").count() > 0,
            "the lone run answered"
        );
        for i in 0..10 {
            let got = std::fs::read(dir.path().join(format!("r{round}-{i}.csv"))).unwrap();
            assert!(
                got == expected,
                "round {round} run {i} differs from a lone run"
            );
        }
    }
    // No temporary index directories left.
    assert!(
        !listing(&record.path().join(".onrecord"))
            .iter()
            .any(|n| n.contains(".onrecord-")),
        "{:?}",
        listing(&record.path().join(".onrecord"))
    );
}

#[test]
fn a_deleted_index_file_means_a_rebuild_not_an_error_for_ever() {
    let record = copy_example();
    assert_eq!(onrecord(record.path(), &["index"]).code, 0);
    let index = index_dir(record.path());
    let pos = std::fs::read_dir(&index)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pos"))
        .expect("a .pos file");
    std::fs::remove_file(&pos).unwrap();
    let run = onrecord(record.path(), &["index"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("index built"), "{}", run.stdout);
    let run = onrecord(record.path(), &["ask", ANSWERED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("answered: yes"), "{}", run.stdout);
    let run = onrecord(record.path(), &["index"]);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
}

#[test]
fn a_planted_fingerprint_symlink_is_never_written_through() {
    let record = copy_example();
    let victim = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(victim.path(), "precious").unwrap();
    std::fs::create_dir_all(record.path().join(".onrecord")).unwrap();
    std::os::unix::fs::symlink(victim.path(), record.path().join(".onrecord/fingerprint")).unwrap();
    std::os::unix::fs::symlink(victim.path(), record.path().join(".onrecord/lock-planted"))
        .unwrap();
    let run = onrecord(record.path(), &["ask", ANSWERED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(victim.path()).unwrap(), "precious");
    // A lock symlink makes the index live in memory instead of writing through it.
    std::fs::remove_dir_all(record.path().join(".onrecord")).unwrap();
    std::fs::create_dir_all(record.path().join(".onrecord")).unwrap();
    std::os::unix::fs::symlink(victim.path(), record.path().join(".onrecord/lock")).unwrap();
    let run = onrecord(record.path(), &["index"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("in memory"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(victim.path()).unwrap(), "precious");
}

#[test]
fn temporary_files_of_a_dead_run_are_swept() {
    let (dir, q) = questionnaire();
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let stale = dir
        .path()
        .join(format!(".q.answered.csv.onrecord-{pid}-0-1.tmp"));
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    let run = onrecord(&repo(), &["fill", s(&q)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        listing(dir.path()),
        vec!["q.answered.csv", "q.csv", "q.review.xlsx"]
    );
}

#[test]
fn sigterm_ends_a_run_without_leaving_temporary_files() {
    let (dir, q) = questionnaire();
    for delay_ms in [0u64, 20, 60, 150] {
        let child = spawn(
            &repo(),
            &["fill", s(&q), "-o", s(&dir.path().join("o.csv")), "--force"],
        );
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let out = child.wait_with_output().unwrap();
        let code = out.status.code();
        // Before main installs the handler, the signal's default ends the process (`None`);
        // after, the handler exits 130; or the run was already done.
        assert!(
            code == Some(0) || code == Some(130) || (code.is_none() && delay_ms < 60),
            "exit {code:?} after {delay_ms} ms: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !listing(dir.path()).iter().any(|n| n.contains(".onrecord-")),
            "{:?}",
            listing(dir.path())
        );
    }
}

#[test]
fn an_unwritable_report_leaves_no_filled_output() {
    let (dir, q) = questionnaire();
    for report in [
        dir.path().join("missing-dir/r.json"),
        dir.path().to_path_buf(),
    ] {
        let run = onrecord(&repo(), &["fill", s(&q), "--report", s(&report)]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("report"), "{}", run.stderr);
        assert_eq!(listing(dir.path()), vec!["q.csv"]);
    }
}

/// A csv with an id column, a question column, an answer column and a comment column; the
/// second question already has a person's explanation and no answer.
fn id_sheet() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("ids.csv");
    std::fs::write(
        &q,
        "ID,Question,Answer,Comments\n\
         IAM-1,Is multi-factor authentication enforced for all staff?,,\n\
         IAM-2,Is single sign-on used for internal tools?,,We will answer this one ourselves\n\
         ENC-1,Is customer data encrypted at rest?,,\n",
    )
    .unwrap();
    (dir, q)
}

#[test]
fn answer_and_comment_columns_may_not_name_the_question_or_id_column() {
    let (_dir, q) = id_sheet();
    for (flag, col, role) in [
        ("--comment-col", "A", "the id column"),
        ("--answer-col", "A", "the id column"),
        ("--comment-col", "B", "the question column"),
    ] {
        let run = onrecord(&repo(), &["fill", s(&q), flag, col]);
        assert_eq!(run.code, 2, "{flag} {col}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("{flag} {col} is {role}")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn an_explanation_a_person_wrote_is_kept() {
    let (dir, q) = id_sheet();
    let run = onrecord(&repo(), &["fill", s(&q)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("1 already answered, kept"),
        "{}",
        run.stderr
    );
    let out = std::fs::read_to_string(dir.path().join("ids.answered.csv")).unwrap();
    let line = out.lines().nth(2).unwrap();
    assert_eq!(
        line,
        "IAM-2,Is single sign-on used for internal tools?,,We will answer this one ourselves"
    );
}

/// A disk that fills up while the output is written: a tmpfs of one page, mounted for the test
/// (root only), holding just the questionnaire.
#[test]
fn a_full_disk_leaves_no_output_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4k", "tmpfs", s(dir.path())])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !mounted {
        crate::missing::<()>("mounting a tmpfs needs root");
        return;
    }
    let q = dir.path().join("q.csv");
    let copied = std::fs::copy(
        repo().join("fixtures/questionnaires/vendor-assessment.csv"),
        &q,
    );
    let run = onrecord(
        &repo(),
        &["fill", s(&q), "--report", s(&dir.path().join("r.json"))],
    );
    let names = listing(dir.path());
    let _ = Command::new("umount").arg(dir.path()).status();
    copied.unwrap();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("No space left on device"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "one message: {}", run.stderr);
    assert_eq!(names, vec!["q.csv"]);
}

#[test]
fn a_fifo_baseline_is_refused_not_waited_on() {
    let (dir, q) = questionnaire();
    let fifo = dir.path().join("b.json");
    crate::mkfifo(&fifo);
    let child = spawn(&repo(), &["coverage", s(&q), "--baseline", s(&fifo)]);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a regular file"), "{stderr}");
}

#[test]
fn no_output_may_replace_a_record_file() {
    let record = copy_example();
    let (_dir, q) = questionnaire();
    let matrix = record.path().join("mappings/controls.csv");
    let original = std::fs::read(&matrix).unwrap();
    for args in [
        vec!["fill", s(&q), "--report", s(&matrix), "--force"],
        vec!["fill", s(&q), "-o", s(&matrix), "--force"],
        vec!["coverage", s(&q), "--write-baseline", s(&matrix), "--force"],
    ] {
        let run = onrecord(record.path(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("would overwrite the input"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(std::fs::read(&matrix).unwrap(), original);
}
