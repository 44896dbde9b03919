//! `onrecord fill` end to end: questionnaires in the layouts customers send, filled and read
//! back; the input never changes; everything but the written cells survives.

use std::io::Read;
use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use onrecord::workbook::xlsx::inspect;
use rust_xlsxwriter::{DataValidation, Format, Workbook};

use crate::{onrecord, repo, shared_data};

/// A CAIQ-like workbook: a title block, the header on row 6, a YES/NO/N/A dropdown on the
/// answer column fed from a hidden sheet, a section row, one row already answered.
fn caiq_like(path: &Path) {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = workbook.add_worksheet().set_name("Questionnaire").unwrap();
    sheet
        .write_string_with_format(0, 0, "Vendor Security Assessment", &bold)
        .unwrap();
    sheet
        .write_string(1, 0, "Answer every question; add notes where helpful.")
        .unwrap();
    for (col, head) in ["Question ID", "Question", "Answer", "Notes"]
        .iter()
        .enumerate()
    {
        sheet
            .write_string_with_format(5, col as u16, *head, &bold)
            .unwrap();
    }
    let rows: &[(&str, &str, &str)] = &[
        ("1.0", "Identity and access", ""),
        (
            "1.1",
            "Is multi-factor authentication enforced for all workforce accounts?",
            "",
        ),
        ("1.2", "Is any customer data stored unencrypted?", ""),
        ("1.3", "Do you hold FedRAMP High authorization?", ""),
        (
            "1.4",
            "Do you perform penetration tests? If so, how often?",
            "YES",
        ),
    ];
    for (i, (id, question, answer)) in rows.iter().enumerate() {
        let row = 6 + i as u32;
        sheet.write_string(row, 0, *id).unwrap();
        sheet.write_string(row, 1, *question).unwrap();
        if !answer.is_empty() {
            sheet.write_string(row, 2, *answer).unwrap();
        }
    }
    let dropdown = DataValidation::new().allow_list_formula("=Lists!$A$1:$A$3".into());
    sheet.add_data_validation(6, 2, 40, 2, &dropdown).unwrap();
    sheet.set_column_width(1, 60).unwrap();
    let lists = workbook.add_worksheet().set_name("Lists").unwrap();
    for (i, v) in ["YES", "NO", "N/A"].iter().enumerate() {
        lists.write_string(i as u32, 0, *v).unwrap();
    }
    lists.set_hidden(true);
    workbook.save(path).unwrap();
}

fn cell(path: &Path, sheet: &str, row: usize, col: usize) -> String {
    let mut workbook = open_workbook_auto(path).unwrap();
    let range = workbook.worksheet_range(sheet).unwrap();
    match range.get_value((row as u32, col as u32)) {
        Some(Data::Empty) | None => String::new(),
        Some(value) => value.to_string(),
    }
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_caiq_like_workbook_is_filled_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("customer.xlsx");
    caiq_like(&input);
    let before = bytes(&input);
    let report = dir.path().join("report.json");
    let run = onrecord(
        &repo(),
        &[
            "fill",
            input.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(bytes(&input), before, "the input changed");
    let output = dir.path().join("customer.answered.xlsx");
    // Row 7 is a section row; answers take the dropdown's spelling.
    assert_eq!(cell(&output, "Questionnaire", 6, 2), "");
    assert_eq!(cell(&output, "Questionnaire", 7, 2), "YES");
    assert!(
        cell(&output, "Questionnaire", 7, 3).contains("[IAM-"),
        "{}",
        cell(&output, "Questionnaire", 7, 3)
    );
    assert_eq!(cell(&output, "Questionnaire", 8, 2), "NO");
    assert!(cell(&output, "Questionnaire", 8, 3).contains("[ENC-01"));
    assert_eq!(cell(&output, "Questionnaire", 9, 2), "");
    assert_eq!(cell(&output, "Questionnaire", 9, 3), "Not on the record.");
    // Already answered: kept, notes untouched.
    assert_eq!(cell(&output, "Questionnaire", 10, 2), "YES");
    assert_eq!(cell(&output, "Questionnaire", 10, 3), "");
    // Sheets, the hidden list sheet and the dropdown survive.
    assert_eq!(inspect(&output).unwrap(), inspect(&input).unwrap());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["summary"]["questions"], 3);
    assert_eq!(json["summary"]["not_on_record"], 1);
    assert_eq!(json["rows"][0]["row"], 8);
    assert_eq!(json["rows"][0]["id"], "1.1");
    assert!(
        run.stderr.contains("1 already answered, kept"),
        "{}",
        run.stderr
    );
}

#[test]
fn overwrite_answers_rows_already_answered() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("q.xlsx");
    caiq_like(&input);
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
    caiq_like(&input);
    let run = onrecord(&repo(), &["fill", input.to_str().unwrap(), "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("sheet Questionnaire: header row 6, question B, answer C, comment D, id A, 4 questions, answers YES/NO/N/A"), "{}", run.stdout);
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
    caiq_like(&input);
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
    let hecvat = shared_data().join("hecvat/HECVAT414.xlsx");
    if !hecvat.exists() {
        println!("{} is absent; skipped", hecvat.display());
        return;
    }
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
    let (old, new) = (inspect(&hecvat).unwrap(), inspect(&output).unwrap());
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
    let corpus = shared_data().join("xlsx-corpus");
    if !corpus.exists() {
        println!("{} is absent; skipped", corpus.display());
        return;
    }
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
    let header: Vec<&str> = out.lines().next().unwrap().split(',').collect();
    assert_eq!(
        header,
        [
            "id",
            "question; answer in notes; one per row",
            "Answer",
            "Explanation"
        ],
        "{out}"
    );
}
