//! Writing filled questionnaires: the customer's own xlsx/xlsm patched in place ([`xlsx`]),
//! a new xlsx for formats that cannot be patched (xls, xlsb, ods), and csv/tsv; and any text
//! output beside them (the JSON reports, [`write_text`]).
//!
//! Every writer writes a temporary file beside the output and renames it into place, so a
//! failure never leaves a half-written output, and none of them ever opens the input for
//! writing.

pub mod biff;
pub mod guard;
pub mod xlsx;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::questionnaire::Grid;
use xlsx::CellEdit;

/// Writes `grids` with `edits` applied as a new xlsx: for inputs that cannot be patched.
pub fn write_new_xlsx(grids: &[Grid], edits: &[CellEdit], output: &Path) -> Result<()> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    for grid in grids {
        let sheet = workbook.add_worksheet();
        sheet
            .set_name(&grid.name)
            .with_context(|| format!("sheet name `{}`", grid.name))?;
        if grid.hidden {
            sheet.set_hidden(true);
        }
        let mut cells: BTreeMap<(u32, u16), &str> = BTreeMap::new();
        for (r, row) in grid.rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    cells.insert((r as u32, c as u16), value);
                }
            }
        }
        for edit in edits.iter().filter(|e| e.sheet == grid.name) {
            cells.insert((edit.row, edit.col as u16), &edit.text);
        }
        for ((row, col), value) in cells {
            // Numbers stay numbers; everything else is a string, never a formula.
            match value.parse::<f64>() {
                Ok(n) if n.is_finite() && !value.starts_with('+') => {
                    sheet.write_number(row, col, n)
                }
                _ => sheet.write_string(row, col, value),
            }
            .with_context(|| format!("sheet `{}` row {} column {}", grid.name, row + 1, col + 1))?;
        }
    }
    let temp = temp_path(output);
    workbook
        .save(&temp)
        .with_context(|| format!("could not write `{}`", temp.display()))?;
    finish(&temp, output)
}

/// Writes one grid with `edits` applied as csv/tsv (delimiter as given). Text onrecord writes
/// that a spreadsheet would read as a formula gets a leading `'`.
pub fn write_delimited(
    grid: &Grid,
    edits: &[CellEdit],
    delimiter: u8,
    output: &Path,
) -> Result<()> {
    let mut rows = grid.rows.clone();
    for edit in edits.iter().filter(|e| e.sheet == grid.name) {
        let (r, c) = (edit.row as usize, edit.col as usize);
        if rows.len() <= r {
            rows.resize(r + 1, Vec::new());
        }
        if rows[r].len() <= c {
            rows[r].resize(c + 1, String::new());
        }
        rows[r][c] = defuse_formula(&edit.text);
    }
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let temp = temp_path(output);
    let result = (|| -> Result<()> {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_path(&temp)?;
        for mut row in rows {
            row.resize(width, String::new());
            writer.write_record(&row)?;
        }
        writer.flush()?;
        Ok(())
    })();
    if let Err(err) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(err.context(format!("could not write `{}`", output.display())));
    }
    finish(&temp, output)
}

/// Writes `text` to `output` the same way: a temporary file beside it, then a rename.
pub fn write_text(output: &Path, text: &str) -> Result<()> {
    let temp = temp_path(output);
    if let Err(err) = std::fs::write(&temp, text) {
        let _ = std::fs::remove_file(&temp);
        anyhow::bail!("could not write `{}`: {err}", output.display());
    }
    finish(&temp, output)
}

/// A leading `=`, `+`, `-`, `@`, tab or CR makes spreadsheets evaluate a csv cell.
pub fn defuse_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn temp_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    output.with_file_name(format!(".{name}.onrecord-tmp"))
}

fn finish(temp: &Path, output: &Path) -> Result<()> {
    std::fs::rename(temp, output).map_err(|err| {
        let _ = std::fs::remove_file(temp);
        anyhow::anyhow!("could not write `{}`: {err}", output.display())
    })?;
    Ok(())
}
