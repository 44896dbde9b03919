//! Reading questionnaires and finding their layout.
//!
//! This module owns two steps of `fill`, `coverage` and `fill --dry-run`:
//!
//! - [`read`] turns a customer's spreadsheet (xlsx, xlsm, xls, xlsb, ods, csv, tsv) into one
//!   plain-text [`Grid`] per worksheet: every value as the text the customer sees (formulas by
//!   their cached value, `3` not `3.0`, dates as ISO dates), plus visibility and merged ranges.
//! - [`detect`] finds, in one grid, the header row and the question, answer, comment and id
//!   columns, and lists the question rows (section titles, instructions and repeated headers
//!   are left out). Overrides from the command line win over every guess.
//!
//! Invariants:
//! - Reads only: never writes, creates or modifies a file.
//! - Never panics on file data; every unreadable input is an error that names the file
//!   ("could not read \`path\`: reason") and, where it can, says what to do.
//! - Bounded: a file past one of its [`Limits`] (size, rows, cells, cell length, text) is
//!   refused instead of exhausting memory or time; zip packages are checked by
//!   [`guard::check_package`] before calamine sees them.
//! - Deterministic: the same grid gives the same layout; ties are broken by fixed rules
//!   (earliest row; the column nearest the questions).
//! - Rows and columns are 0-based throughout; reports add 1 for people.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::delimited;
use crate::limits::Limits;
use crate::workbook::{biff, guard};
use anyhow::anyhow;
use calamine::{Data, DataRef, Ods, Range, Reader, SheetType, SheetVisible, Xls, Xlsb, Xlsx};

// ---------------------------------------------------------------------------------------------
// Public types

/// One worksheet as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    pub name: String,
    /// Hidden or very hidden in the workbook; always false for csv/tsv.
    pub hidden: bool,
    /// Cell text by row then column; rows are ragged (each ends at its last filled cell) and
    /// trailing empty rows are absent. Formulas appear as their cached value.
    pub rows: Vec<Vec<String>>,
    /// Merged ranges, 0-based inclusive `(r0, c0, r1, c1)`; filled for xlsx/xlsm (sheets up to
    /// 200,000 filled cells) and xls, empty where the reader does not expose them (xlsb, ods,
    /// csv).
    pub merged: Vec<(u32, u32, u32, u32)>,
    /// The field delimiter a csv/tsv was read with, so it is written back with the same one;
    /// `None` for workbooks.
    pub delimiter: Option<u8>,
    /// xls formula cells whose text result is not stored in the file: the formula makes text
    /// (it concatenates with `&`), but the stored result is a number. LibreOffice writes these
    /// when it converts an xlsx to xls without recalculating (issue 15, case 14); no reader
    /// can show their text. 0 for every other format.
    pub formulas_without_text: usize,
}

impl Grid {
    /// The text of a cell, "" when it is outside the filled area.
    pub fn cell(&self, row: u32, col: u32) -> &str {
        self.rows
            .get(row as usize)
            .and_then(|r| r.get(col as usize))
            .map_or("", String::as_str)
    }

    /// Number of rows, as a row index bound.
    fn height(&self) -> u32 {
        u32::try_from(self.rows.len()).unwrap_or(u32::MAX)
    }

    /// Width of the widest row.
    fn width(&self) -> u32 {
        let w = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        u32::try_from(w).unwrap_or(u32::MAX)
    }
}

/// A list validation (dropdown) on a sheet, as the xlsx writer module reads it. 0-based inclusive.
#[derive(Debug, Clone, PartialEq)]
pub struct ListValidation {
    pub first_row: u32,
    pub first_col: u32,
    pub last_row: u32,
    pub last_col: u32,
    pub choices: Vec<String>,
}

/// Command-line overrides (`--sheet`, `--question-col`, `--answer-col`, `--comment-col`,
/// `--header-row`). Columns and rows are 0-based.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// When non-empty, only these sheets are considered (case-insensitive), hidden or not.
    pub sheets: Vec<String>,
    pub question_col: Option<u32>,
    pub answer_col: Option<u32>,
    pub comment_col: Option<u32>,
    pub header_row: Option<u32>,
}

/// What [`detect`] found on one sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub sheet: String,
    /// The first header row of the question table, if the sheet has one.
    pub header_row: Option<u32>,
    pub question_col: u32,
    pub answer_col: Option<u32>,
    pub comment_col: Option<u32>,
    pub id_col: Option<u32>,
    /// The choices of the answer column's dropdown, as the sheet spells them; empty if none.
    pub answer_choices: Vec<String>,
    pub questions: Vec<QuestionRow>,
    /// An `--answer-col`/`--comment-col` that names the question or id column: writing there
    /// would destroy what the customer's sheet needs, so filling refuses (see `fill`).
    pub override_conflict: Option<String>,
}

/// One question of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionRow {
    /// 0-based row.
    pub row: u32,
    /// The questionnaire's own id (from the id column), if any.
    pub id: Option<String>,
    /// The question cell, trimmed.
    pub text: String,
    /// The existing answer cell, trimmed; "" if empty or there is no answer column.
    pub answer: String,
    /// The existing comment cell, trimmed; "" if empty or there is no comment column.
    pub comment: String,
    /// What the answer field takes (set by [`crate::fields`] once the layout is known).
    pub field: crate::fields::Field,
    /// The section it is asked under: its row's cell in a section column, else the nearest
    /// section title or repeated section header above it, below the table's header.
    pub section: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Cells (filled or only styled) streamed from one xlsx/xlsb sheet before giving up; bounds the
/// time a sheet of empty styled cells can take.
const MAX_SCANNED_CELLS: usize = 20_000_000;
/// xlsx sheets with more filled cells than this are not scanned a second time for merges.
const MERGE_SCAN_MAX_CELLS: u64 = 200_000;
/// Excel's grid; a cell beyond it means a malformed file, whatever the limits.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLS: u32 = 16_384;

/// Reads every worksheet of an xlsx/xlsm/xls/xlsb/ods workbook, or a csv/tsv as one grid named
/// after the file stem. Errors name the file: "could not read `path`: <reason>". A zip package
/// passes [`guard::check_package`], an xls [`biff::check_xls`], before calamine opens it; every
/// reader stops at `limits`.
pub fn read(path: &Path, limits: &Limits) -> anyhow::Result<Vec<Grid>> {
    // Only a regular file is opened here: opening a FIFO blocks (read_any says what it is).
    let sniffed = std::fs::metadata(path)
        .is_ok_and(|m| m.is_file())
        .then(|| sniff_container(path));
    match sniffed {
        Some(Ok(Container::Zip | Container::Ods)) => guard::check_package(path, limits)?,
        Some(Ok(Container::Ole(_))) => biff::check_xls(path, limits)?,
        _ => {}
    }
    read_any(path, sniffed, limits)
        .map_err(|reason| anyhow!("could not read `{}`: {reason}", path.display()))
}

/// What the file is, from its content (extensions lie: customers rename files).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Container {
    /// A zip package that is not an OpenDocument one: xlsx, xlsm or xlsb.
    Zip,
    /// A zip package whose `mimetype` says OpenDocument spreadsheet.
    Ods,
    /// An OLE2 compound file, by the streams it holds.
    Ole(OleKind),
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum OleKind {
    /// A legacy .xls: a `Workbook` (BIFF8) or `Book` (BIFF5) stream.
    Xls,
    /// An xlsx/xlsm/xlsb encrypted with a password: an `EncryptedPackage` stream.
    Encrypted,
    /// Neither (a .doc, a .msg, ...).
    Unknown,
}

/// `sniffed`: what [`read`] found the file to be, so the content (an OLE2 directory scan for
/// xls) is sniffed once.
fn read_any(
    path: &Path,
    sniffed: Option<Result<Container, String>>,
    limits: &Limits,
) -> Result<Vec<Grid>, String> {
    // Metadata before opening: opening a FIFO blocks until someone writes to it.
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a directory, not a questionnaire file".into());
    }
    if !meta.is_file() {
        return Err(
            "it is not a regular file (a pipe, socket or device); save the questionnaire \
             to a file and give that file"
                .into(),
        );
    }
    if meta.len() == 0 {
        return Err("the file is empty".into());
    }
    let size = meta.len();
    limits
        .check("input_bytes", size)
        .map_err(|e| format!("the file is {size} bytes, which {e}"))?;
    let mut budget = Budget::new(limits);
    let budget = &mut budget;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let text = match ext.as_str() {
        "csv" | "txt" => Some("csv"),
        "tsv" | "tab" => Some("tsv"),
        _ => None,
    };
    let container = sniffed.unwrap_or_else(|| sniff_container(path))?;
    if let Some(text) = text {
        return match container {
            Container::Other if text == "tsv" => read_delimited(path, Some(b'\t'), budget),
            Container::Other => read_delimited(path, None, budget),
            Container::Zip => Err(format!(
                "it is an xlsx workbook (zip package), not {text} text; rename it to .xlsx"
            )),
            Container::Ods => Err(format!(
                "it is an OpenDocument spreadsheet (zip package), not {text} text; \
                 rename it to .ods"
            )),
            Container::Ole(OleKind::Xls) => Err(format!(
                "it is a legacy Excel .xls workbook, not {text} text; rename it to .xls"
            )),
            Container::Ole(OleKind::Encrypted) => Err(format!(
                "it is an encrypted (password-protected) workbook, not {text} text; \
                 save an unprotected copy as xlsx and try again"
            )),
            Container::Ole(OleKind::Unknown) => Err(format!(
                "it is an OLE2 compound file (such as a Word document), not {text} text; \
                 export the questionnaire as xlsx or csv"
            )),
        };
    }
    match (container, ext.as_str()) {
        (Container::Ods, "ods") => guarded(|| read_ods(path, budget)),
        (Container::Ods, _) => Err(format!(
            "it is an OpenDocument spreadsheet named .{ext}; rename it to .ods"
        )),
        (Container::Zip, "ods") => Err(
            "it is not an OpenDocument spreadsheet (its zip has no spreadsheet `mimetype`); \
             if it is an xlsx workbook, rename it to .xlsx"
                .into(),
        ),
        (Container::Zip, "xlsb") => guarded(|| read_xlsb(path, budget)),
        (Container::Zip, _) => guarded(|| read_xlsx(path, budget)),
        (Container::Ole(_), "xls") => guarded(|| read_xls(path, budget)),
        (Container::Ole(OleKind::Xls), _) => Err(format!(
            "it is a legacy .xls workbook named .{ext}; rename it to .xls"
        )),
        (Container::Ole(OleKind::Encrypted), _) => Err(
            "the workbook is encrypted (password-protected); save an unprotected copy and try again"
                .into(),
        ),
        (Container::Ole(OleKind::Unknown), _) => Err(
            "it is an OLE2 compound file holding no workbook (such as a Word document); \
             export the questionnaire as xlsx or csv"
                .into(),
        ),
        (Container::Other, "xlsx" | "xlsm" | "xlsb" | "xls" | "ods") => Err(format!(
            "the file is not a .{ext} workbook (no spreadsheet signature); \
             open it in a spreadsheet program and save it as xlsx"
        )),
        (Container::Other, _) => Err(format!(
            "unsupported file type `.{ext}`; expected xlsx, xlsm, xls, xlsb, ods, csv or tsv"
        )),
    }
}

/// The OpenDocument `mimetype` entry: first in the package and stored uncompressed, so it is
/// read from the local header without a zip library.
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// Runs a calamine reader, a panic inside it becoming a reason: the last line of defence.
/// calamine trusts parts of a workbook (it multiplies a cell reference such as `A1` into a
/// `u32` unchecked, so `<c r="Awwwwwwww"/>` panics wherever overflow checks are on; found by
/// `fuzz/`, kept in `fuzz/regressions/`). The guard refuses the cases found; anything else
/// is still an error naming the file, never a crash.
fn guarded(read: impl FnOnce() -> Result<Vec<Grid>, String>) -> Result<Vec<Grid>, String> {
    // A failed read leaves nothing behind: the budget it counted into is dropped with it.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err("the workbook is malformed: the spreadsheet reader failed on it".into())
    })
}

fn sniff_container(path: &Path) -> Result<Container, String> {
    let mut head = [0u8; 128];
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]).map_err(|e| e.to_string())? {
            0 => break,
            read => n += read,
        }
    }
    let head = &head[..n];
    Ok(match head {
        [b'P', b'K', 3, 4, ..] => {
            // Local file header: name length at 26, extra length at 28, name at 30.
            let u16_at = |i: usize| {
                head.get(i..i + 2)
                    .map(|b| usize::from(b[0]) | usize::from(b[1]) << 8)
            };
            let ods = match (u16_at(26), u16_at(28)) {
                (Some(name), Some(extra)) => {
                    head.get(30..30 + name) == Some(b"mimetype".as_slice())
                        && head
                            .get(30 + name + extra..)
                            .is_some_and(|data| data.starts_with(ODS_MIMETYPE))
                }
                _ => false,
            };
            if ods { Container::Ods } else { Container::Zip }
        }
        [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, ..] => {
            Container::Ole(ole_kind(BufReader::new(file))?)
        }
        _ => Container::Other,
    })
}

/// Which streams an OLE2 file holds, from its directory entries: 128-byte records at 128-byte
/// offsets, each starting with the UTF-16LE name, its byte length (terminator included) at 64
/// and the object type at 66 (2 = stream). Scanning every aligned record instead of following
/// the sector chains is simpler and bounded by the file size, which the caller limits.
fn ole_kind(mut rest: impl Read) -> Result<OleKind, String> {
    // The first 128 bytes, already read, are the header: no directory entry.
    let mut record = [0u8; 128];
    loop {
        match rest.read_exact(&mut record) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(OleKind::Unknown);
            }
            Err(e) => return Err(e.to_string()),
        }
        let len = usize::from(u16::from_le_bytes([record[64], record[65]]));
        if record[66] != 2 || !(4..=64).contains(&len) || len % 2 != 0 {
            continue;
        }
        let units: Vec<u16> = record[..len - 2]
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        let name = String::from_utf16_lossy(&units);
        // Names compare case-insensitively (some writers spell it `WORKBOOK`); the first found
        // decides: an xls holds no encrypted package, and an encrypted package no workbook.
        if name.eq_ignore_ascii_case("EncryptedPackage") {
            return Ok(OleKind::Encrypted);
        }
        if name.eq_ignore_ascii_case("Workbook") || name.eq_ignore_ascii_case("Book") {
            return Ok(OleKind::Xls);
        }
    }
}

/// Turns a calamine error into a reason a sales engineer can act on.
fn explain(err: impl std::fmt::Display) -> String {
    let text = err.to_string();
    if text.to_ascii_lowercase().contains("password") {
        "the workbook is password-protected; save an unprotected copy and try again".into()
    } else {
        format!("{text} (the file may be damaged; open and re-save it in a spreadsheet program)")
    }
}

/// Worksheets only: chart and dialog sheets hold no cells to answer in.
fn worksheets(meta: &[calamine::Sheet]) -> Vec<(String, bool)> {
    meta.iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| (s.name.clone(), s.visible != SheetVisible::Visible))
        .collect()
}

fn read_xlsx(path: &Path, budget: &mut Budget) -> Result<Vec<Grid>, String> {
    let mut wb: Xlsx<BufReader<File>> = calamine::open_workbook(path).map_err(explain)?;
    let mut grids = Vec::new();
    for (name, hidden) in worksheets(wb.sheets_metadata()) {
        let mut builder = GridBuilder::new(&name, budget);
        let mut cells = wb
            .worksheet_cells_reader(&name)
            .map_err(|e| sheet_error(&name, e))?;
        stream_cells(&mut builder, || cells.next_cell())?;
        drop(cells);
        // Merges only help detection, and calamine finds them by parsing the sheet a second
        // time: skipped for sheets too big to be a questionnaire, and a sheet whose merge list
        // cannot be read is still usable.
        let merged = if builder.filled <= MERGE_SCAN_MAX_CELLS {
            wb.merge_cells_by_sheet_name(&name).unwrap_or_default()
        } else {
            Vec::new()
        };
        grids.push(builder.finish(hidden, merged_tuples(&merged)));
    }
    Ok(grids)
}

fn read_xlsb(path: &Path, budget: &mut Budget) -> Result<Vec<Grid>, String> {
    let mut wb: Xlsb<BufReader<File>> = calamine::open_workbook(path).map_err(explain)?;
    let mut grids = Vec::new();
    for (name, hidden) in worksheets(wb.sheets_metadata()) {
        let mut builder = GridBuilder::new(&name, budget);
        let mut cells = wb
            .worksheet_cells_reader(&name)
            .map_err(|e| sheet_error(&name, e))?;
        stream_cells(&mut builder, || cells.next_cell())?;
        drop(cells);
        grids.push(builder.finish(hidden, Vec::new()));
    }
    Ok(grids)
}

fn read_xls(path: &Path, budget: &mut Budget) -> Result<Vec<Grid>, String> {
    let mut wb: Xls<BufReader<File>> = calamine::open_workbook(path).map_err(explain)?;
    let mut grids = Vec::new();
    for (name, hidden) in worksheets(wb.sheets_metadata()) {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| sheet_error(&name, e))?;
        let merged = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
        let mut grid = grid_from_range(budget, &name, hidden, &range, merged_tuples(&merged))?;
        // The formulas were parsed with the sheet; a sheet whose formulas cannot be listed
        // is read as it is.
        if let Ok(formulas) = wb.worksheet_formula(&name) {
            grid.formulas_without_text = formulas_without_text(&range, &formulas);
        }
        grids.push(grid);
    }
    Ok(grids)
}

/// Formula cells that make text (`&` outside a string literal) but hold a number, or nothing.
fn formulas_without_text(values: &Range<Data>, formulas: &Range<String>) -> usize {
    let (row0, col0) = formulas.start().unwrap_or((0, 0));
    formulas
        .used_cells()
        .filter(|(_, _, formula)| concatenates(formula))
        .filter(|(r, c, _)| {
            let at = (
                row0.saturating_add(u32::try_from(*r).unwrap_or(u32::MAX)),
                col0.saturating_add(u32::try_from(*c).unwrap_or(u32::MAX)),
            );
            matches!(
                values.get_value(at),
                None | Some(Data::Empty | Data::Float(_) | Data::Int(_))
            )
        })
        .count()
}

/// Whether a formula uses the `&` operator (not a `&` inside a "string").
fn concatenates(formula: &str) -> bool {
    formula
        .split('"')
        .step_by(2)
        .any(|outside| outside.contains('&'))
}

/// Ods: calamine itself refuses sheets over 100 million cells (issue 594), so the range is
/// bounded before it reaches us.
fn read_ods(path: &Path, budget: &mut Budget) -> Result<Vec<Grid>, String> {
    let mut wb: Ods<BufReader<File>> = calamine::open_workbook(path).map_err(explain)?;
    let mut grids = Vec::new();
    for (name, hidden) in worksheets(wb.sheets_metadata()) {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| sheet_error(&name, e))?;
        grids.push(grid_from_range(budget, &name, hidden, &range, Vec::new())?);
    }
    Ok(grids)
}

/// Feeds a streaming cell reader (xlsx, xlsb) into the builder. Streaming, rather than
/// calamine's `worksheet_range`, keeps memory to the filled cells: a range is allocated as the
/// full rectangle, which one stray cell at XFD1048576 turns into gigabytes.
fn stream_cells<'a, E: std::fmt::Display>(
    builder: &mut GridBuilder,
    mut next: impl FnMut() -> Result<Option<calamine::Cell<DataRef<'a>>>, E>,
) -> Result<(), String> {
    while let Some(cell) = next().map_err(|e| sheet_error(&builder.name, e))? {
        let (row, col) = cell.get_position();
        builder.put(row, col, cell_text(Data::from(cell.get_value().clone())))?;
    }
    Ok(())
}

fn sheet_error(sheet: &str, err: impl std::fmt::Display) -> String {
    format!("sheet `{sheet}`: {}", explain(err))
}

fn grid_from_range(
    budget: &mut Budget,
    name: &str,
    hidden: bool,
    range: &Range<Data>,
    merged: Vec<(u32, u32, u32, u32)>,
) -> Result<Grid, String> {
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let mut builder = GridBuilder::new(name, budget);
    for (r, c, value) in range.used_cells() {
        // used_cells positions are relative to the range start.
        let row = row0.saturating_add(u32::try_from(r).unwrap_or(u32::MAX));
        let col = col0.saturating_add(u32::try_from(c).unwrap_or(u32::MAX));
        builder.put(row, col, cell_text(value.clone()))?;
    }
    Ok(builder.finish(hidden, merged))
}

/// Merges in row-major order, so that a grid does not depend on the file's ordering.
fn merged_tuples(dims: &[calamine::Dimensions]) -> Vec<(u32, u32, u32, u32)> {
    let mut merged: Vec<_> = dims
        .iter()
        .map(|d| (d.start.0, d.start.1, d.end.0, d.end.1))
        .collect();
    merged.sort_unstable();
    merged
}

/// What one questionnaire may still hold: the limits, and what its sheets hold so far.
struct Budget {
    limits: Limits,
    /// Cells held: filled ones and the empty ones left of them.
    cells: u64,
    text_bytes: u64,
}

impl Budget {
    fn new(limits: &Limits) -> Self {
        Budget {
            limits: *limits,
            cells: 0,
            text_bytes: 0,
        }
    }
}

/// Collects cells into ragged rows, refusing sheets past the limits.
struct GridBuilder<'a> {
    name: String,
    rows: Vec<Vec<String>>,
    filled: u64,
    scanned: usize,
    budget: &'a mut Budget,
}

impl<'a> GridBuilder<'a> {
    fn new(name: &str, budget: &'a mut Budget) -> Self {
        GridBuilder {
            name: name.to_string(),
            rows: Vec::new(),
            filled: 0,
            scanned: 0,
            budget,
        }
    }

    fn put(&mut self, row: u32, col: u32, text: String) -> Result<(), String> {
        self.scanned += 1;
        if self.scanned > MAX_SCANNED_CELLS {
            return Err(format!(
                "sheet `{}` has more than {MAX_SCANNED_CELLS} cells; it is not a questionnaire \
                 (copy the question sheet into a new workbook and try again)",
                self.name
            ));
        }
        if text.is_empty() {
            return Ok(());
        }
        if row >= MAX_ROWS || col >= MAX_COLS {
            return Err(format!(
                "sheet `{}` has a cell at row {}, column {}, beyond the spreadsheet limits \
                 (1048576 rows, 16384 columns)",
                self.name,
                u64::from(row) + 1,
                u64::from(col) + 1
            ));
        }
        let limits = self.budget.limits;
        let name = &self.name;
        let number = u64::from(row) + 1;
        limits
            .check("rows", number)
            .map_err(|e| format!("sheet `{name}` has a value in row {number}, which {e}"))?;
        let chars = text.chars().count() as u64;
        limits.check("cell_chars", chars).map_err(|e| {
            format!(
                "sheet `{name}` has a cell of {chars} characters at row {number}, column {}, \
                 which {e}",
                u64::from(col) + 1
            )
        })?;
        let (row, col) = (row as usize, col as usize);
        let held = self.rows.get(row).map_or(0, Vec::len);
        let added = (col + 1).saturating_sub(held) as u64;
        self.budget.cells = self.budget.cells.saturating_add(added);
        limits.check("cells", self.budget.cells).map_err(|e| {
            format!(
                "the workbook holds more than {} cells (sheet `{name}`; empty cells left of \
                 filled ones counted), which {e}",
                limits.cells
            )
        })?;
        self.budget.text_bytes = self.budget.text_bytes.saturating_add(text.len() as u64);
        limits.check("text_bytes", self.budget.text_bytes).map_err(|e| {
            format!(
                "the workbook holds more than {} bytes of cell text (sheet `{name}`), which {e}",
                limits.text_bytes
            )
        })?;
        self.filled += 1;
        if self.rows.len() <= row {
            self.rows.resize_with(row + 1, Vec::new);
        }
        let cells = &mut self.rows[row];
        if cells.len() <= col {
            cells.resize_with(col + 1, String::new);
        }
        cells[col] = text;
        Ok(())
    }

    fn finish(self, hidden: bool, merged: Vec<(u32, u32, u32, u32)>) -> Grid {
        Grid {
            name: self.name,
            hidden,
            rows: self.rows,
            merged,
            delimiter: None,
            formulas_without_text: 0,
        }
    }
}

/// A cell as the customer sees it (modulo number formats, which calamine does not apply).
fn cell_text(value: Data) -> String {
    match value {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(f),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s,
        Data::Bool(b) => if b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => format_datetime(&dt),
        Data::DateTime(dt) => format_duration(dt.as_f64()),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    }
}

/// Whole numbers without ".0"; others to 15 significant digits, as Excel keeps them, so that
/// 0.1 + 0.2 reads "0.3".
fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let magnitude = v.abs();
    if !(1e-6..1e15).contains(&magnitude) {
        return v.to_string();
    }
    let decimals = (14 - magnitude.log10().floor() as i32).clamp(0, 20) as usize;
    let text = format!("{v:.decimals$}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

fn format_datetime(dt: &calamine::ExcelDateTime) -> String {
    let (y, mo, d, h, mi, s, _ms) = dt.to_ymd_hms_milli();
    if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else if dt.as_f64() < 1.0 {
        // A bare time of day: the serial has no date part.
        format!("{h:02}:{mi:02}:{s:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// `[h]:mm:ss` durations: hours keep counting past a day, as Excel shows them.
fn format_duration(days: f64) -> String {
    if !days.is_finite() || days.abs() > 1e9 {
        return format_number(days);
    }
    let total = (days * 86_400.0).round() as i64;
    let sign = if total < 0 { "-" } else { "" };
    let total = total.abs();
    format!(
        "{sign}{}:{:02}:{:02}",
        total / 3600,
        total % 3600 / 60,
        total % 60
    )
}

/// csv (delimiter sniffed when `delimiter` is None) or tsv: one grid named after the file stem.
/// The text is read by [`delimited::parse`], which `workbook::write_delimited` uses again to
/// write the file back in its own encoding.
fn read_delimited(
    path: &Path,
    delimiter: Option<u8>,
    budget: &mut Budget,
) -> Result<Vec<Grid>, String> {
    // The size was checked against input_bytes before.
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let parsed = delimited::parse(&bytes, delimiter)?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut builder = GridBuilder::new(&name, budget);
    for (row, fields) in parsed.rows.into_iter().enumerate() {
        let row = u32::try_from(row).unwrap_or(u32::MAX);
        for (col, field) in fields.into_iter().enumerate() {
            let col = u32::try_from(col).unwrap_or(u32::MAX);
            builder.put(row, col, field.text)?;
        }
    }
    let mut grid = builder.finish(false, Vec::new());
    grid.delimiter = Some(parsed.delimiter);
    Ok(vec![grid])
}

// ---------------------------------------------------------------------------------------------
// Column letters

/// "A" = 0, "Z" = 25, "AA" = 26; case-insensitive; None for anything but letters or past XFD.
pub fn col_index(letters: &str) -> Option<u32> {
    let letters = letters.trim();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut n: u32 = 0;
    for ch in letters.chars() {
        if !ch.is_ascii_alphabetic() {
            return None;
        }
        n = n * 26 + (ch.to_ascii_uppercase() as u32 - 'A' as u32 + 1);
    }
    (n <= MAX_COLS).then(|| n - 1)
}

/// 0 = "A", 26 = "AA".
pub fn col_letters(idx: u32) -> String {
    let mut n = u64::from(idx) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

// ---------------------------------------------------------------------------------------------
// Detection

/// Header rows are looked for in this many first rows: title blocks, logos and instructions
/// rarely take more.
const HEADER_SCAN_ROWS: u32 = 40;
/// A row needs this score to count as a header row at all (one strong word such as "Answer" is
/// 3, plus 2 for each distinct role).
const MIN_HEADER_SCORE: u32 = 5;

/// Finds the layout of one sheet, or None when it holds no questionnaire.
pub fn detect(
    grid: &Grid,
    validations: &[ListValidation],
    overrides: &Overrides,
) -> Option<Layout> {
    let named = overrides
        .sheets
        .iter()
        .any(|s| s.trim().eq_ignore_ascii_case(grid.name.trim()));
    if !overrides.sheets.is_empty() && !named {
        return None;
    }
    if !named && (grid.hidden || is_reviewer_sheet_name(&grid.name)) {
        return None;
    }
    let best_header = overrides.header_row.or_else(|| find_header_row(grid));
    let headers = header_cells(grid, best_header, overrides.header_row.is_some());
    if !named && headers.iter().filter(|h| h.reviewer).count() >= 3 {
        // Scoring and evaluation sheets: they restate the questions for the customer's
        // analysts; the supplier answers elsewhere.
        return None;
    }
    let data_start = best_header.map_or(0, |h| h.saturating_add(1));
    let stats = column_stats(grid, data_start);
    let cols = Columns::new(&headers, &stats);
    let question_col = overrides.question_col.or_else(|| cols.question(named))?;
    let detected_id = cols.id(question_col, grid, data_start);
    let override_conflict = [
        ("--answer-col", overrides.answer_col),
        ("--comment-col", overrides.comment_col),
    ]
    .into_iter()
    .find_map(|(flag, col)| {
        let col = col?;
        let role = if col == question_col {
            "the question column"
        } else if Some(col) == detected_id {
            "the id column"
        } else {
            return None;
        };
        Some(format!(
            "sheet `{}`: {flag} {} is {role}; writing answers there would overwrite it: name \
             an empty column",
            grid.name,
            col_letters(col)
        ))
    });
    let id_col = detected_id
        .filter(|&c| Some(c) != overrides.answer_col && Some(c) != overrides.comment_col);
    let answer_col = overrides
        .answer_col
        .or_else(|| cols.answer(question_col, id_col, validations, data_start, grid.height()));
    let comment_col = overrides
        .comment_col
        .or_else(|| cols.comment(question_col, id_col, answer_col));
    let header_row = match (overrides.header_row, best_header) {
        (Some(h), _) => Some(h),
        (None, Some(best)) => Some(first_header_row(grid, best, question_col, answer_col)),
        (None, None) => None,
    };
    let mut layout = Layout {
        sheet: grid.name.clone(),
        header_row,
        question_col,
        answer_col,
        comment_col,
        id_col,
        answer_choices: Vec::new(),
        questions: Vec::new(),
        override_conflict,
    };
    layout.questions = question_rows(grid, &layout);
    layout.answer_choices = answer_choices(&layout, validations);
    (named || !layout.questions.is_empty()).then_some(layout)
}

/// Why the command-line overrides cannot work on these grids, in words that say what to pass
/// instead: a `--sheet` the file does not have (its sheets listed), a `--header-row` past the
/// end of every sheet considered (their row counts), and, when no questions were found
/// (`found_questions` false), a `--question-col` with no questions (the nearest column that
/// has some). None when the overrides fit.
pub fn override_problem(
    grids: &[Grid],
    overrides: &Overrides,
    found_questions: bool,
) -> Option<String> {
    let has = |name: &str| {
        grids
            .iter()
            .any(|g| g.name.trim().eq_ignore_ascii_case(name.trim()))
    };
    if let Some(missing) = overrides.sheets.iter().find(|s| !has(s)) {
        let names: Vec<String> = grids
            .iter()
            .map(|g| {
                let hidden = if g.hidden { " (hidden)" } else { "" };
                format!("`{}`{hidden}", g.name)
            })
            .collect();
        return Some(format!(
            "--sheet `{missing}`: the file has no such sheet; its sheets are {}",
            names.join(", ")
        ));
    }
    let considered: Vec<&Grid> = grids
        .iter()
        .filter(|g| {
            if overrides.sheets.is_empty() {
                !g.hidden
            } else {
                overrides
                    .sheets
                    .iter()
                    .any(|s| s.trim().eq_ignore_ascii_case(g.name.trim()))
            }
        })
        .collect();
    if let Some(header) = overrides.header_row
        && !considered.is_empty()
        && considered.iter().all(|g| header >= g.height())
    {
        let sizes: Vec<String> = considered
            .iter()
            .map(|g| format!("sheet `{}` has {} rows", g.name, g.height()))
            .collect();
        return Some(format!(
            "--header-row {} is past the last row: {}",
            header + 1,
            sizes.join(", ")
        ));
    }
    if found_questions {
        return None;
    }
    let col = overrides.question_col?;
    let start = overrides.header_row.map_or(0, |h| h.saturating_add(1));
    let clauses: Vec<String> = considered
        .iter()
        .map(|grid| {
            let mut counts = vec![0usize; grid.width() as usize];
            for row in grid.rows.iter().skip(start as usize) {
                for (c, text) in row.iter().enumerate() {
                    if is_question_like(text) {
                        counts[c] += 1;
                    }
                }
            }
            // Nearest first; between two as near, the one with more questions, then the left.
            let nearest = (0..grid.width())
                .filter(|&c| counts[c as usize] > 0)
                .min_by_key(|&c| (c.abs_diff(col), std::cmp::Reverse(counts[c as usize]), c));
            match nearest {
                Some(c) => format!(
                    "column {} of sheet `{}` holds no questions; the nearest column that does is \
                     {} ({}): pass --question-col {}",
                    col_letters(col),
                    grid.name,
                    col_letters(c),
                    match counts[c as usize] {
                        1 => "1 cell reads as a question".to_string(),
                        n => format!("{n} cells read as questions"),
                    },
                    col_letters(c)
                ),
                None => format!(
                    "column {} of sheet `{}` holds no questions, nor does any other column",
                    col_letters(col),
                    grid.name
                ),
            }
        })
        .collect();
    (!clauses.is_empty()).then(|| {
        format!(
            "--question-col {}: {}",
            col_letters(col),
            clauses.join("; ")
        )
    })
}

/// Sheets that belong to the reviewer, not the respondent (HECVAT's "Institution Evaluation",
/// "Analyst Reference", "(backend scoring)"); `--sheet` still reaches them.
fn is_reviewer_sheet_name(name: &str) -> bool {
    const HINTS: [&str; 10] = [
        "analyst",
        "evaluation",
        "scoring",
        "scorecard",
        "backend",
        "back-end",
        "lookup",
        "look-up",
        "dropdown",
        "helper",
    ];
    let name = name.to_lowercase();
    HINTS.iter().any(|h| name.contains(h))
}

// ----- text tests ------------------------------------------------------------------------------

/// Lower-case words of a cell; `#` kept as a word because "#" and "Q #" are id headers.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '#'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// First words of requests and questions. "please" covers "Please describe ...".
const QUESTION_STARTS: [&str; 45] = [
    "describe",
    "explain",
    "provide",
    "list",
    "detail",
    "specify",
    "identify",
    "indicate",
    "state",
    "outline",
    "confirm",
    "summarize",
    "summarise",
    "share",
    "attach",
    "upload",
    "please",
    "do",
    "does",
    "did",
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "can",
    "could",
    "will",
    "would",
    "should",
    "shall",
    "may",
    "how",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "if",
    "include",
    "enter",
    "name",
];

/// A cell reads as a question or a requirement to respond to.
fn is_question_like(text: &str) -> bool {
    let text = text.trim();
    if text.chars().count() < 8 || !text.chars().any(char::is_alphabetic) {
        return false;
    }
    if text.contains('?') {
        return true;
    }
    // Whitespace words: "WILL_NEVER_IMPLEMENT" is one token, not a question.
    if text.split_whitespace().count() < 3 {
        return false;
    }
    let words = words(text);
    // Skip inline numbering ("1.2 Describe ...", "a) Do you ...").
    let first = words
        .iter()
        .find(|w| !(w.chars().any(|c| c.is_ascii_digit()) || w.len() == 1))
        .map_or("", String::as_str);
    if QUESTION_STARTS.contains(&first) {
        return true;
    }
    // Requirement statements ("The supplier shall encrypt ...").
    words.len() >= 5 && words.iter().any(|w| w == "shall" || w == "must")
}

/// "GNRL-01", "AIS-01.1", "A.5.1", "12", "Q3": short, with a digit, no prose.
fn is_id_like(text: &str) -> bool {
    let text = text.trim();
    let len = text.chars().count();
    (1..=24).contains(&len)
        && text.chars().any(|c| c.is_ascii_digit())
        && text.split_whitespace().count() <= 2
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || ".-_/()#: ".contains(c))
}

/// Ids of section rows: "1", "1.0", "2.", "A", "IV".
fn is_section_id(text: &str) -> bool {
    let text = text.trim().trim_end_matches('.');
    if text.is_empty() {
        return false;
    }
    let numeric = match text.split_once('.') {
        Some((whole, zeros)) => {
            whole.chars().all(|c| c.is_ascii_digit()) && zeros.chars().all(|c| c == '0')
        }
        None => text.chars().all(|c| c.is_ascii_digit()),
    };
    let letter = text.len() == 1 && text.chars().all(|c| c.is_ascii_alphabetic());
    let roman = text.len() <= 4 && text.chars().all(|c| "IVX".contains(c));
    (numeric && !text.starts_with('.')) || letter || roman
}

/// Answer values: what a Yes/No column holds once answered.
fn is_choice_value(text: &str) -> bool {
    const CHOICES: [&str; 22] = [
        "yes",
        "no",
        "n/a",
        "na",
        "not applicable",
        "y",
        "n",
        "true",
        "false",
        "partial",
        "partially",
        "compliant",
        "non-compliant",
        "not compliant",
        "partially compliant",
        "implemented",
        "not implemented",
        "partially implemented",
        "planned",
        "in progress",
        "tbd",
        "x",
    ];
    let text = text.trim().trim_end_matches('.').to_lowercase();
    CHOICES.contains(&text.as_str())
}

/// Instruction and boilerplate lines that sit in the question column.
fn is_instruction(text: &str) -> bool {
    const STARTS: [&str; 24] = [
        "note:",
        "note -",
        "notes:",
        "instruction",
        "please note",
        "please read",
        "please complete",
        "please answer",
        "please fill",
        "please ensure",
        "please return",
        "copyright",
        "©",
        "(c) ",
        "for full instructions",
        "* denotes",
        "*denotes",
        "end of ",
        "end table",
        "cells contained",
        "this section",
        "this worksheet",
        "this questionnaire",
        "return the completed",
    ];
    let text = text.trim().to_lowercase();
    STARTS.iter().any(|s| text.starts_with(s))
}

// ----- header cells ------------------------------------------------------------------------------

/// What a header cell says about its column. Weights: 3 strong ("Question", "Answer",
/// "Comments", "ID"), 2 clear, 1 weak ("Description", "Status").
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct HeaderCell {
    question: u8,
    answer: u8,
    comment: u8,
    id: u8,
    /// A known header that is none of the four (guidance, section, analyst notes, score ...):
    /// it marks a header row but its column is never written to.
    other: bool,
    /// Reviewer-side columns (scores, overrides, importance): three of them mark a scoring sheet.
    reviewer: bool,
    /// The header cell has any text at all.
    labelled: bool,
}

impl HeaderCell {
    fn is_known(&self) -> bool {
        self.other || self.role_weight() > 0
    }

    /// Keeps the strongest label of each role seen in the column.
    fn merge(&mut self, other: HeaderCell) {
        self.question = self.question.max(other.question);
        self.answer = self.answer.max(other.answer);
        self.comment = self.comment.max(other.comment);
        self.id = self.id.max(other.id);
        self.other |= other.other;
        self.reviewer |= other.reviewer;
        self.labelled |= other.labelled;
    }

    fn role_weight(&self) -> u8 {
        self.question
            .max(self.answer)
            .max(self.comment)
            .max(self.id)
    }

    /// The column may be the question column: its header, if any, does not name another role.
    fn allows_question(&self) -> bool {
        !self.other && self.answer.max(self.comment).max(self.id) <= self.question
    }
}

fn classify_header(text: &str) -> HeaderCell {
    let text = text.trim();
    let mut cell = HeaderCell {
        labelled: !text.is_empty(),
        ..HeaderCell::default()
    };
    let w = words(text);
    // Headers are labels; a long cell or a sentence ("Explain your incident response.") is
    // content, though a short "Compliant?" is still a label.
    if w.is_empty() || w.len() > 10 || text.chars().count() > 80 {
        return cell;
    }
    if w.len() > 3 && is_question_like(text) {
        return cell;
    }
    let has = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
    cell.reviewer = has(&[
        "score",
        "scoring",
        "weight",
        "weighting",
        "importance",
        "override",
        "negotiable",
    ]) || (has(&["compliant", "expected"]) && has(&["response", "answer"]));
    cell.other = cell.reviewer
        || has(&[
            "analyst",
            "analysts",
            "reviewer",
            "assessor",
            "evaluator",
            "auditor",
            "guidance",
            "section",
            "domain",
            "category",
            "topic",
            "area",
            "framework",
            "mapping",
            "mappings",
            "mapped",
            "instructions",
            "instruction",
            "hint",
            "example",
            "examples",
            "owner",
            "ownership",
            "responsibility",
            "responsibilities",
            "assignee",
            "date",
            "priority",
            "type",
            "choices",
            "options",
            "title",
            "critical",
            "scope",
            "lite",
            "reason",
            "follow",
            "tier",
            "level",
            "version",
            "expected",
        ]);
    if cell.other {
        return cell;
    }
    cell.id = id_header_weight(&w);
    if cell.id > 0 {
        return cell;
    }
    let lower = text.to_lowercase();
    cell.answer = if has(&["answer", "answers", "response", "responses", "reply"]) {
        3
    } else if has(&["compliance", "compliant", "implemented", "selection"])
        || ["yes/no", "yes / no", "y/n", "(yes"]
            .iter()
            .any(|p| lower.contains(p))
    {
        2
    } else if has(&["status"]) {
        1
    } else {
        0
    };
    cell.comment = if has(&[
        "comment",
        "comments",
        "note",
        "notes",
        "explanation",
        "remarks",
    ]) || lower.contains("additional info")
    {
        3
    } else if has(&[
        "explain",
        "evidence",
        "justification",
        "justify",
        "detail",
        "details",
        "remark",
        "clarification",
        "rationale",
        "narrative",
        "supporting",
        "elaborate",
        "elaboration",
        "additional",
        "context",
    ]) || lower.contains("implementation description")
    {
        2
    } else {
        0
    };
    cell.question = if has(&["question", "questions"]) {
        3
    } else if has(&[
        "requirement",
        "requirements",
        "control",
        "controls",
        "criteria",
        "criterion",
        "query",
        "inquiry",
    ]) {
        2
    } else if has(&["description", "item", "statement", "text"]) {
        1
    } else {
        0
    };
    cell
}

/// "ID", "#", "Ref", "Question ID", "Control No.", "Item #", "S/N".
fn id_header_weight(w: &[String]) -> u8 {
    const WHOLE: [&str; 8] = ["id", "#", "ref", "reference", "index", "code", "qid", "key"];
    const LAST: [&str; 8] = ["id", "#", "no", "number", "num", "nr", "ref", "code"];
    if w.iter().any(|x| x == "yes") {
        // "Compliance (Yes/No)" ends in "no" but is an answer header.
        return 0;
    }
    let joined = w.join(" ");
    if w.len() == 1 && WHOLE.contains(&joined.as_str()) {
        return 3;
    }
    // A question's own id beats a control's ("Control ID" groups several questions).
    if ["s n", "sr no", "sl no", "s no"].contains(&joined.as_str()) {
        return 2;
    }
    match w.last() {
        // "No" alone is more often an answer value than a header.
        Some(last) if w.len() >= 2 && w.len() <= 3 && LAST.contains(&last.as_str()) => {
            if w.iter().any(|x| x == "question" || x == "q") {
                3
            } else {
                2
            }
        }
        _ => 0,
    }
}

/// Score of a row as a header row: strong labels, several distinct roles.
fn header_row_score(row: &[String]) -> u32 {
    let cells: Vec<HeaderCell> = row.iter().map(|t| classify_header(t)).collect();
    let role_cells = cells.iter().filter(|c| c.role_weight() > 0).count();
    let known = cells.iter().filter(|c| c.is_known()).count();
    if known == 0 || (role_cells == 0) {
        return 0;
    }
    let weights: u32 = cells
        .iter()
        .map(|c| {
            if c.other {
                1
            } else {
                u32::from(c.role_weight())
            }
        })
        .sum();
    let distinct = [
        cells.iter().any(|c| c.question >= 2),
        cells.iter().any(|c| c.answer >= 2),
        cells.iter().any(|c| c.comment >= 2),
        cells.iter().any(|c| c.id >= 2),
    ]
    .iter()
    .filter(|&&b| b)
    .count() as u32;
    weights + 2 * distinct
}

/// The best-scoring row among the first [`HEADER_SCAN_ROWS`]; the earliest of equals.
fn find_header_row(grid: &Grid) -> Option<u32> {
    let mut best: Option<(u32, u32)> = None;
    for (r, row) in grid.rows.iter().take(HEADER_SCAN_ROWS as usize).enumerate() {
        let score = header_row_score(row);
        if score >= MIN_HEADER_SCORE && best.is_none_or(|(_, s)| score > s) {
            best = Some((r as u32, score));
        }
    }
    best.map(|(r, _)| r)
}

/// Questionnaires split into sections often repeat a partial header above each section
/// (HECVAT: " General Information | Answer" then " Documentation | Answer | Additional
/// Information"). The table starts at the earliest row above the best header that labels the
/// same answer (or question) column the same way.
fn first_header_row(grid: &Grid, best: u32, question_col: u32, answer_col: Option<u32>) -> u32 {
    (0..best)
        .find(|&r| {
            let labels =
                |c: u32, role: fn(&HeaderCell) -> u8| role(&classify_header(grid.cell(r, c))) >= 2;
            let question_cell = grid.cell(r, question_col);
            match answer_col {
                Some(a) => labels(a, |h| h.answer) && !is_question_like(question_cell),
                None => labels(question_col, |h| h.question),
            }
        })
        .unwrap_or(best)
}

/// Column labels: the header row's, merged with those of the other header-like rows near the
/// top, because sectioned questionnaires spread their labels over repeated partial headers
/// (HECVAT: " Required Questions | Answer | Guidance" then "... | Answer | Additional
/// Information | Guidance"). An override header row is taken alone.
fn header_cells(grid: &Grid, header_row: Option<u32>, overridden: bool) -> Vec<HeaderCell> {
    let width = grid.width() as usize;
    let mut cells = vec![HeaderCell::default(); width];
    let Some(header_row) = header_row else {
        return cells;
    };
    let scan_end = HEADER_SCAN_ROWS.max(header_row.saturating_add(1));
    let rows = (header_row..scan_end).filter(|&r| {
        r == header_row
            || (!overridden && known_cells(grid, r) >= 2 && row_score(grid, r) >= MIN_HEADER_SCORE)
    });
    for r in rows {
        let Some(row) = grid.rows.get(r as usize) else {
            break;
        };
        for (cell, text) in cells.iter_mut().zip(row) {
            cell.merge(classify_header(text));
        }
    }
    cells
}

fn row_score(grid: &Grid, r: u32) -> u32 {
    grid.rows
        .get(r as usize)
        .map_or(0, |row| header_row_score(row))
}

fn known_cells(grid: &Grid, r: u32) -> usize {
    grid.rows.get(r as usize).map_or(0, |row| {
        row.iter().filter(|t| classify_header(t).is_known()).count()
    })
}

// ----- column statistics -------------------------------------------------------------------------

/// What a column holds below the header.
#[derive(Debug, Clone, Copy, Default)]
struct ColumnStats {
    filled: u32,
    question_like: u32,
    /// Cells of four words or more: prose, not codes or values.
    long_text: u32,
    id_like: u32,
    choice_like: u32,
}

fn column_stats(grid: &Grid, data_start: u32) -> Vec<ColumnStats> {
    let mut stats = vec![ColumnStats::default(); grid.width() as usize];
    for row in grid.rows.iter().skip(data_start as usize) {
        for (s, text) in stats.iter_mut().zip(row) {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            s.filled += 1;
            s.question_like += u32::from(is_question_like(text));
            s.long_text += u32::from(text.split_whitespace().count() >= 4);
            s.id_like += u32::from(is_id_like(text));
            s.choice_like += u32::from(is_choice_value(text));
        }
    }
    stats
}

/// Column choices from header labels and column contents.
struct Columns<'a> {
    headers: &'a [HeaderCell],
    stats: &'a [ColumnStats],
}

impl<'a> Columns<'a> {
    fn new(headers: &'a [HeaderCell], stats: &'a [ColumnStats]) -> Self {
        Columns { headers, stats }
    }

    fn header(&self, col: u32) -> HeaderCell {
        self.headers.get(col as usize).copied().unwrap_or_default()
    }

    fn stat(&self, col: u32) -> ColumnStats {
        self.stats.get(col as usize).copied().unwrap_or_default()
    }

    fn width(&self) -> u32 {
        u32::try_from(self.stats.len().max(self.headers.len())).unwrap_or(u32::MAX)
    }

    /// The column with the most question-like prose, weighted by a question header. A column
    /// counts only with enough evidence: three question-like cells, or a question header over
    /// prose; `--sheet` lowers that to any prose.
    fn question(&self, named: bool) -> Option<u32> {
        let mut best: Option<(u32, u32)> = None;
        for col in 0..self.width() {
            let (h, s) = (self.header(col), self.stat(col));
            let codes = s.id_like * 10 >= s.filled * 6 || s.choice_like * 2 >= s.filled;
            if !h.allows_question() || s.filled == 0 || codes {
                continue;
            }
            // Content alone must be a real share of the column, not a few stray sentences
            // in a column of numbers.
            let plausible = (s.question_like >= 3 && s.question_like * 4 >= s.filled)
                || (h.question >= 2 && s.question_like >= 1)
                || (h.question >= 3 && s.long_text >= 1)
                || (named && s.long_text >= 1);
            let score = (2 * s.question_like + s.long_text) * (1 + u32::from(h.question));
            if plausible && best.is_none_or(|(_, b)| score > b) {
                best = Some((col, score));
            }
        }
        best.map(|(c, _)| c)
    }

    /// An id header ("ID", "Ref", "#"), else the nearest column left of the questions whose
    /// cells beside the questions are mostly codes (HECVAT's "GNRL-01" has no header).
    fn id(&self, question_col: u32, grid: &Grid, data_start: u32) -> Option<u32> {
        let by_header = (0..self.width())
            .filter(|&c| c != question_col)
            .filter(|&c| {
                let h = self.header(c);
                h.id >= 2 && !h.other
            })
            .max_by_key(|&c| {
                (
                    self.header(c).id,
                    c < question_col,
                    u32::MAX - c.abs_diff(question_col),
                )
            });
        by_header.or_else(|| {
            // Bounded by the grid: an override may name a column far past the last cell.
            (0..question_col.min(grid.width()))
                .rev()
                .find(|&c| ids_beside_questions(grid, data_start, question_col, c))
        })
    }

    /// A header saying Answer/Response/Compliance, a list validation on the column (Yes/No
    /// lists weigh more), or Yes/No values under an unlabelled column.
    fn answer(
        &self,
        question_col: u32,
        id_col: Option<u32>,
        validations: &[ListValidation],
        data_start: u32,
        height: u32,
    ) -> Option<u32> {
        let width = self.width().max(validation_width(validations));
        let mut best: Option<(u32, (u32, bool, u32))> = None;
        for col in (0..width).filter(|&c| c != question_col && Some(c) != id_col) {
            let h = self.header(col);
            if h.other {
                continue;
            }
            let header = if h.answer >= h.comment.max(h.question).max(h.id) {
                u32::from(h.answer)
            } else {
                0
            };
            let dropdown = dropdown_weight(validations, col, data_start, height);
            let s = self.stat(col);
            // Values count only under an empty header: a labelled column ("CAIQ Lite",
            // "Applies to SaaS") holding Yes/No is a property, not the answer.
            let values = if !h.labelled && s.choice_like >= 2 && s.choice_like * 2 >= s.filled {
                2
            } else {
                0
            };
            let score = 3 * header + dropdown + values;
            // Prefer the right of the question column, then the nearest.
            let key = (
                score,
                col > question_col,
                u32::MAX - col.abs_diff(question_col),
            );
            if score > 0 && best.is_none_or(|(_, k)| key > k) {
                best = Some((col, key));
            }
        }
        best.map(|(c, _)| c)
    }

    /// A comments/notes/explanation header, the strongest; ties to the nearest right of the
    /// answer (or question) column.
    fn comment(
        &self,
        question_col: u32,
        id_col: Option<u32>,
        answer_col: Option<u32>,
    ) -> Option<u32> {
        let anchor = answer_col.unwrap_or(question_col);
        (0..self.width())
            .filter(|&c| c != question_col && Some(c) != id_col && Some(c) != answer_col)
            .filter(|&c| {
                let h = self.header(c);
                !h.other && h.comment >= 2 && h.comment >= h.question.max(h.id)
            })
            .max_by_key(|&c| {
                (
                    self.header(c).comment,
                    c > anchor,
                    u32::MAX - c.abs_diff(anchor),
                )
            })
    }
}

/// Most cells of `col` on rows with a question are codes, and there are at least two.
fn ids_beside_questions(grid: &Grid, data_start: u32, question_col: u32, col: u32) -> bool {
    let (mut rows, mut ids) = (0u32, 0u32);
    for r in data_start..grid.height() {
        if is_question_like(grid.cell(r, question_col)) {
            rows += 1;
            ids += u32::from(is_id_like(grid.cell(r, col)));
        }
    }
    ids >= 2 && ids * 2 >= rows
}

fn validation_width(validations: &[ListValidation]) -> u32 {
    validations
        .iter()
        .map(|v| v.last_col.min(MAX_COLS).saturating_add(1))
        .max()
        .unwrap_or(0)
}

/// 4 for a Yes/No-style list on the column's data rows, 2 for another list, 0 for none.
fn dropdown_weight(validations: &[ListValidation], col: u32, data_start: u32, height: u32) -> u32 {
    validations
        .iter()
        .filter(|v| v.first_col <= col && col <= v.last_col)
        .filter(|v| {
            v.last_row >= data_start && v.first_row < height.max(data_start.saturating_add(1))
        })
        .map(|v| {
            if v.choices.iter().any(|c| is_choice_value(c)) {
                4
            } else {
                2
            }
        })
        .max()
        .unwrap_or(0)
}

/// The choices of the dropdown covering most question rows of the answer column.
fn answer_choices(layout: &Layout, validations: &[ListValidation]) -> Vec<String> {
    let Some(col) = layout.answer_col else {
        return Vec::new();
    };
    validations
        .iter()
        .filter(|v| v.first_col <= col && col <= v.last_col)
        .map(|v| {
            let covered = layout
                .questions
                .iter()
                .filter(|q| v.first_row <= q.row && q.row <= v.last_row)
                .count();
            (covered, v)
        })
        .filter(|(covered, _)| *covered > 0)
        // max_by_key keeps the last of equals; reverse so the first validation wins ties.
        .rev()
        .max_by_key(|(covered, _)| *covered)
        .map(|(_, v)| v.choices.clone())
        .unwrap_or_default()
}

// ----- question rows -----------------------------------------------------------------------------

fn question_rows(grid: &Grid, layout: &Layout) -> Vec<QuestionRow> {
    let start = layout.header_row.map_or(0, |h| h.saturating_add(1));
    let rules = RowRules::new(grid, layout, start);
    let below: Vec<u32> = (start..grid.height())
        .filter(|&r| rules.is_question(r))
        .collect();
    let above = rules.rows_above_header(&below);
    let trimmed = |r: u32, col: Option<u32>| col.map_or("", |c| grid.cell(r, c).trim());
    let section_col = section_column(grid, layout);
    let headings = section_headings(&rules, start.saturating_sub(1), &below);
    above
        .into_iter()
        .chain(below)
        .map(|r| {
            let id = trimmed(r, layout.id_col);
            let section = Some(trimmed(r, section_col))
                .filter(|s| !s.is_empty())
                .or_else(|| {
                    headings
                        .iter()
                        .rev()
                        .find(|(at, _)| *at < r)
                        .map(|(_, text)| text.as_str())
                })
                .map(str::to_string);
            QuestionRow {
                row: r,
                id: (!id.is_empty()).then(|| id.to_string()),
                text: grid.cell(r, layout.question_col).trim().to_string(),
                answer: trimmed(r, layout.answer_col).to_string(),
                comment: trimmed(r, layout.comment_col).to_string(),
                field: crate::fields::Field::Unknown,
                section,
            }
        })
        .collect()
}

/// Headers of a column that names each question's section.
const SECTION_HEADERS: [&str; 6] = [
    "section",
    "category",
    "domain",
    "control domain",
    "topic",
    "area",
];

/// The column that names each question's section, if the header row has one.
fn section_column(grid: &Grid, layout: &Layout) -> Option<u32> {
    let header = layout.header_row?;
    let row = grid.rows.get(header as usize)?;
    row.iter()
        .position(|text| SECTION_HEADERS.contains(&text.trim().to_lowercase().as_str()))
        .map(|c| c as u32)
        .filter(|&c| c != layout.question_col)
}

/// Section titles and repeated section headers ("HIPAA Compliance | Answer | ...") from row
/// `from` down, with their rows: short texts in the question column that are neither a
/// question nor a header label.
fn section_headings(rules: &RowRules, from: u32, questions: &[u32]) -> Vec<(u32, String)> {
    let (grid, layout) = (rules.grid, rules.layout);
    let questions: BTreeSet<u32> = questions.iter().copied().collect();
    (from..grid.height())
        .filter(|r| !questions.contains(r))
        .filter_map(|r| {
            // HECVAT puts its section headers in the id column: "HIPAA Compliance | | Answer".
            let text = [Some(layout.question_col), layout.id_col]
                .into_iter()
                .flatten()
                .map(|c| grid.cell(r, c).trim())
                .find(|t| !t.is_empty())
                .unwrap_or("");
            let heading = !is_id_like(text)
                && !text.is_empty()
                && text.split_whitespace().count() <= 12
                && !is_question_like(text)
                && classify_header(text).question < 3
                && !layout
                    .header_row
                    .is_some_and(|h| h != r && grid.cell(h, layout.question_col).trim() == text)
                && (rules.is_section(r, text)
                    || is_repeated_header(grid, layout, r)
                    || Some(r) == layout.header_row);
            heading.then(|| (r, text.to_string()))
        })
        .collect()
}

/// Tells question rows from section titles, instructions and repeated headers on one sheet.
struct RowRules<'a> {
    grid: &'a Grid,
    layout: &'a Layout,
    /// The id column holds ids below the section level ("1.1", "GNRL-01"), so "1.0" or "2"
    /// over a non-question marks a section.
    deeper_ids: bool,
    /// Rows whose question cell is merged across the answer cell.
    merged_rows: Vec<bool>,
}

impl<'a> RowRules<'a> {
    fn new(grid: &'a Grid, layout: &'a Layout, start: u32) -> Self {
        let deeper_ids = layout.id_col.is_some_and(|c| {
            (start..grid.height()).any(|r| {
                let id = grid.cell(r, c);
                is_id_like(id) && !is_section_id(id)
            })
        });
        RowRules {
            grid,
            layout,
            deeper_ids,
            merged_rows: merged_rows(grid, layout),
        }
    }

    fn is_question(&self, r: u32) -> bool {
        let text = self.grid.cell(r, self.layout.question_col).trim();
        is_question_text(text)
            && !is_instruction(text)
            && !is_repeated_header(self.grid, self.layout, r)
            && !self.is_section(r, text)
    }

    /// Section titles: a merge across the answer cell, a short title alone on its row, or a
    /// section id ("1.0", "2", "A") over a non-question where deeper ids ("1.1") exist.
    fn is_section(&self, r: u32, text: &str) -> bool {
        let (grid, layout) = (self.grid, self.layout);
        let answer_cell = layout.answer_col.map_or("", |c| grid.cell(r, c).trim());
        if !answer_cell.is_empty() {
            // Someone answered it: a question, whatever it looks like.
            return false;
        }
        if self.merged_rows.get(r as usize).copied().unwrap_or(false) {
            return true;
        }
        let question_like = is_question_like(text);
        let alone = grid
            .rows
            .get(r as usize)
            .into_iter()
            .flatten()
            .enumerate()
            .all(|(c, t)| c as u32 == layout.question_col || t.trim().is_empty());
        let word_count = text.split_whitespace().count();
        if alone && !question_like && (word_count <= 12 || word_count > 60) {
            // Short: a section title. Very long: a paragraph of instructions.
            return true;
        }
        let id = layout.id_col.map_or("", |c| grid.cell(r, c).trim());
        self.deeper_ids && is_section_id(id) && !question_like
    }

    /// Some questionnaires open with a block of questions before their first header (HECVAT's
    /// "START HERE": GNRL-01 ... GNRL-09, then "Company Information | Answer | ..."). Rows
    /// above the header count when their id has the same shape as the ids of the questions
    /// below.
    fn rows_above_header(&self, below: &[u32]) -> Vec<u32> {
        let (Some(header), Some(id_col)) = (self.layout.header_row, self.layout.id_col) else {
            return Vec::new();
        };
        let grid = self.grid;
        let shapes: BTreeSet<String> = below
            .iter()
            .map(|&r| grid.cell(r, id_col))
            .filter(|id| is_id_like(id))
            .map(id_shape)
            .collect();
        (0..header.min(grid.height()))
            .filter(|&r| {
                let id = grid.cell(r, id_col);
                is_id_like(id) && shapes.contains(&id_shape(id))
            })
            .filter(|&r| self.is_question(r))
            .collect()
    }
}

/// Marks the rows whose question cell is part of a merge that also swallows the answer cell
/// (or, without an answer column, spans three columns or more): there is nowhere to answer on
/// such a row. A difference array keeps this linear however many merges a file declares.
fn merged_rows(grid: &Grid, layout: &Layout) -> Vec<bool> {
    let height = grid.rows.len();
    let q = layout.question_col;
    let mut delta = vec![0i64; height + 1];
    for &(r0, c0, r1, c1) in &grid.merged {
        let swallows_answer = match layout.answer_col {
            Some(a) => c0 <= a && a <= c1,
            None => c1.saturating_sub(c0) >= 2,
        };
        if c0 <= q && q <= c1 && c0 != c1 && swallows_answer && r0 <= r1 && (r0 as usize) < height {
            delta[r0 as usize] += 1;
            delta[(r1 as usize).saturating_add(1).min(height)] -= 1;
        }
    }
    let mut depth = 0;
    delta[..height]
        .iter()
        .map(|d| {
            depth += d;
            depth > 0
        })
        .collect()
}

/// "GNRL-01" -> "A-9", "AIS-01.1" -> "A-9.9", "1.2" -> "9.9": letters and digit runs folded.
fn id_shape(id: &str) -> String {
    let mut shape = String::new();
    for ch in id.trim().chars() {
        let class = if ch.is_alphabetic() {
            'A'
        } else if ch.is_ascii_digit() {
            '9'
        } else {
            ch
        };
        if !(shape.ends_with(class) && (class == 'A' || class == '9')) {
            shape.push(class);
        }
    }
    shape
}

/// Text that can be asked: a question mark or two words or more, and not an answer value
/// ("TRUE", "N/A") or a number. Single-word fields ("Website") are left out on purpose.
fn is_question_text(text: &str) -> bool {
    let wordy = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count()
        >= 2;
    text.chars().any(char::is_alphabetic) && !is_choice_value(text) && (wordy || text.contains('?'))
}

/// A header repeated inside the table (per section, or after a page break).
fn is_repeated_header(grid: &Grid, layout: &Layout, r: u32) -> bool {
    let row = grid.rows.get(r as usize).map_or(&[][..], Vec::as_slice);
    let question_cell = grid.cell(r, layout.question_col);
    let labels_question =
        classify_header(question_cell).question >= 3 && !is_question_like(question_cell);
    let labels_answer = layout
        .answer_col
        .is_some_and(|c| classify_header(grid.cell(r, c)).answer >= 2);
    labels_question || (labels_answer && header_row_score(row) >= MIN_HEADER_SCORE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_see_them() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-12.0), "-12");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(1e20), "100000000000000000000");
        assert_eq!(format_duration(10.632_060_185_185_2), "255:10:10");
    }

    #[test]
    fn overrides_that_cannot_work_say_what_would() {
        let grid = |name: &str, hidden: bool, rows: &[&[&str]]| Grid {
            name: name.into(),
            hidden,
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect(),
            ..Grid::default()
        };
        let grids = [
            grid(
                "Security",
                false,
                &[
                    &["Id", "Question", "Answer"],
                    &["1", "Do you encrypt data at rest?", ""],
                ],
            ),
            grid("Lists", true, &[&["Yes"], &["No"]]),
        ];
        let with = |o: Overrides| override_problem(&grids, &o, false);
        let sheet = with(Overrides {
            sheets: vec!["Secrity".into()],
            ..Overrides::default()
        });
        assert_eq!(
            sheet.as_deref(),
            Some(
                "--sheet `Secrity`: the file has no such sheet; its sheets are `Security`, \
                 `Lists` (hidden)"
            )
        );
        // Only the visible sheet counts unless sheets are named.
        let header = with(Overrides {
            header_row: Some(2),
            ..Overrides::default()
        });
        assert_eq!(
            header.as_deref(),
            Some("--header-row 3 is past the last row: sheet `Security` has 2 rows")
        );
        let col = with(Overrides {
            question_col: Some(5),
            ..Overrides::default()
        });
        assert!(col.is_some_and(|m| {
            m.contains("the nearest column that does is B (1 cell reads as a question)")
        }));
        // Questions found elsewhere: the column is not in question.
        let found = override_problem(
            &grids,
            &Overrides {
                question_col: Some(5),
                ..Overrides::default()
            },
            true,
        );
        assert_eq!(found, None);
        assert_eq!(with(Overrides::default()), None);
    }

    #[test]
    fn text_tests() {
        assert!(is_question_like("Do you encrypt data at rest"));
        assert!(is_question_like("1.2 Describe your backup process."));
        assert!(is_question_like(
            "The vendor shall notify breaches within 72 hours."
        ));
        assert!(!is_question_like("WILL_NEVER_IMPLEMENT"));
        assert!(!is_question_like("Access Control"));
        assert!(is_id_like("GNRL-01") && is_id_like("A.5.1") && is_id_like("12"));
        assert!(!is_id_like("Yes") && !is_id_like("Access Control Policy 2"));
        assert!(is_section_id("1.0") && is_section_id("2") && is_section_id("B"));
        assert!(!is_section_id("1.1") && !is_section_id("GNRL-01"));
        assert_eq!(id_shape("GNRL-01"), "A-9");
        assert_eq!(id_shape("AIS-01.1"), "A-9.9");
    }

    #[test]
    fn header_words() {
        let h = classify_header("Question ID");
        assert_eq!((h.id, h.question), (3, 0));
        assert_eq!(classify_header("Compliance (Yes/No)").answer, 2);
        assert_eq!(classify_header("Additional Information").comment, 3);
        assert!(classify_header("Analyst Notes").other);
        assert!(classify_header("Compliant Response").reviewer);
        assert_eq!(
            classify_header("Explain your incident response process."),
            HeaderCell {
                labelled: true,
                ..HeaderCell::default()
            }
        );
        assert_eq!(classify_header("Security Questionnaire").question, 0);
    }
}
