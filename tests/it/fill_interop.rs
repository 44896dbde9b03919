//! Filled workbooks open in other readers, not just in calamine: LibreOffice (headless, every
//! sheet converted to csv) and openpyxl (a strict reader of the Excel format). Each test skips
//! with a message when its tool is absent; `.ci/run` installs both.
//!
//! The outputs are the layout fixtures (`layouts.rs`) and, when `../shared/data` is there,
//! the real HECVAT 4.1.4 workbook. What must be found in them is every cell filling wrote:
//! the cells whose text differs between input and output, as calamine reads them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::layouts::{CAIQ_LIKE, MERGED_SECTIONS, SIG_LIKE, cells, check};
use crate::{fill_report, missing, onrecord, repo, shared};

/// A filled workbook and the cells filling wrote into it, `(sheet, row, col) → text`.
struct Filled {
    input: PathBuf,
    output: PathBuf,
    written: BTreeMap<(String, u32, u32), String>,
}

fn filled_outputs(dir: &Path) -> Vec<Filled> {
    let mut pairs: Vec<(PathBuf, PathBuf)> = [
        ("sig", SIG_LIKE),
        ("sections", MERGED_SECTIONS),
        ("caiq", CAIQ_LIKE),
    ]
    .into_iter()
    .map(|(name, tabs)| {
        let filled = check(dir, name, tabs);
        (filled.input, filled.output)
    })
    .collect();
    if let Some(hecvat) = shared("hecvat/HECVAT414.xlsx") {
        let output = dir.join("hecvat.answered.xlsx");
        let args = [
            "fill",
            hecvat.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
            "-q",
        ];
        let run = onrecord(&repo(), &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        pairs.push((hecvat, output));
    }
    pairs
        .into_iter()
        .map(|(input, output)| {
            let before = cells(&input);
            let mut written = cells(&output);
            written.retain(|at, text| before.get(at) != Some(text));
            assert!(!written.is_empty(), "{}: nothing written", output.display());
            Filled {
                input,
                output,
                written,
            }
        })
        .collect()
}

/// Whether `program ARGS` runs and exits 0.
fn available(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// LibreOffice's csv export: comma, double quote, UTF-8, cells as shown, every sheet
/// (the last token, -1) into its own `NAME-SHEET.csv`.
const CSV_EVERY_SHEET: &str =
    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1";

/// Every sheet of `files` converted to csv by LibreOffice, into `dir/csv`; with its log.
fn convert_every_sheet<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = &'a PathBuf>,
) -> (PathBuf, String) {
    let (profile, converted) = (dir.join("profile"), dir.join("csv"));
    let run = Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", CSV_EVERY_SHEET, "--outdir"])
        .arg(&converted)
        .args(files)
        .output()
        .expect("run soffice");
    let log = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "soffice failed: {log}");
    (converted, log)
}

#[test]
fn libreoffice_opens_every_filled_output() {
    if !available("soffice", &["--version"]) {
        missing::<()>("soffice (LibreOffice) is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let filled = filled_outputs(dir.path());
    let (converted, log) = convert_every_sheet(dir.path(), filled.iter().map(|f| &f.output));
    for f in &filled {
        let stem = f.output.file_stem().unwrap().to_string_lossy();
        let mut sheets: BTreeMap<&str, Vec<csv::StringRecord>> = BTreeMap::new();
        for ((sheet, row, col), text) in &f.written {
            let rows = sheets.entry(sheet).or_insert_with(|| {
                let path = converted.join(format!("{stem}-{sheet}.csv"));
                let reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_path(&path);
                let mut reader = reader.unwrap_or_else(|e| {
                    panic!("LibreOffice did not convert {}: {e}; {log}", path.display())
                });
                reader.records().map(Result::unwrap).collect()
            });
            let got = rows.get(*row as usize).and_then(|r| r.get(*col as usize));
            assert_eq!(got, Some(text.as_str()), "{stem} {sheet} row {}", row + 1);
        }
        println!(
            "LibreOffice: {stem}: {} written cells read back",
            f.written.len()
        );
    }
}

/// Prints, as JSON, each sheet's name, state and data validations, and the values of the
/// cells given on stdin as `[[sheet, row, col], ...]` (0-based).
const OPENPYXL_READ: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
want = json.load(sys.stdin)
json.dump({
    "sheets": [[ws.title, ws.sheet_state, sorted(
        [str(dv.sqref), dv.type or "", dv.formula1 or ""]
        for dv in ws.data_validations.dataValidation)] for ws in wb.worksheets],
    "values": [wb[s].cell(row=r + 1, column=c + 1).value for s, r, c in want],
}, sys.stdout)
"#;

fn openpyxl_read(path: &Path, cells: &[(String, u32, u32)]) -> serde_json::Value {
    let mut child = Command::new("python3")
        .args(["-c", OPENPYXL_READ])
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    serde_json::to_writer(child.stdin.take().unwrap(), cells).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "openpyxl failed on {}: {err}",
        path.display()
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn openpyxl_opens_every_filled_output() {
    if !available("python3", &["-c", "import openpyxl"]) {
        missing::<()>("python3 with openpyxl is not available");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for f in filled_outputs(dir.path()) {
        let name = f.output.file_name().unwrap().to_string_lossy().into_owned();
        let at: Vec<(String, u32, u32)> = f.written.keys().cloned().collect();
        let (before, after) = (openpyxl_read(&f.input, &[]), openpyxl_read(&f.output, &at));
        assert_eq!(
            before["sheets"], after["sheets"],
            "{name}: sheets, states or validations"
        );
        let validations: usize = after["sheets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s[2].as_array().unwrap().len())
            .sum();
        assert!(validations > 0, "{name}: openpyxl sees no data validation");
        let values = after["values"].as_array().unwrap();
        for ((at, text), value) in f.written.iter().zip(values) {
            assert_eq!(value.as_str(), Some(text.as_str()), "{name}: {at:?}");
        }
        println!(
            "openpyxl: {name}: {} written cells, {validations} validations",
            f.written.len()
        );
    }
}

/// The review workbook of a fill (HECVAT when `../shared/data` is there, else the bundled
/// csv questionnaire), with the number of rows the report lists for review.
fn review_workbook(dir: &Path) -> (PathBuf, usize) {
    let input = shared("hecvat/HECVAT414.xlsx")
        .unwrap_or_else(|| repo().join("fixtures/questionnaires/vendor-assessment.csv"));
    let ext = input.extension().unwrap().to_str().unwrap().to_string();
    let output = dir.join(format!("q.answered.{ext}"));
    let report = dir.join("r.json");
    let report = fill_report(
        &repo(),
        &input,
        &report,
        &["-o", output.to_str().unwrap(), "-q"],
    );
    let listed = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "answered")
        .count();
    (dir.join("q.review.xlsx"), listed)
}

#[test]
fn libreoffice_opens_the_review_workbook() {
    if !available("soffice", &["--version"]) {
        missing::<()>("soffice (LibreOffice) is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (review, listed) = review_workbook(dir.path());
    let (converted, log) = convert_every_sheet(dir.path(), [&review]);
    let read = |sheet: &str| -> Vec<csv::StringRecord> {
        let path = converted.join(format!("q.review-{sheet}.csv"));
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(&path)
            .unwrap_or_else(|e| {
                panic!("LibreOffice did not convert {}: {e}; {log}", path.display())
            })
            .records()
            .map(Result::unwrap)
            .collect()
    };
    let rows = read("Review");
    assert_eq!(rows[0].iter().collect::<Vec<_>>(), onrecord::review::HEADER);
    assert_eq!(rows.len(), listed + 1, "one row per question to check");
    assert!(
        rows[1..].iter().all(|r| !r[3].is_empty()),
        "every row has its question"
    );
    let summary = read("Summary");
    assert!(summary.iter().any(|r| &r[0] == "To review"), "{summary:?}");
    assert!(
        read("Controls").len() > 100,
        "the example record's controls are listed"
    );
    println!("LibreOffice: review workbook with {listed} rows read back");
}

/// What openpyxl sees of a review workbook: sheets, the header, the frozen pane, the filter
/// and the data validations of Review.
const OPENPYXL_REVIEW: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["Review"]
json.dump({
    "sheets": wb.sheetnames,
    "header": [c.value for c in ws[1]],
    "rows": ws.max_row - 1,
    "freeze": ws.freeze_panes,
    "filter": ws.auto_filter.ref,
    "validations": [[str(dv.sqref), dv.type, dv.formula1] for dv in ws.data_validations.dataValidation],
    "fills": sorted({c.fill.fgColor.rgb for row in ws.iter_rows(min_row=2) for c in row[:1]}),
}, sys.stdout)
"#;

#[test]
fn openpyxl_opens_the_review_workbook() {
    if !available("python3", &["-c", "import openpyxl"]) {
        missing::<()>("python3 with openpyxl is not available");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (review, listed) = review_workbook(dir.path());
    let out = Command::new("python3")
        .args(["-c", OPENPYXL_REVIEW])
        .arg(&review)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "openpyxl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        seen["sheets"],
        serde_json::json!(["Review", "Summary", "Controls"])
    );
    assert_eq!(seen["header"], serde_json::json!(onrecord::review::HEADER));
    assert_eq!(seen["rows"], listed);
    assert_eq!(seen["freeze"], "A2", "the header row is frozen");
    assert_eq!(
        seen["filter"],
        format!("A1:L{}", listed + 1),
        "the header is filtered"
    );
    let validations = seen["validations"].as_array().unwrap();
    assert_eq!(
        validations,
        &vec![serde_json::json!([
            format!("K2:K{}", listed + 1),
            "list",
            "\"accept,reject\""
        ])],
        "the Decision dropdown"
    );
    assert!(
        seen["fills"].as_array().unwrap().len() >= 2,
        "rows are coloured by status: {}",
        seen["fills"]
    );
    println!(
        "openpyxl: review workbook with {listed} rows, {}",
        seen["fills"]
    );
}
