//! `onrecord fill`: answer a questionnaire and write it back.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use onrecord::answer::Engine;
use onrecord::check::CheckOptions;
use onrecord::fill::{self, Kind};
use onrecord::questionnaire::{self, Layout, Overrides, col_letters};
use onrecord::report::Report;
use onrecord::workbook::{self, xlsx};

use super::Outcome;
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
    let kind = fill::kind_of(&args.file)?;
    let grids = questionnaire::read(&args.file)?;
    let info = match kind {
        Kind::Patch => xlsx::inspect(&args.file)?,
        _ => Vec::new(),
    };
    let layouts = fill::layouts(&grids, &info, &args.overrides);
    if layouts.is_empty() {
        bail!(
            "`{}`: found no questions; name the sheet and columns with --sheet, --question-col, --header-row",
            args.file.display()
        );
    }
    if args.dry_run {
        print!("{}", describe(&layouts));
        return Ok(Outcome::Success);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| fill::default_output(&args.file, kind));
    if same_file(&output, &args.file) {
        bail!(
            "`{}`: the output would overwrite the input; choose another path with -o",
            output.display()
        );
    }
    let mut engine = Engine::open(&config.record)?;
    if let Some(days) = args.max_age {
        engine.staleness = Some(CheckOptions {
            today: config.today,
            max_age_days: days,
        });
    }
    let total: usize = layouts.iter().map(|l| l.questions.len()).sum();
    let bar = progress(total, config.quiet);
    let plan = fill::plan(&engine, &grids, &layouts, args.overwrite, || bar.inc(1))?;
    bar.finish_and_clear();
    let skipped = match kind {
        Kind::Patch => xlsx::patch(&args.file, &output, &plan.edits)?.skipped_formula_cells,
        Kind::NewXlsx => {
            workbook::write_new_xlsx(&grids, &plan.edits, &output)?;
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
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .map_err(|e| anyhow::anyhow!("could not write `{}`: {e}", path.display()))?;
    }
    if !config.quiet {
        let s = &report.summary;
        eprintln!(
            "{}: {} questions, {} answered, {} review, {} not on the record, coverage {:.1}%{}",
            args.file.display(),
            s.questions,
            s.answered,
            s.review,
            s.not_on_record,
            s.coverage * 100.0,
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

fn progress(total: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet || total < 50 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} questions")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
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
