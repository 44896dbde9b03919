//! Writing filled questionnaires: the customer's own xlsx/xlsm patched in place ([`xlsx`]),
//! a new xlsx for formats that cannot be patched (xls, xlsb, ods), and csv/tsv (patched as
//! text by [`delimited`]).
//!
//! Every writer returns the bytes of the output; [`crate::outputs`] puts them on disk, so no
//! writer here ever opens a file for writing.

pub mod biff;
pub mod guard;
pub mod xlsx;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

use crate::delimited;
use crate::questionnaire::Grid;
use xlsx::CellEdit;

/// Writes `grids` with `edits` applied as a new xlsx: for inputs that cannot be patched.
pub fn write_new_xlsx(grids: &[Grid], edits: &[CellEdit]) -> Result<Vec<u8>> {
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
    workbook
        .save_to_buffer()
        .context("could not build the new workbook")
}

/// The csv/tsv `input` with `edits` applied, read with `delimiter` as it was for its grid:
/// the input's own bytes with only the edited fields (and any cell that would read as a
/// formula) changed, in its own encoding and line endings ([`delimited::patch`]).
pub fn write_delimited(input: &Path, delimiter: Option<u8>, edits: &[CellEdit]) -> Result<Vec<u8>> {
    let bytes =
        std::fs::read(input).with_context(|| format!("could not read `{}`", input.display()))?;
    let parsed = delimited::parse(&bytes, delimiter)
        .map_err(|reason| anyhow::anyhow!("could not read `{}`: {reason}", input.display()))?;
    let edits: Vec<(u32, u32, String)> = edits
        .iter()
        .map(|e| (e.row, e.col, e.text.clone()))
        .collect();
    Ok(delimited::patch(&bytes, &parsed, &edits))
}
