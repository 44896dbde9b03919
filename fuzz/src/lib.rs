//! The fuzz harnesses: each turns the fuzzer's bytes into one input of the library and drives
//! one reading path, which must return (Ok or Err) and never panic.
//!
//! Shared with the main crate's `tests/it/fuzz_regressions.rs` (included there by path), which
//! replays every kept crash in `fuzz/regressions/TARGET/` through the same function, so a
//! regression test runs exactly what the fuzzer ran.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use arbitrary::{Result, Unstructured};
use onrecord::check::{self, CheckOptions};
use onrecord::fill;
use onrecord::limits::Limits;
use onrecord::questionnaire::{self, Grid, ListValidation, Overrides};
use onrecord::record::{self, Date};
use onrecord::workbook::xlsx::{self, CellEdit};

/// Separates the files packed into one input (record files, xlsx parts).
const SEP: u8 = 0;

/// A scratch directory of this process for `target`, on tmpfs where there is one; each
/// iteration rewrites what it uses.
pub fn scratch(target: &str) -> PathBuf {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base
        .join(format!("onrecord-fuzz-{}", std::process::id()))
        .join(target);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The files of a record, in the order their texts appear in an input, NUL-separated. A file
/// whose text is absent (fewer parts) is absent from the record.
const RECORD_FILES: [&str; 4] = [
    "knowledge/controls.toml",
    "mappings/controls.csv",
    "mappings/cuec.csv",
    "mappings/frameworks/extra.csv",
];

/// `record`: a knowledge TOML, `controls.csv`, `cuec.csv` and a framework catalog, loaded and
/// checked.
pub fn record(data: &[u8], dir: &Path) {
    let root = dir.join("record");
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("mappings/frameworks")).expect("create record dirs");
    fs::create_dir_all(root.join("knowledge")).expect("create record dirs");
    for (name, text) in RECORD_FILES.iter().zip(data.split(|&b| b == SEP)) {
        // Lossy: a file that is not UTF-8 is refused at once, which teaches the fuzzer nothing.
        let text = String::from_utf8_lossy(text);
        fs::write(root.join(name), text.as_bytes()).expect("write record file");
    }
    let Ok(loaded) = record::load(&root, &Limits::default()) else {
        return;
    };
    let options = CheckOptions {
        today: Date::from_ymd(2026, 11, 23).expect("a valid date"),
        max_age_days: 365,
    };
    check::check(&loaded, &options);
}

/// `questionnaire_xlsx`: a workbook read, inspected and detected, as `fill` does.
pub fn questionnaire_xlsx(data: &[u8], dir: &Path) {
    let path = dir.join("q.xlsx");
    fs::write(&path, xlsx_bytes(data)).expect("write q.xlsx");
    read_and_detect(&path);
}

/// `questionnaire_csv`: a csv read and detected.
pub fn questionnaire_csv(data: &[u8], dir: &Path) {
    let path = dir.join("q.csv");
    fs::write(&path, data).expect("write q.csv");
    read_and_detect(&path);
}

fn read_and_detect(path: &Path) -> Vec<questionnaire::Layout> {
    let limits = Limits::default();
    let Ok(grids) = questionnaire::read(path, &limits) else {
        return Vec::new();
    };
    let info = xlsx::inspect(path, &limits).unwrap_or_default();
    let mut layouts = fill::layouts(&grids, &info, &Overrides::default());
    let first = grids.first().map(|g| g.name.clone()).unwrap_or_default();
    let named = Overrides {
        sheets: vec![first],
        header_row: Some(0),
        ..Overrides::default()
    };
    layouts.extend(fill::layouts(&grids, &info, &named));
    for layout in &layouts {
        let grid = grids.iter().find(|g| g.name == layout.sheet);
        assert!(
            grid.is_some(),
            "layout of an unknown sheet `{}`",
            layout.sheet
        );
    }
    layouts
}

/// `xlsx_patch`: a workbook inspected, patched with a few edits (the answer cells `detect`
/// finds, plus fixed ones), and the output read back.
pub fn xlsx_patch(data: &[u8], dir: &Path) {
    let input = dir.join("in.xlsx");
    let output = dir.join("out.xlsx");
    fs::write(&input, xlsx_bytes(data)).expect("write in.xlsx");
    let _ = fs::remove_file(&output);
    let limits = Limits::default();
    let readable = questionnaire::read(&input, &limits).is_ok();
    let layouts = read_and_detect(&input);
    let Ok(info) = xlsx::inspect(&input, &limits) else {
        let _ = xlsx::patch(&input, &[], &limits);
        return;
    };
    let texts = [
        "Yes",
        "=1+1",
        "a & b <c> \"d\" ]]> \u{1} \r\n tab\t",
        " leading and trailing ",
    ];
    let mut edits = Vec::new();
    for (i, sheet) in info.iter().take(3).enumerate() {
        let fixed = [
            (0, 0),
            (1, 2),
            (data.len() as u32 % 64, data.len() as u32 % 30),
        ];
        for (j, (row, col)) in fixed.into_iter().enumerate() {
            edits.push(CellEdit {
                sheet: sheet.name.clone(),
                row,
                col,
                text: texts[(i + j) % texts.len()].into(),
            });
        }
    }
    for layout in &layouts {
        let col = layout.answer_col.unwrap_or(layout.question_col + 1);
        for (j, q) in layout.questions.iter().take(5).enumerate() {
            edits.push(CellEdit {
                sheet: layout.sheet.clone(),
                row: q.row,
                col,
                text: texts[j % texts.len()].into(),
            });
        }
    }
    let Ok(patched) = xlsx::patch(&input, &edits, &limits) else {
        return;
    };
    fs::write(&output, patched.bytes).expect("write out.xlsx");
    let reread = questionnaire::read(&output, &limits);
    assert!(
        !readable || reread.is_ok(),
        "the patched workbook no longer reads: {:#}",
        reread.err().map(|e| e.to_string()).unwrap_or_default()
    );
    let _ = xlsx::inspect(&output, &limits);
}

/// The xlsx of an input: the bytes themselves when they are a zip or OLE file; otherwise the
/// parts of a workbook, NUL-separated in the order of [`XLSX_PARTS`], zipped here (stored, so
/// the fuzzer mutates XML, not deflate streams and CRCs). Absent parts take a minimal default.
pub fn xlsx_bytes(data: &[u8]) -> Vec<u8> {
    if data.starts_with(b"PK") || data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return data.to_vec();
    }
    let mut given = data.split(|&b| b == SEP);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, default) in XLSX_PARTS {
        let text = given.next().unwrap_or(default.as_bytes());
        zip.start_file(name, options).expect("zip part");
        zip.write_all(text).expect("zip part");
    }
    zip.finish().expect("zip").into_inner()
}

/// The parts of a one-sheet workbook with a shared string table, a merge and a dropdown.
pub const XLSX_PARTS: [(&str, &str); 6] = [
    ("xl/worksheets/sheet1.xml", SHEET1),
    ("xl/sharedStrings.xml", SHARED),
    ("xl/workbook.xml", WORKBOOK),
    ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ("[Content_Types].xml", CONTENT_TYPES),
    ("_rels/.rels", ROOT_RELS),
];

const SHEET1: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row><row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2"/><c r="C2" t="inlineStr"><is><t>note</t></is></c></row><row r="3"><c r="A3" t="s"><v>4</v></c><c r="B3"><f>1+1</f><v>2</v></c></row></sheetData><mergeCells count="1"><mergeCell ref="C3:D3"/></mergeCells><dataValidations count="1"><dataValidation type="list" sqref="B2:B3"><formula1>"Yes,No,N/A"</formula1></dataValidation></dataValidations></worksheet>"#;

const SHARED: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="5" uniqueCount="5"><si><t>Question</t></si><si><t>Answer</t></si><si><t>Comments</t></si><si><t>Do you encrypt data at rest?</t></si><si><r><t>Is MFA </t></r><r><t>enforced?</t></r></si></sst>"#;

const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Security" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

/// Cell texts `detect` reacts to, picked more often than arbitrary strings.
const WORDS: &[&str] = &[
    "",
    "Question",
    "Questions",
    "Answer",
    "Response",
    "Yes/No",
    "Comments",
    "Notes",
    "ID",
    "#",
    "No.",
    "Yes",
    "No",
    "N/A",
    "1.1",
    "GNRL-01",
    "Do you encrypt data at rest?",
    "Describe your backup process.",
    "Section A",
    "Guidance",
    "Score",
    "Analyst Notes",
    "Compliant Response",
    "TRUE",
    "#REF!",
    "?",
    "   ",
];

fn text(u: &mut Unstructured) -> Result<String> {
    if u.ratio(1, 6)? {
        u.arbitrary()
    } else {
        Ok((*u.choose(WORDS)?).to_string())
    }
}

/// A row or column: small, or one of the edges where arithmetic overflows.
fn index(u: &mut Unstructured) -> Result<u32> {
    if u.ratio(1, 8)? {
        Ok(*u.choose(&[39, 40, 41, 1_048_575, 16_383, u32::MAX - 1, u32::MAX])?)
    } else {
        u.int_in_range(0..=12)
    }
}

fn grid(u: &mut Unstructured) -> Result<Grid> {
    let name = if u.ratio(1, 4)? {
        text(u)?
    } else {
        "Sheet1".into()
    };
    let hidden = u.ratio(1, 8)?;
    let height = u.int_in_range(0..=14)?;
    let mut rows = Vec::with_capacity(height);
    for _ in 0..height {
        let width = u.int_in_range(0..=8)?;
        let mut row = Vec::with_capacity(width);
        for _ in 0..width {
            row.push(text(u)?);
        }
        rows.push(row);
    }
    let mut merged = Vec::new();
    for _ in 0..u.int_in_range(0..=2)? {
        merged.push((index(u)?, index(u)?, index(u)?, index(u)?));
    }
    Ok(Grid {
        name,
        hidden,
        rows,
        merged,
        delimiter: None,
        formulas_without_text: 0,
    })
}

fn validation(u: &mut Unstructured) -> Result<ListValidation> {
    let mut choices = Vec::new();
    for _ in 0..u.int_in_range(0..=4)? {
        choices.push(text(u)?);
    }
    Ok(ListValidation {
        first_row: index(u)?,
        first_col: index(u)?,
        last_row: index(u)?,
        last_col: index(u)?,
        choices,
    })
}

fn maybe(u: &mut Unstructured) -> Result<Option<u32>> {
    if u.ratio(1, 5)? {
        Ok(Some(index(u)?))
    } else {
        Ok(None)
    }
}

fn overrides(u: &mut Unstructured, grid: &Grid) -> Result<Overrides> {
    let sheets = if u.ratio(1, 5)? {
        vec![grid.name.clone()]
    } else {
        Vec::new()
    };
    Ok(Overrides {
        sheets,
        question_col: maybe(u)?,
        answer_col: maybe(u)?,
        comment_col: maybe(u)?,
        header_row: maybe(u)?,
    })
}

fn detect_input(u: &mut Unstructured) -> Result<(Grid, Vec<ListValidation>, Overrides)> {
    let grid = grid(u)?;
    let mut validations = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        validations.push(validation(u)?);
    }
    let overrides = overrides(u, &grid)?;
    Ok((grid, validations, overrides))
}

/// `detect`: a small grid, its dropdowns and overrides, built from the bytes; no files.
pub fn detect(data: &[u8]) {
    let Ok((grid, validations, overrides)) = detect_input(&mut Unstructured::new(data)) else {
        return;
    };
    if let Some(layout) = questionnaire::detect(&grid, &validations, &overrides) {
        assert_eq!(layout.sheet, grid.name);
    }
}
