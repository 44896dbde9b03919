//! `onrecord fill` end to end: questionnaires in the layouts customers send, filled and read
//! back; the input never changes; everything but the written cells survives.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use onrecord::limits::Limits;
use onrecord::workbook::xlsx::inspect;

use crate::layouts::{CAIQ_LIKE, MERGED_SECTIONS, SIG_LIKE, build, cell, check, merges};
use crate::{onrecord, repo, shared};

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// The layout check (`layouts.rs`), then what it does not look at: the report's numbering
/// and the summary line for the row already answered.
#[test]
fn a_caiq_like_workbook_is_filled_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let filled = check(dir.path(), "caiq", CAIQ_LIKE);
    assert_eq!(filled.report["summary"]["not_on_record"], 1);
    assert_eq!(filled.report["rows"][0]["row"], 8);
    assert_eq!(filled.report["rows"][0]["id"], "1.1");
    assert!(
        filled.stderr.contains("1 already answered, kept"),
        "{}",
        filled.stderr
    );
}

#[test]
fn a_sig_like_workbook_is_filled_on_every_question_tab() {
    let dir = tempfile::tempdir().unwrap();
    let filled = check(dir.path(), "sig", SIG_LIKE);
    let sheets: BTreeSet<&str> = filled.report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["sheet"].as_str().unwrap())
        .collect();
    assert_eq!(
        sheets,
        BTreeSet::from(["Access Control", "Business Resiliency", "Privacy"])
    );
}

#[test]
fn merged_section_banners_are_not_questions_and_keep_their_merge() {
    let dir = tempfile::tempdir().unwrap();
    let filled = check(dir.path(), "sections", MERGED_SECTIONS);
    let merged = &merges(&filled.output)[0].1;
    assert_eq!(merged.len(), 3, "the fixture has three banners");
}

#[test]
fn overwrite_answers_rows_already_answered() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("q.xlsx");
    build(&input, CAIQ_LIKE);
    let run = onrecord(
        &repo(),
        &[
            "fill",
            input.to_str().unwrap(),
            "--overwrite",
            "-o",
            dir.path().join("out.xlsx").to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        cell(&dir.path().join("out.xlsx"), "Questionnaire", 10, 3).contains("[SDL-")
            || !cell(&dir.path().join("out.xlsx"), "Questionnaire", 10, 3).is_empty()
    );
}

#[test]
fn dry_run_describes_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("q.xlsx");
    build(&input, CAIQ_LIKE);
    let run = onrecord(&repo(), &["fill", input.to_str().unwrap(), "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("sheet Questionnaire: header row 6, question B, answer C, comment D, id A, 4 questions, answers YES/NO/N/A"), "{}", run.stdout);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    // The same as JSON, with each question's answer field.
    let run = onrecord(
        &repo(),
        &[
            "fill",
            input.to_str().unwrap(),
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sheets: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let sheet = &sheets[0];
    assert_eq!(sheet["sheet"], "Questionnaire");
    assert_eq!(sheet["header_row"], 6);
    assert_eq!(sheet["answer_col"], "C");
    assert_eq!(sheet["questions"].as_array().unwrap().len(), 4);
    assert_eq!(
        sheet["questions"][0]["field"]["type"], "yes_no",
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_plain_csv_gets_answer_and_explanation_columns() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("q.csv");
    std::fs::write(&input, "id,question\nQ1,Do you encrypt customer data at rest?\nQ2,Do you hold FedRAMP High authorization?\n").unwrap();
    let run = onrecord(&repo(), &["fill", input.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = std::fs::read_to_string(dir.path().join("q.answered.csv")).unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("id,question,Answer,Explanation"));
    let first = lines.next().unwrap();
    assert!(
        first.starts_with("Q1,Do you encrypt customer data at rest?,Yes,"),
        "{first}"
    );
    assert!(first.contains("[ENC-01"));
    assert_eq!(
        lines.next(),
        Some("Q2,Do you hold FedRAMP High authorization?,,Not on the record.")
    );
}

#[test]
fn bad_inputs_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("q.pdf");
    std::fs::write(&odd, "%PDF").unwrap();
    let run = onrecord(&repo(), &["fill", odd.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("q.pdf") && run.stderr.contains("unsupported"),
        "{}",
        run.stderr
    );
    let input = dir.path().join("q.xlsx");
    build(&input, CAIQ_LIKE);
    let run = onrecord(
        &repo(),
        &[
            "fill",
            input.to_str().unwrap(),
            "-o",
            input.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("would overwrite the input"),
        "{}",
        run.stderr
    );
    let broken = dir.path().join("broken.xlsx");
    std::fs::write(&broken, "PK\u{3}\u{4}not really a zip").unwrap();
    let run = onrecord(&repo(), &["fill", broken.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.xlsx"), "{}", run.stderr);
    assert!(!dir.path().join("broken.answered.xlsx").exists());
}

/// Zip entries by name, uncompressed.
fn entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().unwrap().to_string(), data)
        })
        .collect()
}

#[test]
fn hecvat_is_filled_with_everything_else_intact() {
    let Some(hecvat) = shared("hecvat/HECVAT414.xlsx") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("hecvat.xlsx");
    let before = bytes(&hecvat);
    let run = onrecord(
        &repo(),
        &[
            "fill",
            hecvat.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(bytes(&hecvat), before);
    let (old, new) = (
        inspect(&hecvat, &Limits::default()).unwrap(),
        inspect(&output, &Limits::default()).unwrap(),
    );
    assert_eq!(old.len(), 15);
    assert_eq!(old, new, "sheets, visibility and dropdowns survive");
    let (old, new) = (entries(&hecvat), entries(&output));
    assert_eq!(
        old.iter().map(|e| &e.0).collect::<Vec<_>>(),
        new.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in old.iter().zip(&new) {
        if !name.starts_with("xl/worksheets/sheet") {
            assert!(a == b, "{name} changed");
        }
    }
    assert!(run.stderr.contains("376 questions"), "{}", run.stderr);
}

/// Every corpus file through the real command: `fill --question-col A` either succeeds or
/// exits 2 naming the file; never a panic, never a partial output; for xlsx/xlsm that
/// succeed, every zip entry but the worksheets is unchanged.
#[test]
fn every_corpus_file_fills_or_fails_cleanly() {
    let Some(corpus) = shared("xlsx-corpus") else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let (mut ok, mut clean) = (0, 0);
    for folder in ["calamine", "umya"] {
        let mut files: Vec<_> = std::fs::read_dir(corpus.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let ext = file
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            let out_ext = if ext == "xlsm" { "xlsm" } else { "xlsx" };
            let output = out_dir
                .path()
                .join(format!("{folder}-{name}.out.{out_ext}"));
            let run = onrecord(
                &repo(),
                &[
                    "fill",
                    file.to_str().unwrap(),
                    "--question-col",
                    "A",
                    "-o",
                    output.to_str().unwrap(),
                    "-q",
                ],
            );
            match run.code {
                0 => {
                    ok += 1;
                    if ext == "xlsx" || ext == "xlsm" {
                        let (old, new) = (entries(&file), entries(&output));
                        assert_eq!(old.len(), new.len(), "{name}");
                        for ((a_name, a), (b_name, b)) in old.iter().zip(&new) {
                            assert_eq!(a_name, b_name, "{name}");
                            if !a_name.contains("worksheets/") {
                                assert!(a == b, "{name}: {a_name} changed");
                            }
                        }
                    }
                }
                2 => {
                    clean += 1;
                    assert!(
                        run.stderr.contains(&name),
                        "{name}: the error does not name the file: {}",
                        run.stderr
                    );
                    assert!(!output.exists(), "{name}: an output was left behind");
                }
                code => panic!("{name}: exit {code}: {}", run.stderr),
            }
        }
    }
    println!("corpus: {ok} filled, {clean} clean errors");
    // Most corpus files hold no question-like text in column A and exit 2 "found no questions".
    assert!(ok >= 20, "{ok}");
}

#[test]
fn a_csv_is_written_back_with_the_delimiter_it_was_read_with() {
    // Semicolons inside a quoted header must not make the writer switch delimiters.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("q.csv");
    std::fs::write(
        &input,
        "id,\"question; answer in notes; one per row\"\nQ1,Do you encrypt customer data at rest?\n",
    )
    .unwrap();
    let run = onrecord(&repo(), &["fill", input.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = std::fs::read_to_string(dir.path().join("q.answered.csv")).unwrap();
    // The customer's quoting is kept as it was; the new columns join with the same `,`.
    assert_eq!(
        out.lines().next(),
        Some("id,\"question; answer in notes; one per row\",Answer,Explanation"),
        "{out}"
    );
}
