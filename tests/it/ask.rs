//! `onrecord index` and `onrecord ask`: the index lifecycle, the command's output, and the
//! honesty invariant over the eval set. The honesty rules themselves are data, one case per
//! question: `fixtures/honesty/` (its README gives the format and the reason codes).

use onrecord::engine::{Engine, Outcome, Status};
use onrecord::record::Answer;

use crate::{ANSWERED, copy_example, copy_example_cold, index_dir, onrecord, record_with, repo};

#[test]
fn index_is_built_once_then_reused_and_rebuilt_when_the_record_changes() {
    let dir = copy_example_cold();
    assert_eq!(
        onrecord(dir.path(), &["index"]).stdout,
        "index built: 130 controls\n"
    );
    assert_eq!(
        onrecord(dir.path(), &["index"]).stdout,
        "index up to date: 130 controls\n"
    );
    let path = dir.path().join("knowledge/cryptography.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("AES-256", "AES-256-GCM")).unwrap();
    assert_eq!(
        onrecord(dir.path(), &["index"]).stdout,
        "index built: 130 controls\n"
    );
}

#[test]
fn a_corrupt_index_is_rebuilt_silently() {
    let dir = copy_example();
    onrecord(dir.path(), &["index"]);
    std::fs::write(index_dir(dir.path()).join("meta.json"), "{ not json").unwrap();
    let run = onrecord(dir.path(), &["ask", ANSWERED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("answered: yes"), "{}", run.stdout);
}

#[test]
fn damaged_or_missing_control_vectors_are_rebuilt_silently() {
    let dir = copy_example();
    onrecord(dir.path(), &["index"]);
    let vectors = index_dir(dir.path()).join("vectors.bin");
    let mut bytes = std::fs::read(&vectors).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&vectors, &bytes).unwrap();
    assert_eq!(
        onrecord(dir.path(), &["index"]).stdout,
        "index built: 130 controls\n",
        "a flipped byte is found by the checksum"
    );
    std::fs::remove_file(index_dir(dir.path()).join("vectors.bin")).unwrap();
    let run = onrecord(dir.path(), &["ask", ANSWERED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("answered: yes"), "{}", run.stdout);
    assert!(index_dir(dir.path()).join("vectors.bin").is_file());
}

#[test]
fn an_unwritable_index_location_falls_back_to_memory() {
    let dir = copy_example_cold();
    std::fs::write(
        dir.path().join(".onrecord"),
        "a file where the index directory would go",
    )
    .unwrap();
    let run = onrecord(dir.path(), &["index"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("in memory"), "{}", run.stdout);
    assert!(
        onrecord(dir.path(), &["ask", ANSWERED])
            .stdout
            .starts_with("answered: yes")
    );
}

#[test]
fn a_record_with_errors_is_refused_with_a_pointer_to_check() {
    let run = onrecord(
        &repo().join("fixtures/check/bad-answer"),
        &["ask", "Is data encrypted?"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("run `onrecord check`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // `onrecord ask ... | head -1`: the pipe is closed before the answer is written.
    let dir = copy_example();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_onrecord"))
        .args(["ask", "Is customer data encrypted at rest?", "--explain"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run onrecord");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn json_output_has_the_report_keys() {
    let run = onrecord(
        &repo(),
        &[
            "ask",
            "Is customer data encrypted at rest?",
            "--format",
            "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["status"], "answered");
    assert_eq!(json["answer"], "yes");
    assert_eq!(json["citations"][0]["control"], "ENC-01");
    assert!(
        json["citations"][0]["soc2"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(
        json["confidence"]
            .as_f64()
            .is_some_and(|c| (0.0..=1.0).contains(&c))
    );
}

#[test]
fn explain_shows_terms_and_runners_up() {
    let run = onrecord(&repo(), &["ask", "Do you use 2FA for admins?", "--explain"]);
    assert!(
        run.stdout.contains("(multi-factor authentication)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("candidates:"));
}

fn engine(dir: &std::path::Path) -> Engine {
    Engine::open(dir).expect("engine")
}

/// One question asked of the record at `dir`.
fn ask(dir: &std::path::Path, question: &str) -> Outcome {
    engine(dir).ask(question).expect("ask")
}

#[test]
fn never_yes_without_a_cited_yes_control() {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_eval_record(dir.path(), None);
    let engine = engine(dir.path());
    let mut reader = csv::Reader::from_path(repo().join("fixtures/eval/questions.csv")).unwrap();
    let mut yes = 0;
    for row in reader.records() {
        let question = row.unwrap()[4].to_string();
        let outcome = engine.ask(&question).unwrap();
        if outcome.status == Status::Answered && outcome.answer == Some(Answer::Yes) {
            yes += 1;
            let cited_yes = outcome
                .citations
                .iter()
                .any(|c| engine.record.control(&c.control).unwrap().answer == Answer::Yes);
            assert!(cited_yes, "{question}: yes without a yes control");
        }
        if outcome.status == Status::NotOnRecord {
            assert!(outcome.answer.is_none() && outcome.citations.is_empty());
        }
    }
    assert!(yes > 30, "the invariant was exercised {yes} times");
}

/// A one-control record written inline, for the thesaurus test.
fn tiny_record() -> tempfile::TempDir {
    record_with(
        r#"
[[control]]
id = "IAM-01"
title = "Named accounts for every person"
answer = "yes"
statement = "Every employee signs in with a personal named account; generic or shared logins are not permitted."
reviewed = 2026-06-01
"#,
        "control,soc2,iso27001,cuec\nIAM-01,CC6.1,A.5.16,\n",
    )
}

#[test]
fn common_words_do_not_hold_back_a_terse_question() {
    // "enabled" and "actually" are words the example record hardly uses; they used to weigh
    // like its rarest words and kept a plain match under the review threshold.
    let dir = copy_example();
    let outcome = ask(dir.path(), "Is PITR actually enabled?");
    assert_ne!(
        outcome.status,
        Status::NotOnRecord,
        "{:?}",
        outcome.citations
    );
}

#[test]
fn a_record_thesaurus_line_that_cannot_resolve_is_reported_with_its_line() {
    let dir = tiny_record();
    let thesaurus = dir.path().join("thesaurus.txt");
    std::fs::write(&thesaurus, "# ours\nsign-in hub > keycloak\n").unwrap();
    let error = Engine::open(dir.path())
        .err()
        .expect("an error")
        .to_string();
    assert!(error.contains("thesaurus.txt:2"), "{error}");
    assert!(error.contains("sign-in hub"), "{error}");
    // One word, or a term of a group, resolves; a statement naming the kind then speaks of it.
    std::fs::write(&thesaurus, "hub > keycloak\n").unwrap();
    let engine = Engine::open(dir.path()).expect("engine");
    assert!(engine.ask("Is there a hub?").is_ok());
}
