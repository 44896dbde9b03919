//! Robustness on real-world workbooks: the calamine and umya-spreadsheet test corpora and the
//! EDUCAUSE HECVAT 4.1.4 questionnaire. Every file must either patch cleanly (only the edited
//! cells change, everything else byte-identical, calamine reads the text back) or fail with a
//! clean error naming the file; never panic, never leave an output or temp file behind.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::xlsx_common::*;
use calamine::{Data, Reader, Xlsx, open_workbook};
use onrecord::limits::Limits;
use onrecord::workbook::xlsx::{CellEdit, PatchSummary, SheetInfo, inspect};

enum Outcome {
    Patched { written: usize, skipped: usize },
    CleanError(String),
}

/// Zip entry names compare like OPC part names: case-insensitive, `\\` as `/`.
fn same_part(entry: &str, part: &str) -> bool {
    entry
        .replace('\\', "/")
        .trim_start_matches('/')
        .eq_ignore_ascii_case(part)
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

fn sheet_values(path: &Path, sheet: &str) -> Option<BTreeMap<(u32, u32), Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).ok()?;
    let range = wb.worksheet_range(sheet).ok()?;
    Some(
        range
            .cells()
            .filter(|(_, _, v)| !matches!(v, Data::Empty))
            .map(|(r, c, v)| {
                let (r0, c0) = range.start().unwrap_or((0, 0));
                ((r as u32 + r0, c as u32 + c0), v.clone())
            })
            .collect(),
    )
}

/// Edits chosen for a corpus file: on the first sheet, the column 26 to the right of its first
/// cell in rows 1..=5, plus the first existing non-formula cell.
fn corpus_edits(path: &Path, first: &SheetInfo) -> Vec<CellEdit> {
    let entries = read_entries(path);
    let part = entries.iter().find(|e| same_part(&e.name, &first.part));
    let cells = part
        .and_then(|e| e.data.as_ref())
        .and_then(|d| sheet_cells(d).ok())
        .unwrap_or_default();
    let base_col = cells.order.first().map_or(0, |&(_, c)| c) + 26;
    let mut edits: Vec<CellEdit> = (0..5)
        .map(|row| CellEdit {
            sheet: first.name.clone(),
            row,
            col: base_col,
            text: format!("onrecord R{}", row + 1),
        })
        .collect();
    let existing = cells
        .order
        .iter()
        .find(|(r, c)| cells.cells.get(&a1(*r, *c)).is_some_and(|x| !x.has_formula));
    if let Some(&(row, col)) = existing {
        edits.push(CellEdit {
            sheet: first.name.clone(),
            row,
            col,
            text: "onrecord existing".into(),
        });
    }
    edits
}

/// Patches `input` with `edits` into a fresh directory and checks every promise of `patch`.
fn check_patch(input: &Path, sheet: &SheetInfo, edits: &[CellEdit]) -> Result<Outcome, String> {
    let out_dir = tempfile::tempdir().unwrap();
    let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("xlsx");
    let output = out_dir.path().join(format!("answered.{ext}"));
    let before_hash = file_hash(input);
    let result = catch_unwind(AssertUnwindSafe(|| {
        patch(input, &output, edits, &Limits::default())
    }))
    .map_err(|p| format!("patch panicked: {}", panic_message(p)))?;
    if file_hash(input) != before_hash {
        return Err("input changed".into());
    }
    let summary: PatchSummary = match result {
        Err(e) => {
            let msg = format!("{e:#}");
            let name = input.file_name().unwrap().to_string_lossy().into_owned();
            if !msg.contains(&name) {
                return Err(format!("error does not name the file: {msg}"));
            }
            let left = dir_listing(out_dir.path());
            if !left.is_empty() {
                return Err(format!("error left files behind: {left:?}"));
            }
            return Ok(Outcome::CleanError(msg));
        }
        Ok(s) => s,
    };
    let left = dir_listing(out_dir.path());
    if left != [format!("answered.{ext}")] {
        return Err(format!("unexpected files: {left:?}"));
    }
    catch_unwind(AssertUnwindSafe(|| {
        verify_output(input, &output, sheet, edits, &summary)
    }))
    .map_err(|p| format!("verification failed: {}", panic_message(p)))?;
    Ok(Outcome::Patched {
        written: summary.cells_written,
        skipped: summary.skipped_formula_cells.len(),
    })
}

fn verify_output(
    input: &Path,
    output: &Path,
    sheet: &SheetInfo,
    edits: &[CellEdit],
    summary: &PatchSummary,
) {
    let original_part = read_entries(input)
        .into_iter()
        .find(|e| same_part(&e.name, &sheet.part))
        .expect("sheet part");
    let original =
        sheet_cells(original_part.data.as_ref().unwrap()).expect("original sheet parses");
    let skipped: Vec<(u32, u32)> = summary
        .skipped_formula_cells
        .iter()
        .map(|(_, r, c)| (*r, *c))
        .collect();
    let has_array =
        String::from_utf8_lossy(original_part.data.as_ref().unwrap()).contains("t=\"array\"");
    for &(r, c) in &skipped {
        let formula = original.cells.get(&a1(r, c)).is_some_and(|x| x.has_formula);
        assert!(
            formula || has_array,
            "skipped {} which holds no formula",
            a1(r, c)
        );
    }
    // Last edit of a cell wins.
    let mut expected: BTreeMap<(u32, u32), &str> = BTreeMap::new();
    for e in edits {
        expected.insert((e.row, e.col), &e.text);
    }
    expected.retain(|k, _| !skipped.contains(k));
    assert_eq!(summary.cells_written, expected.len());
    let patched_parts = if expected.is_empty() {
        vec![]
    } else {
        vec![original_part.name.clone()]
    };
    let changed = assert_only_parts_changed(input, output, &patched_parts);
    let edited: Vec<String> = expected.keys().map(|&(r, c)| a1(r, c)).collect();
    if let Some((before, after)) = changed.get(&original_part.name) {
        assert_sheet_preserved(before, after, &edited);
    }
    match sheet_values(input, &sheet.name) {
        None => println!("    (calamine cannot read the original sheet; read-back skipped)"),
        Some(mut want) => {
            let got = sheet_values(output, &sheet.name).expect("calamine reads the output");
            for (&(r, c), text) in &expected {
                assert_eq!(
                    got.get(&(r, c)),
                    Some(&Data::String(text.to_string())),
                    "read back {}",
                    a1(r, c)
                );
                want.insert((r, c), Data::String(text.to_string()));
            }
            assert!(want == got, "calamine sees other values change");
        }
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["calamine", "umya"] {
        let Some(dir) = crate::shared(&format!("xlsx-corpus/{sub}")) else {
            continue;
        };
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut here: Vec<PathBuf> = read
            .map(|e| e.unwrap().path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("xlsx" | "xlsm")
                )
            })
            .collect();
        here.sort();
        files.extend(here);
    }
    files
}

#[test]
fn corpus_patches_cleanly_or_fails_cleanly() {
    let files = corpus_files();
    let (mut ok, mut errors, mut failures) = (0, Vec::new(), Vec::new());
    for path in &files {
        let name = path
            .strip_prefix(crate::shared_data().join("xlsx-corpus"))
            .unwrap_or(path)
            .display()
            .to_string();
        let before = file_hash(path);
        let started = std::time::Instant::now();
        let info = match catch_unwind(AssertUnwindSafe(|| inspect(path, &Limits::default()))) {
            Err(p) => {
                failures.push(format!("{name}: inspect panicked: {}", panic_message(p)));
                continue;
            }
            Ok(info) => info,
        };
        let (sheet, edits) = match &info {
            Ok(sheets) if !sheets.is_empty() => (sheets[0].clone(), corpus_edits(path, &sheets[0])),
            Ok(_) => {
                errors.push(format!("{name}: inspect found no sheets"));
                continue;
            }
            Err(e) => {
                // Patch must refuse such a file cleanly too.
                let dummy = SheetInfo {
                    name: "Sheet1".into(),
                    part: String::new(),
                    hidden: false,
                    validations: vec![],
                };
                let edits = [CellEdit {
                    sheet: "Sheet1".into(),
                    row: 0,
                    col: 0,
                    text: "x".into(),
                }];
                match check_patch(path, &dummy, &edits) {
                    Ok(Outcome::CleanError(_)) => errors.push(format!("{name}: {e:#}")),
                    Ok(Outcome::Patched { .. }) => {
                        errors.push(format!("{name}: inspect: {e:#} (patch of Sheet1 worked)"))
                    }
                    Err(f) => failures.push(format!("{name}: {f}")),
                }
                continue;
            }
        };
        match check_patch(path, &sheet, &edits) {
            Ok(Outcome::Patched { written, skipped }) => {
                ok += 1;
                println!(
                    "ok    {name}: sheet `{}`, {written} written, {skipped} formula cells skipped ({:.1}s)",
                    sheet.name,
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(Outcome::CleanError(msg)) => errors.push(format!("{name}: {msg}")),
            Err(f) => failures.push(format!("{name}: {f}")),
        }
        assert_eq!(before, file_hash(path), "{name} changed");
    }
    println!(
        "\n{} files: {ok} patched OK, {} clean errors, {} failures",
        files.len(),
        errors.len(),
        failures.len()
    );
    for e in &errors {
        println!("clean error: {e}");
    }
    for f in &failures {
        println!("FAILURE: {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}

#[test]
fn hecvat_inspects_and_patches() {
    let Some(hecvat) = crate::shared("hecvat/HECVAT414.xlsx") else {
        return;
    };
    let path = hecvat.as_path();
    let before = file_hash(path);
    let sheets = inspect(path, &Limits::default()).expect("HECVAT inspects");
    assert_eq!(before, file_hash(path));
    assert_eq!(sheets.len(), 15);
    let total: usize = sheets.iter().map(|s| s.validations.len()).sum();
    for s in &sheets {
        println!(
            "{:<28} {:<28} hidden={:<5} validations={}",
            s.name,
            s.part,
            s.hidden,
            s.validations.len()
        );
        let mut seen: Vec<&Vec<String>> = Vec::new();
        for v in &s.validations {
            if !seen.contains(&&v.choices) {
                seen.push(&v.choices);
                println!("    {:?}", v.choices);
            }
        }
    }
    assert!(
        sheets.iter().any(|s| s.hidden),
        "HECVAT hides helper sheets"
    );
    assert!(sheets.iter().any(|s| !s.hidden));
    // HECVAT's classic <dataValidation>s are input prompts; all 19 dropdowns are x14 lists
    // pointing at the hidden 'Auto Responses' tab, and all must resolve.
    assert_eq!(total, 19, "list validations");
    let covered: u64 = sheets
        .iter()
        .flat_map(|s| &s.validations)
        .flat_map(|v| &v.ranges)
        .map(|r| u64::from(r.last_row - r.first_row + 1) * u64::from(r.last_col - r.first_col + 1))
        .sum();
    println!("{total} list validations covering {covered} cells");
    assert!(covered > 300, "dropdowns cover only {covered} cells");

    // Answer the first dropdown cell of three visible tabs with its first choice, and write an
    // explanation next to it.
    let mut edits = Vec::new();
    for s in sheets
        .iter()
        .filter(|s| !s.hidden && !s.validations.is_empty())
        .take(3)
    {
        let v = &s.validations[0];
        let r = v.ranges[0];
        edits.push(CellEdit {
            sheet: s.name.clone(),
            row: r.first_row,
            col: r.first_col,
            text: v.choices[0].clone(),
        });
        edits.push(CellEdit {
            sheet: s.name.clone(),
            row: r.first_row,
            col: r.first_col + 1,
            text: "We do. [ENC-01 · SOC 2 CC6.1]".into(),
        });
    }
    assert!(!edits.is_empty());
    // One sheet at a time, so each check knows its part; then all at once.
    for pair in edits.chunks(2) {
        let sheet = sheets.iter().find(|s| s.name == pair[0].sheet).unwrap();
        match check_patch(path, sheet, pair) {
            Ok(Outcome::Patched { written, skipped }) => println!(
                "patched `{}`: {written} written, {skipped} skipped",
                sheet.name
            ),
            Ok(Outcome::CleanError(e)) => panic!("HECVAT patch failed: {e}"),
            Err(f) => panic!("HECVAT: {f}"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("HECVAT414.answered.xlsx");
    let summary = patch(path, &out, &edits, &Limits::default()).unwrap();
    assert_eq!(before, file_hash(path));
    println!("all at once: {summary:?}");
    let parts: Vec<String> = edits
        .iter()
        .map(|e| {
            sheets
                .iter()
                .find(|s| s.name == e.sheet)
                .unwrap()
                .part
                .clone()
        })
        .collect();
    let mut parts_changed = parts.clone();
    parts_changed.dedup();
    let written: Vec<&CellEdit> = edits
        .iter()
        .filter(|e| {
            !summary
                .skipped_formula_cells
                .contains(&(e.sheet.clone(), e.row, e.col))
        })
        .collect();
    parts_changed.retain(|p| {
        written
            .iter()
            .any(|e| sheets.iter().any(|s| s.name == e.sheet && &s.part == p))
    });
    assert_only_parts_changed(path, &out, &parts_changed);
    let again = inspect(&out, &Limits::default()).unwrap();
    assert_eq!(again, sheets, "validations and sheets survive");
}
