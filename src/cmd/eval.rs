//! `onrecord eval`: measure onrecord on a questionnaire the team answered by hand.

use std::path::PathBuf;

use anyhow::{Result, bail};
use onrecord::eval::{self, EvalRow, EvalSummary, Evaluation, Verdict};
use onrecord::fill::Input;
use onrecord::questionnaire::Overrides;

use super::{Level, Outcome, Place, annotation, claim_text, gate_failed, open_engine, progress};
use crate::cli::{Config, Format};

pub struct EvalArgs {
    pub file: PathBuf,
    pub min_agreement: Option<f64>,
    pub overrides: Overrides,
}

pub fn run(config: &Config, args: &EvalArgs) -> Result<Outcome> {
    let input = Input::open(&args.file, &args.overrides, &config.limits)?;
    if input
        .layouts
        .iter()
        .all(|l| l.answer_col.is_none() && l.comment_col.is_none())
    {
        bail!(
            "`{}`: found no answer column to compare with; name it with --answer-col",
            args.file.display()
        );
    }
    let engine = open_engine(config, None)?;
    let bar = progress(input.questions(), config.quiet);
    let report = input.answer_all(&engine, || bar.inc(1))?;
    bar.finish_and_clear();
    let result = eval::evaluate(&input, &report);
    match config.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&result)?)?,
        Format::Text => out!("{}", render(&result, config.quiet))?,
        Format::Github => out!("{}", github(&result))?,
    }
    let agreement = result.summary.agreement * 100.0;
    let failed = args.min_agreement.filter(|&min| agreement < min);
    if let Some(min) = failed {
        gate_failed(
            config.format,
            Some(&result.questionnaire),
            "agreement below --min-agreement",
            &format!("agreement {agreement:.1}% is below --min-agreement {min}"),
        )?;
    }
    Ok(if failed.is_some() {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

fn row_text(r: &EvalRow) -> String {
    let human = r
        .human_answer
        .map(|a| a.as_str())
        .unwrap_or(if r.human.is_empty() {
            "blank"
        } else {
            "unclear"
        });
    format!(
        "sheet {} row {}: {}: human {human}, onrecord {}: {}",
        r.onrecord.sheet,
        r.onrecord.row,
        r.verdict.as_str(),
        claim_text(r.onrecord.status, r.onrecord.answer),
        r.onrecord.question
    )
}

/// Rows first (only disagreements with `--quiet`), then the totals.
fn render(result: &Evaluation, quiet: bool) -> String {
    let mut out = String::new();
    for r in &result.rows {
        if !quiet || r.verdict == Verdict::Disagree {
            out.push_str(&row_text(r));
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "{}: {}\n",
        result.questionnaire,
        totals(&result.summary)
    ));
    out
}

fn totals(s: &EvalSummary) -> String {
    format!(
        "{} rows: {} agree, {} disagree, {} onrecord abstains, {} human left blank, {} human answer unclear\n\
         agreement {:.1}% ({} of {} rows onrecord would answer); {} answered wrongly; {} it could not answer (in review: {} proposed the human answer, {} did not)",
        s.rows,
        s.agree,
        s.disagree,
        s.abstains,
        s.human_blank,
        s.human_unclear,
        s.agreement * 100.0,
        s.agree,
        s.agree + s.disagree,
        s.disagree,
        s.abstains,
        s.review_proposed_agree,
        s.review_proposed_disagree,
    )
}

/// A warning per disagreement, at the row; the totals as a notice.
fn github(result: &Evaluation) -> String {
    let mut out = String::new();
    for r in result
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Disagree)
    {
        let at = Place {
            file: Some(&result.questionnaire),
            line: Some(r.onrecord.row as usize),
            title: Some("onrecord disagrees"),
        };
        out.push_str(&annotation(Level::Warning, &at, &row_text(r)));
        out.push('\n');
    }
    let at = Place {
        file: Some(&result.questionnaire),
        ..Place::default()
    };
    out.push_str(&annotation(Level::Notice, &at, &totals(&result.summary)));
    out.push('\n');
    out
}
