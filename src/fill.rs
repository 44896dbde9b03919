//! Filling: from a questionnaire's sheets to the cells to write and the report rows.
//!
//! This module decides what goes where and writes no file: reading is `questionnaire`'s
//! (through [`Input::open`], shared by `fill`, `coverage` and `eval`), writing is
//! `workbook`'s. Only answer-side cells of question rows are written; rows already answered
//! are kept unless `overwrite`; a question asked twice gets the same answer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::engine::{Engine, Outcome, Status};
use crate::fields::{self, Field};
use crate::limits::Limits;
use crate::questionnaire::{self, Grid, Layout, ListValidation, Overrides, QuestionRow, detect};
use crate::record::question_key;
use crate::report::{Report, Row, combined, explanation, spell_answer};
use crate::workbook::xlsx::{self, CellEdit, SheetInfo};

/// How an input is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// xlsx/xlsm: the customer's file, patched in place.
    Patch,
    /// xls/xlsb/ods: a new xlsx with the same sheets and values.
    NewXlsx,
    /// csv/tsv: the same text format.
    Delimited,
}

pub fn kind_of(path: &Path) -> Result<Kind> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    Ok(match ext.as_str() {
        "xlsx" | "xlsm" => Kind::Patch,
        "xls" | "xlsb" | "ods" => Kind::NewXlsx,
        "csv" | "tsv" | "txt" => Kind::Delimited,
        _ => bail!(
            "`{}`: unsupported questionnaire type `.{ext}`; onrecord reads xlsx, xlsm, xls, xlsb, ods, csv and tsv",
            path.display()
        ),
    })
}

/// `FILE.answered.EXT`. A format that cannot be patched becomes a new xlsx that keeps the
/// input's extension in its name (`q.xls` → `q.xls.answered.xlsx`), so `q.xls` and `q.ods`
/// never share an output.
pub fn default_output(path: &Path, kind: Kind) -> PathBuf {
    let name = |p: Option<&std::ffi::OsStr>| p.map(|s| s.to_string_lossy().into_owned());
    let file = match kind {
        Kind::NewXlsx => format!(
            "{}.answered.xlsx",
            name(path.file_name()).unwrap_or_default()
        ),
        _ => {
            let stem = name(path.file_stem()).unwrap_or_default();
            match name(path.extension()) {
                Some(ext) => format!("{stem}.answered.{ext}"),
                None => format!("{stem}.answered"),
            }
        }
    };
    path.with_file_name(file)
}

/// The review workbook beside `output`, named after it: `q.answered.xlsx` → `q.review.xlsx`
/// (FILE.review.xlsx for the default output), `q.xls.answered.xlsx` → `q.xls.review.xlsx`,
/// `-o v2.csv` → `v2.review.xlsx`, so two fills to different outputs never share one.
pub fn default_review(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = match name.rsplit_once(".answered.") {
        Some((stem, _)) => stem.to_string(),
        None => output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    output.with_file_name(format!("{stem}.review.xlsx"))
}

/// The extension an output of `input` must have: what will be written, so a file's name
/// never lies about its content.
pub fn output_extension(input: &Path, kind: Kind) -> String {
    match kind {
        Kind::NewXlsx => "xlsx".into(),
        Kind::Patch | Kind::Delimited => input
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default(),
    }
}

/// Refuses an `-o` whose extension does not say what will be written into it.
pub fn check_output_name(input: &Path, kind: Kind, output: &Path) -> Result<()> {
    let want = output_extension(input, kind);
    let have = output
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if have != want {
        let what = match want.as_str() {
            "xlsx" => "an xlsx workbook",
            "xlsm" => "an xlsm workbook (macros kept)",
            "tsv" => "tab-separated text",
            "txt" => "delimited text",
            _ => "csv text",
        };
        bail!(
            "`{}`: onrecord writes {what} for this questionnaire; name the output .{want}",
            output.display()
        );
    }
    Ok(())
}

/// The list validations of one sheet, in the reader's shape.
pub fn validations_for(sheet: &str, info: &[SheetInfo]) -> Vec<ListValidation> {
    info.iter()
        .filter(|s| s.name == sheet)
        .flat_map(|s| &s.validations)
        .flat_map(|v| {
            v.ranges.iter().map(|r| ListValidation {
                first_row: r.first_row,
                first_col: r.first_col,
                last_row: r.last_row,
                last_col: r.last_col,
                choices: v.choices.clone(),
            })
        })
        .collect()
}

/// The layouts of every sheet that holds questions, each question with its answer field.
pub fn layouts(grids: &[Grid], info: &[SheetInfo], overrides: &Overrides) -> Vec<Layout> {
    grids
        .iter()
        .filter_map(|grid| {
            let validations = validations_for(&grid.name, info);
            let mut layout = detect(grid, &validations, overrides)?;
            let fields = fields::fields(grid, &layout, &validations);
            for (question, field) in layout.questions.iter_mut().zip(fields) {
                question.field = field;
            }
            Some(layout)
        })
        .filter(|layout| !layout.questions.is_empty())
        .collect()
}

/// A questionnaire file read and its question layouts detected: what `fill`, `coverage` and
/// `eval` all start from.
#[derive(Debug)]
pub struct Input {
    pub path: PathBuf,
    pub kind: Kind,
    pub grids: Vec<Grid>,
    pub layouts: Vec<Layout>,
}

impl Input {
    /// Reads `path` and detects its questions; a file with none is an error naming it.
    pub fn open(path: &Path, overrides: &Overrides, limits: &Limits) -> Result<Input> {
        if path.is_dir() {
            bail!(
                "`{}` is a directory; name a questionnaire file (xlsx, xlsm, xls, xlsb, ods, \
                 csv or tsv){}",
                path.display(),
                questionnaires_in(path)
            );
        }
        let kind = kind_of(path)?;
        let grids = questionnaire::read(path, limits)?;
        let info = match kind {
            Kind::Patch => xlsx::inspect(path, limits)?,
            _ => Vec::new(),
        };
        let layouts = layouts(&grids, &info, overrides);
        if let Some(problem) =
            questionnaire::override_problem(&grids, overrides, !layouts.is_empty())
        {
            bail!("`{}`: {problem}", path.display());
        }
        if let Some(conflict) = layouts.iter().find_map(|l| l.override_conflict.as_ref()) {
            bail!("`{}`: {conflict}", path.display());
        }
        let without_text: usize = grids.iter().map(|g| g.formulas_without_text).sum();
        if layouts.is_empty() && without_text > 0 {
            bail!(
                "`{}`: found no questions; {without_text} formula cells make text but the file \
                 stores no text for them (LibreOffice writes such xls files when it converts an \
                 xlsx); open it, recalculate (LibreOffice: Data > Calculate > Recalculate Hard; \
                 Excel: Ctrl+Alt+F9) and save it, best as xlsx, or use the original xlsx",
                path.display()
            );
        }
        if layouts.is_empty() {
            bail!(
                "`{}`: found no questions; name the sheet and columns with --sheet, --question-col, --header-row",
                path.display()
            );
        }
        Ok(Input {
            path: path.to_path_buf(),
            kind,
            grids,
            layouts,
        })
    }

    /// Every question answered, rows already answered too, nothing written: the report of
    /// what `fill --overwrite` would put in the file. `each` is called once per question.
    pub fn answer_all(&self, engine: &Engine, each: impl FnMut()) -> Result<Report> {
        let plan = plan(engine, &self.grids, &self.layouts, true, each)?;
        Ok(Report::new(&self.path.display().to_string(), plan.rows))
    }

    pub fn questions(&self) -> usize {
        self.layouts.iter().map(|l| l.questions.len()).sum()
    }
}

/// `, such as `DIR/a.xlsx`` when `dir` holds questionnaires (the first three by name), else "".
fn questionnaires_in(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| p.is_file() && kind_of(p).is_ok())
        .collect();
    files.sort();
    let shown: Vec<String> = files
        .iter()
        .take(3)
        .map(|p| format!("`{}`", p.display()))
        .collect();
    if shown.is_empty() {
        String::new()
    } else {
        format!(", such as {}", shown.join(", "))
    }
}

#[derive(Debug, Default)]
pub struct Plan {
    pub edits: Vec<CellEdit>,
    pub rows: Vec<Row>,
    /// Question rows left alone because they were already answered.
    pub kept: usize,
}

/// Answers every question of `layouts`; `each` is called once per question (progress).
pub fn plan(
    engine: &Engine,
    grids: &[Grid],
    layouts: &[Layout],
    overwrite: bool,
    mut each: impl FnMut(),
) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut cache: HashMap<(String, Option<String>), Outcome> = HashMap::new();
    // Every question to answer, embedded in batches first (several times faster than one by
    // one); each distinct question once.
    let asked: Vec<&str> = layouts
        .iter()
        .flat_map(|l| &l.questions)
        .filter(|q| overwrite || (q.answer.is_empty() && q.comment.is_empty()))
        .map(|q| q.text.as_str())
        .collect();
    engine.prepare(&asked)?;
    for layout in layouts {
        let width = grids
            .iter()
            .find(|g| g.name == layout.sheet)
            .map(|g| g.rows.iter().map(Vec::len).max().unwrap_or(0))
            .unwrap_or(0) as u32;
        let columns = Columns::for_layout(layout, width);
        plan.edits.extend(columns.headers(layout));
        for question in &layout.questions {
            each();
            // Any answer-side cell a person wrote keeps the whole row theirs: an explanation
            // without an answer is still their work, and ours would replace it.
            let answered_already = !question.answer.is_empty() || !question.comment.is_empty();
            if answered_already && !overwrite {
                plan.kept += 1;
                continue;
            }
            // The same question reads otherwise under another heading.
            let key = (question_key(&question.text), question.section.clone());
            let outcome = match cache.get(&key) {
                Some(outcome) => outcome.clone(),
                None => {
                    let outcome = engine.ask_in(&question.text, question.section.as_deref())?;
                    cache.insert(key, outcome.clone());
                    outcome
                }
            };
            // The same question may sit in fields of different kinds: fitted per row.
            let outcome = engine.fit(outcome, &question.field);
            plan.edits
                .extend(cells(layout, &columns, question, &outcome));
            plan.rows.push(Row::new(
                &layout.sheet,
                question.row + 1,
                question.id.clone(),
                &question.text,
                &outcome,
                engine,
            ));
        }
    }
    Ok(plan)
}

/// Where answers go on a sheet: its own columns, or new ones after the last used column.
struct Columns {
    answer: u32,
    comment: Option<u32>,
    /// Columns onrecord adds, with their header text.
    added: Vec<(u32, &'static str)>,
}

impl Columns {
    fn for_layout(layout: &Layout, width: u32) -> Columns {
        match (layout.answer_col, layout.comment_col) {
            (Some(answer), comment) => Columns {
                answer,
                comment,
                added: Vec::new(),
            },
            (None, Some(comment)) => Columns {
                answer: comment,
                comment: None,
                added: Vec::new(),
            },
            (None, None) => Columns {
                answer: width,
                comment: Some(width + 1),
                added: vec![(width, "Answer"), (width + 1, "Explanation")],
            },
        }
    }

    fn headers(&self, layout: &Layout) -> Vec<CellEdit> {
        let Some(row) = layout.header_row else {
            return Vec::new();
        };
        self.added
            .iter()
            .map(|(col, text)| CellEdit {
                sheet: layout.sheet.clone(),
                row,
                col: *col,
                text: text.to_string(),
            })
            .collect()
    }
}

/// The cells one outcome writes, as the row's field takes them. A `review` outcome leaves the
/// answer cell empty and proposes the answer in the explanation: nothing unread becomes a
/// claim in the customer's file. Yes or No is written only into a field that takes it.
fn cells(
    layout: &Layout,
    columns: &Columns,
    question: &QuestionRow,
    outcome: &Outcome,
) -> Vec<CellEdit> {
    let edit = |col: u32, text: String| CellEdit {
        sheet: layout.sheet.clone(),
        row: question.row,
        col,
        text,
    };
    let field = match &question.field {
        // A layout's dropdown choices stand for rows the field reader knew nothing about.
        Field::Unknown if !layout.answer_choices.is_empty() => {
            Field::YesNo(layout.answer_choices.clone())
        }
        field => field.clone(),
    };
    let word = outcome.answer.and_then(|a| field.spell(a));
    let plain = outcome
        .answer
        .map(|a| spell_answer(a, &[]).unwrap_or_default());
    // Only a yes/no field reads `Yes. <statement>`; free text, choices, numbers and dates
    // take the statement as it is.
    let prefix = if field.takes_yes_no() {
        plain.as_deref()
    } else {
        None
    };
    match (outcome.status, columns.comment) {
        (Status::Answered, comment) if outcome.answer.is_none() => {
            // A form field's value (the profile's): in the answer cell, unless that takes a
            // dropdown choice the value is not.
            let in_answer = match &field {
                Field::YesNo(choices) | Field::Choice(choices) => choices
                    .iter()
                    .any(|c| c.trim().eq_ignore_ascii_case(outcome.response.trim())),
                _ => true,
            };
            match (in_answer, comment) {
                (false, Some(comment)) => vec![edit(comment, outcome.response.clone())],
                _ => vec![edit(columns.answer, outcome.response.clone())],
            }
        }
        (Status::Answered, comment) if outcome.value.is_some() => {
            // The choice the statement supports, or the number it states; the statement
            // and citations beside it where there is room.
            let value = outcome.value.clone().unwrap_or_default();
            match comment {
                Some(comment) => vec![
                    edit(columns.answer, value),
                    edit(comment, explanation(outcome)),
                ],
                None => vec![edit(columns.answer, value)],
            }
        }
        (Status::Answered, Some(comment)) if word.is_some() => {
            vec![
                edit(columns.answer, word.unwrap_or_default()),
                edit(comment, explanation(outcome)),
            ]
        }
        (Status::Answered, Some(_)) if field == Field::Text => {
            // The answer cell is free text: the statement goes there.
            vec![edit(columns.answer, explanation(outcome))]
        }
        (Status::Answered, Some(comment)) => {
            // The dropdown has no such choice (e.g. "Partial"): say it in words instead.
            vec![edit(comment, combined(outcome, prefix))]
        }
        (Status::Answered, None) => vec![edit(columns.answer, combined(outcome, prefix))],
        (Status::Review, comment) => {
            let text = format!("Proposed: {}", combined(outcome, prefix));
            vec![edit(comment.unwrap_or(columns.answer), text)]
        }
        (Status::NotOnRecord, comment) => vec![edit(
            comment.unwrap_or(columns.answer),
            explanation(outcome),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_outputs_never_collide_across_input_formats() {
        let out = |name: &str| {
            let path = Path::new("dir").join(name);
            default_output(&path, kind_of(&path).unwrap())
        };
        assert_eq!(out("q.xlsx"), Path::new("dir/q.answered.xlsx"));
        assert_eq!(out("q.csv"), Path::new("dir/q.answered.csv"));
        assert_eq!(out("q.xls"), Path::new("dir/q.xls.answered.xlsx"));
        assert_eq!(out("q.ods"), Path::new("dir/q.ods.answered.xlsx"));
        assert_ne!(out("q.xls"), out("q.ods"));
        assert_ne!(out("q.xlsb"), out("q.xlsx"));
    }

    #[test]
    fn review_workbooks_are_named_after_their_output() {
        let review = |output: &str| default_review(Path::new(output));
        assert_eq!(
            review("dir/q.answered.xlsx"),
            Path::new("dir/q.review.xlsx")
        );
        assert_eq!(review("q.answered.csv"), Path::new("q.review.xlsx"));
        assert_eq!(
            review("dir/q.xls.answered.xlsx"),
            Path::new("dir/q.xls.review.xlsx")
        );
        assert_eq!(review("out/v2.xlsx"), Path::new("out/v2.review.xlsx"));
    }
}
