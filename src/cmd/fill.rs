//! `onrecord fill`: answer a questionnaire and write it back.

use std::path::PathBuf;

use anyhow::Result;
use onrecord::fill::{self, Input, Kind};
use onrecord::outputs::{Outputs, Replace};
use onrecord::questionnaire::{Layout, Overrides, col_letters};
use onrecord::report::Report;
use onrecord::review;
use onrecord::workbook::{self, xlsx};

use super::{Outcome, json_bytes, progress, summary_line};
use crate::cli::{Config, Format};

pub struct FillArgs {
    pub file: PathBuf,
    pub output: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub dry_run: bool,
    pub overwrite: bool,
    pub replace: Replace,
    pub review: Review,
    pub overrides: Overrides,
    pub max_age: Option<i64>,
}

/// The review workbook: none (`--no-review`), or written (at `--review PATH`, else next to
/// the output), listing every question with `--review-all`.
pub enum Review {
    None,
    Write { path: Option<PathBuf>, all: bool },
}

pub fn run(config: &Config, args: &FillArgs) -> Result<Outcome> {
    let limits = &config.limits;
    let input = Input::open(&args.file, &args.overrides, limits)?;
    let Input {
        kind,
        grids,
        layouts,
        ..
    } = &input;
    if args.dry_run {
        match config.format {
            Format::Json => outln!("{}", serde_json::to_string_pretty(&detected(layouts))?)?,
            _ => out!("{}", describe(layouts))?,
        }
        return Ok(Outcome::Success);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| fill::default_output(&args.file, *kind));
    fill::check_output_name(&args.file, *kind, &output)?;
    let engine = super::open_engine(config, args.max_age)?;
    // Every output is checked against every file read (the record's too) before answering,
    // and written only when all are ready.
    let mut read = super::record_files(&engine);
    read.push(args.file.clone());
    let mut outputs = Outputs::new(&read, args.replace);
    outputs.claim(&output, "the filled questionnaire")?;
    let review = match &args.review {
        Review::None => None,
        Review::Write { path, all } => {
            let path = path
                .clone()
                .unwrap_or_else(|| fill::default_review(&output));
            outputs.claim(&path, "the review workbook")?;
            Some((path, *all))
        }
    };
    if let Some(path) = &args.report {
        outputs.claim(path, "the report")?;
    }
    let bar = progress(input.questions(), config.quiet);
    let plan = fill::plan(&engine, grids, layouts, args.overwrite, || bar.inc(1))?;
    bar.finish_and_clear();
    let (bytes, skipped) = match kind {
        Kind::Patch => {
            let patched = xlsx::patch(&args.file, &plan.edits, limits)?;
            (patched.bytes, patched.summary.skipped_formula_cells)
        }
        Kind::NewXlsx => (workbook::write_new_xlsx(grids, &plan.edits)?, Vec::new()),
        Kind::Delimited => {
            let delimiter = grids.first().and_then(|g| g.delimiter);
            (
                workbook::write_delimited(&args.file, delimiter, &plan.edits)?,
                Vec::new(),
            )
        }
    };
    outputs.set(&output, bytes)?;
    let report = Report::new(&args.file.display().to_string(), plan.rows);
    if let Some(path) = &args.report {
        outputs.set(path, json_bytes(&report)?)?;
    }
    if let Some((path, all)) = &review {
        let name = args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        outputs.set(
            path,
            review::workbook(&report, &engine.record, &name, *all)?,
        )?;
    }
    outputs.commit()?;
    if config.format == Format::Json {
        // The report `--report` writes, and nothing else on stdout: it can be piped to jq.
        out!("{}", String::from_utf8_lossy(&json_bytes(&report)?))?;
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
        if let Some((path, _)) = &review {
            eprintln!(
                "wrote {}: decide its rows, then `onrecord learn {}`",
                path.display(),
                path.display()
            );
        }
    }
    Ok(Outcome::Success)
}

/// `--dry-run --format json`: per sheet, what was found, with every question and its field.
fn detected(layouts: &[Layout]) -> serde_json::Value {
    let letter = |c: Option<u32>| c.map(col_letters);
    serde_json::Value::Array(
        layouts
            .iter()
            .map(|l| {
                serde_json::json!({
                    "sheet": l.sheet,
                    "header_row": l.header_row.map(|r| r + 1),
                    "question_col": col_letters(l.question_col),
                    "answer_col": letter(l.answer_col),
                    "comment_col": letter(l.comment_col),
                    "id_col": letter(l.id_col),
                    "answer_choices": l.answer_choices,
                    "questions": l.questions.iter().map(|q| serde_json::json!({
                        "row": q.row + 1,
                        "id": q.id,
                        "question": q.text,
                        "section": q.section,
                        "field": q.field,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
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
