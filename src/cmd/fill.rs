//! `onrecord fill`: answer a questionnaire and write it back.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use onrecord::fill::{self, Input, Kind};
use onrecord::limits::Limits;
use onrecord::questionnaire::{Layout, Overrides, col_letters};
use onrecord::report::Report;
use onrecord::workbook::{self, xlsx};

use super::{Outcome, progress, summary_line, write_json};
use crate::cli::Config;

pub struct FillArgs {
    pub file: PathBuf,
    pub output: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub dry_run: bool,
    pub overwrite: bool,
    pub overrides: Overrides,
    pub max_age: Option<i64>,
}

pub fn run(config: &Config, args: &FillArgs) -> Result<Outcome> {
    // The --limit flag comes with another change; until then, the defaults.
    let limits = Limits::default();
    let input = Input::open(&args.file, &args.overrides, &limits)?;
    let Input {
        kind,
        grids,
        layouts,
        ..
    } = &input;
    if args.dry_run {
        out!("{}", describe(layouts))?;
        return Ok(Outcome::Success);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| fill::default_output(&args.file, *kind));
    if same_file(&output, &args.file) {
        bail!(
            "`{}`: the output would overwrite the input; choose another path with -o",
            output.display()
        );
    }
    let engine = super::open_engine(config, args.max_age)?;
    let bar = progress(input.questions(), config.quiet);
    let plan = fill::plan(&engine, grids, layouts, args.overwrite, || bar.inc(1))?;
    bar.finish_and_clear();
    let skipped = match kind {
        Kind::Patch => {
            xlsx::patch(&args.file, &output, &plan.edits, &limits)?.skipped_formula_cells
        }
        Kind::NewXlsx => {
            workbook::write_new_xlsx(grids, &plan.edits, &output)?;
            Vec::new()
        }
        Kind::Delimited => {
            let grid = &grids[0];
            workbook::write_delimited(grid, &plan.edits, grid.delimiter.unwrap_or(b','), &output)?;
            Vec::new()
        }
    };
    let report = Report::new(&args.file.display().to_string(), plan.rows);
    if let Some(path) = &args.report {
        write_json(path, &report)?;
    }
    if !config.quiet {
        eprintln!(
            "{}{}",
            summary_line(&args.file.display().to_string(), &report.summary),
            if plan.kept > 0 {
                format!("; {} already answered, kept", plan.kept)
            } else {
                String::new()
            }
        );
        for (sheet, row, col) in &skipped {
            eprintln!(
                "  kept formula cell {sheet}!{}{}",
                col_letters(*col),
                row + 1
            );
        }
        eprintln!("wrote {}", output.display());
    }
    Ok(Outcome::Success)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `--dry-run`: per sheet, what was found.
fn describe(layouts: &[Layout]) -> String {
    let mut out = String::new();
    let letter = |c: Option<u32>| c.map(col_letters).unwrap_or_else(|| "-".into());
    for l in layouts {
        out.push_str(&format!(
            "sheet {}: header row {}, question {}, answer {}, comment {}, id {}, {} questions{}\n",
            l.sheet,
            l.header_row
                .map(|r| (r + 1).to_string())
                .unwrap_or_else(|| "-".into()),
            col_letters(l.question_col),
            letter(l.answer_col),
            letter(l.comment_col),
            letter(l.id_col),
            l.questions.len(),
            if l.answer_choices.is_empty() {
                String::new()
            } else {
                format!(", answers {}", l.answer_choices.join("/"))
            },
        ));
        for q in l.questions.iter().take(3) {
            let text: String = q.text.chars().take(90).collect();
            out.push_str(&format!("  row {}: {text}\n", q.row + 1));
        }
    }
    out
}
