//! The review workbook (`FILE.review.xlsx`): what a person must check after `fill`, with a
//! `Decision` column that `learn` reads back.
//!
//! Written with rust_xlsxwriter: a `Review` sheet (one row per question not sent unread, or
//! every question), a `Summary` sheet with the counts and how to decide, and a `Controls`
//! sheet listing the record's controls to choose from. Reading it back goes through
//! [`crate::questionnaire::read`], so a person may save it from Excel or LibreOffice, as xlsx
//! or ods; only the header names matter, not the column order.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DocProperties, ExcelDateTime, Format,
    FormatAlign, Note, Workbook, Worksheet, XlsxError,
};

use crate::engine::Status;
use crate::limits::Limits;
use crate::questionnaire;
use crate::record::{Answer, Record};
use crate::report::Report;

/// The Review sheet's header row, exactly.
pub const HEADER: [&str; 12] = [
    "Sheet",
    "Row",
    "Id",
    "Question",
    "Status",
    "Proposed answer",
    "Proposed control",
    "Statement",
    "Not covered",
    "Alternatives",
    "Decision",
    "Note",
];

pub const REVIEW_SHEET: &str = "Review";
const SUMMARY_SHEET: &str = "Summary";
const CONTROLS_SHEET: &str = "Controls";
/// Between a control id and its title in `Proposed control` and `Alternatives`.
const ID_TITLE: &str = " — ";
/// The most characters a cell holds.
const CELL_CHARS: usize = 32_767;

/// How a status reads in the workbook.
pub fn status_text(status: Status) -> &'static str {
    match status {
        Status::Answered => "answered",
        Status::Review => "review",
        Status::NotOnRecord => "not on the record",
    }
}

/// The review workbook of `report` (filled from `record`): the rows not sent unread, or
/// every row with `all`. `name` is the questionnaire's file name, for the Summary.
pub fn workbook(report: &Report, record: &Record, name: &str, all: bool) -> Result<Vec<u8>> {
    build(report, record, name, all).context("could not build the review workbook")
}

fn build(report: &Report, record: &Record, name: &str, all: bool) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // A fixed creation time: the same record and questionnaire give the same bytes.
    let epoch = ExcelDateTime::from_ymd(2000, 1, 1)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&epoch));

    let listed: Vec<_> = report
        .rows
        .iter()
        .filter(|r| all || r.status != Status::Answered)
        .collect();

    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9D9D9))
        .set_align(FormatAlign::Top);
    let fill = |rgb: u32| {
        Format::new()
            .set_background_color(Color::RGB(rgb))
            .set_text_wrap()
            .set_align(FormatAlign::Top)
    };
    let answered = fill(0xE2EFDA);
    let review = fill(0xFFF2CC);
    let gap = fill(0xF8D7DA);

    let sheet = workbook.add_worksheet();
    sheet.set_name(REVIEW_SHEET)?;
    for (col, title) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &header)?;
    }
    let widths: [u16; 12] = [14, 6, 10, 50, 12, 15, 28, 50, 18, 28, 16, 24];
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
    }
    for (i, row) in listed.iter().enumerate() {
        let at = i as u32 + 1;
        let format = match row.status {
            Status::Answered => &answered,
            Status::Review => &review,
            Status::NotOnRecord => &gap,
        };
        let proposed = row
            .citations
            .first()
            .map(|c| c.control.as_str())
            .or_else(|| row.candidates.first().map(|c| c.control.as_str()))
            .and_then(|id| record.control(id));
        // A row not on the record proposes no answer: its nearest control is where to look,
        // and `accept` there sends that control's own answer.
        let answer = row.answer;
        let alternatives: Vec<String> = row
            .candidates
            .iter()
            .filter(|c| Some(c.control.as_str()) != proposed.map(|p| p.id.as_str()))
            .map(|c| format!("{}{ID_TITLE}{}", c.control, c.title))
            .collect();
        let cells: [String; 12] = [
            row.sheet.clone(),
            String::new(),
            row.id.clone().unwrap_or_default(),
            row.question.clone(),
            status_text(row.status).to_string(),
            answer.map(|a| a.as_str().to_string()).unwrap_or_default(),
            proposed
                .map(|c| format!("{}{ID_TITLE}{}", c.id, c.title))
                .unwrap_or_default(),
            proposed.map(|c| c.statement.clone()).unwrap_or_default(),
            row.not_covered.join(", "),
            alternatives.join("\n"),
            String::new(),
            String::new(),
        ];
        for (col, text) in cells.iter().enumerate() {
            write_text(sheet, at, col as u16, text, format)?;
        }
        sheet.write_number_with_format(at, 1, f64::from(row.row), format)?;
        // Neither Excel nor LibreOffice fits a row to wrapped text when it opens a file:
        // the height is set here, from the longest cell, up to a readable maximum.
        sheet.set_row_height(at, row_height(&cells, &widths))?;
        let why = format!("{} ({})", row.reason.detail, row.reason.code.as_str());
        sheet.insert_note(at, 4, &Note::new(clip(&why)).set_author("onrecord"))?;
    }
    let last = listed.len() as u32;
    // Printed, it reads as a list: landscape, one page wide, the header on every page.
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, last.max(1), HEADER.len() as u16 - 1)?;
    if last > 0 {
        let decision = DataValidation::new()
            .allow_list_strings(&["accept", "reject"])?
            .ignore_blank(true)
            .set_error_style(DataValidationErrorStyle::Information)
            .set_input_title("Decision")?
            .set_input_message(
                "accept, reject, a control id (IAM-02), or a control id and an answer (IAM-02: no)",
            )?;
        sheet.add_data_validation(1, 10, last, 10, &decision)?;
    }

    let summary = workbook.add_worksheet();
    summary.set_name(SUMMARY_SHEET)?;
    write_summary(summary, report, name, listed.len(), &header)?;

    let controls = workbook.add_worksheet();
    controls.set_name(CONTROLS_SHEET)?;
    for (col, title) in ["Id", "Title", "Answer", "Statement"].iter().enumerate() {
        controls.write_string_with_format(0, col as u16, *title, &header)?;
    }
    for (col, width) in [12, 40, 8, 100].iter().enumerate() {
        controls.set_column_width(col as u16, *width)?;
    }
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for (i, control) in record.controls.iter().enumerate() {
        let at = i as u32 + 1;
        let cells = [
            control.id.as_str(),
            control.title.as_str(),
            control.answer.as_str(),
            control.statement.as_str(),
        ];
        for (col, text) in cells.iter().enumerate() {
            write_text(controls, at, col as u16, text, &wrap)?;
        }
    }
    controls.set_freeze_panes(1, 0)?;
    controls.autofilter(0, 0, record.controls.len().max(1) as u32, 3)?;

    workbook.save_to_buffer()
}

fn write_summary(
    sheet: &mut Worksheet,
    report: &Report,
    name: &str,
    listed: usize,
    bold: &Format,
) -> Result<(), XlsxError> {
    let s = &report.summary;
    let percent = |x: f64| format!("{:.0}%", x * 100.0);
    let rows: Vec<(String, String)> = vec![
        ("Questionnaire".into(), name.to_string()),
        ("Questions".into(), s.questions.to_string()),
        ("Answered unread".into(), s.answered.to_string()),
        ("To review".into(), s.review.to_string()),
        ("Not on the record".into(), s.not_on_record.to_string()),
        ("Listed on Review".into(), listed.to_string()),
        ("Coverage".into(), percent(s.coverage)),
        ("Sent unread".into(), percent(s.answered_share)),
        (String::new(), String::new()),
        (
            "How to decide".into(),
            "Fill the Decision column of Review, then run: onrecord learn THIS-FILE".into(),
        ),
        (
            "accept".into(),
            "the proposed answer and control are right".into(),
        ),
        (
            "reject".into(),
            "the record does not answer it: remembered as not on the record".into(),
        ),
        (
            "IAM-02".into(),
            "this control answers it, with its own answer".into(),
        ),
        (
            "IAM-02: no".into(),
            "this control answers it, with this answer".into(),
        ),
        ("(empty)".into(), "not decided: learn skips the row".into()),
    ];
    sheet.set_column_width(0, 20)?;
    sheet.set_column_width(1, 80)?;
    sheet.write_string_with_format(0, 0, "onrecord review", bold)?;
    for (i, (key, value)) in rows.iter().enumerate() {
        let at = i as u32 + 2;
        sheet.write_string(at, 0, key)?;
        match value.parse::<f64>() {
            Ok(n) if !value.is_empty() && key != "Questionnaire" => sheet.write_number(at, 1, n)?,
            _ => sheet.write_string(at, 1, clip(value))?,
        };
    }
    Ok(())
}

/// Points per line of the default 11-point font.
const LINE_POINTS: f64 = 15.0;
/// The most lines a row shows before its cells must be opened to be read in full.
const MAX_LINES: usize = 8;

/// The height that shows the wrapped text of `cells` in columns of `widths` characters.
fn row_height(cells: &[String], widths: &[u16]) -> f64 {
    let lines = cells
        .iter()
        .zip(widths)
        .map(|(text, &width)| {
            // A column `width` wide holds about 1.2 × width characters of running text.
            let per_line = (usize::from(width.max(1)) * 6).div_ceil(5);
            text.split('\n')
                .map(|line| line.chars().count().div_ceil(per_line).max(1))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(1)
        .clamp(1, MAX_LINES);
    lines as f64 * LINE_POINTS
}

/// Text as a string cell (never a formula), cut to what a cell holds.
fn write_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(row, col, clip(text), format)?;
    Ok(())
}

fn clip(text: &str) -> String {
    if text.chars().count() <= CELL_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(CELL_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// What a person decided on one row of a review workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The proposal is right.
    Accept,
    /// Not on the record.
    Reject,
    /// This control answers it, with its own answer or this one.
    Control(String, Option<Answer>),
}

/// One decided row of a review workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// `REVIEW.xlsx: Review!K5`, for messages.
    pub place: String,
    pub question: String,
    /// The proposed control's id, when a control was proposed.
    pub proposed: Option<String>,
    pub proposed_answer: Option<Answer>,
    pub choice: Choice,
}

/// The decided rows of the review workbook at `path`, in sheet order; rows with an empty
/// Decision are skipped. Every unreadable decision is listed in the error, not the first.
pub fn read_decisions(path: &Path, limits: &Limits) -> Result<Vec<Decided>> {
    let grids = questionnaire::read(path, limits)?;
    let shown = path.display();
    let Some(grid) = grids.iter().find(|g| g.name == REVIEW_SHEET) else {
        bail!(
            "`{shown}`: has no `{REVIEW_SHEET}` sheet; learn reads the review workbook `fill` writes (FILE.review.xlsx)"
        );
    };
    let header = grid.rows.first().cloned().unwrap_or_default();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let needed = [
        "Question",
        "Proposed answer",
        "Proposed control",
        "Decision",
    ];
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| column(n).is_none())
        .collect();
    if !missing.is_empty() {
        bail!(
            "`{shown}`: sheet `{REVIEW_SHEET}` has no {} column in its first row; keep the header `fill` wrote",
            missing.join(", ")
        );
    }
    let [question, proposed_answer, proposed, decision] = needed.map(|n| column(n).unwrap_or(0));
    let decision_col = questionnaire::col_letters(decision as u32);
    let mut decided = Vec::new();
    let mut problems = Vec::new();
    for (i, row) in grid.rows.iter().enumerate().skip(1) {
        let cell = |c: usize| row.get(c).map(|s| s.trim()).unwrap_or("");
        let text = cell(decision);
        if text.is_empty() {
            continue;
        }
        let place = format!("{shown}: {REVIEW_SHEET}!{decision_col}{}", i + 1);
        let proposed = cell(proposed).split_whitespace().next().map(str::to_string);
        let choice = match Choice::parse(text) {
            Ok(choice) => choice,
            Err(why) => {
                problems.push(format!("{place}: {why}"));
                continue;
            }
        };
        if cell(question).is_empty() {
            problems.push(format!(
                "{place}: the row has no question; keep the Question cell"
            ));
            continue;
        }
        if choice == Choice::Accept && proposed.is_none() {
            problems.push(format!(
                "{place}: `accept`, but nothing was proposed on this row; write a control id or `reject`"
            ));
            continue;
        }
        decided.push(Decided {
            place,
            question: cell(question).to_string(),
            proposed,
            proposed_answer: crate::report::parse_answer(cell(proposed_answer)),
            choice,
        });
    }
    if !problems.is_empty() {
        bail!(
            "{} decision(s) cannot be read; nothing was learned:\n  {}\n  a Decision is `accept`, `reject`, a control id (IAM-02), or a control id and an answer (IAM-02: no)",
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(decided)
}

impl Choice {
    /// `accept`, `reject`, `IAM-02`, `IAM-02: no`.
    pub fn parse(text: &str) -> Result<Choice, String> {
        parse_choice(text)
    }
}

fn parse_choice(text: &str) -> Result<Choice, String> {
    let lower = text.to_lowercase();
    match lower.as_str() {
        "accept" | "accepted" => return Ok(Choice::Accept),
        "reject" | "rejected" => return Ok(Choice::Reject),
        _ => {}
    }
    let (id, answer) = match text.split_once(':') {
        Some((id, answer)) => {
            let answer = answer.trim();
            match crate::report::parse_answer(answer) {
                Some(a) => (id.trim(), Some(a)),
                None => {
                    return Err(format!(
                        "`{text}`: `{answer}` is not an answer (yes, no, partial, n/a)"
                    ));
                }
            }
        }
        None => (text.trim(), None),
    };
    let id_like = !id.is_empty()
        && !id.contains(char::is_whitespace)
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !id_like {
        return Err(format!("`{text}` is not a decision"));
    }
    Ok(Choice::Control(id.to_string(), answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_read_as_a_person_writes_them() {
        assert_eq!(parse_choice("accept"), Ok(Choice::Accept));
        assert_eq!(parse_choice("Accept"), Ok(Choice::Accept));
        assert_eq!(parse_choice("REJECT"), Ok(Choice::Reject));
        assert_eq!(
            parse_choice("IAM-02"),
            Ok(Choice::Control("IAM-02".into(), None))
        );
        assert_eq!(
            parse_choice("IAM-02: no"),
            Ok(Choice::Control("IAM-02".into(), Some(Answer::No)))
        );
        assert_eq!(
            parse_choice("IAM-02:N/A"),
            Ok(Choice::Control(
                "IAM-02".into(),
                Some(Answer::NotApplicable)
            ))
        );
        assert!(parse_choice("IAM-02: maybe").is_err());
        assert!(parse_choice("looks fine to me").is_err());
    }
}
