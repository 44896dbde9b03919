//! `onrecord coverage`: answer reference questionnaires without writing them, and gate CI on
//! their coverage, on regressions against a baseline and on stale citations.

use std::path::PathBuf;

use anyhow::Result;
use onrecord::coverage::{self, Coverage};
use onrecord::fill::Input;
use onrecord::outputs::{Outputs, Replace};
use onrecord::questionnaire::Overrides;
use onrecord::report::Report;

use super::{
    Level, Outcome, Place, annotation, claim_text, counts, gate_failed, json_bytes, open_engine,
    progress, summary_line,
};
use crate::cli::{Config, Format};

pub struct CoverageArgs {
    pub files: Vec<PathBuf>,
    pub min: Option<f64>,
    pub min_answered: Option<f64>,
    pub baseline: Option<PathBuf>,
    pub write_baseline: Option<PathBuf>,
    pub replace: Replace,
    pub max_age: Option<i64>,
    pub fail_stale: bool,
    pub overrides: Overrides,
}

pub fn run(config: &Config, args: &CoverageArgs) -> Result<Outcome> {
    // Unreadable input fails before any answering starts.
    let baseline = args
        .baseline
        .as_deref()
        .map(|path| coverage::read_baseline(path, &config.limits))
        .transpose()?;
    let inputs = coverage::open_all(&args.files, &args.overrides, &config.limits)?;
    let engine = open_engine(config, args.max_age)?;
    let mut read = super::record_files(&engine);
    read.extend(args.files.iter().cloned());
    read.extend(args.baseline.clone());
    let mut outputs = Outputs::new(&read, args.replace);
    if let Some(path) = &args.write_baseline {
        outputs.claim(path, "the baseline")?;
    }
    let bar = progress(inputs.iter().map(Input::questions).sum(), config.quiet);
    let reports = coverage::answer_all(&engine, &inputs, || bar.inc(1))?;
    bar.finish_and_clear();
    let mut result = Coverage::new(reports);
    if let Some(baseline) = &baseline {
        result.regressions = coverage::regressions(baseline, &result.files);
    }
    if args.max_age.is_some() {
        result.stale = coverage::stale_rows(&engine, &result.files);
    }
    if let Some(path) = &args.write_baseline {
        outputs.set(path, json_bytes(&result)?)?;
    }
    outputs.commit()?;
    let below: Vec<&Report> = match args.min {
        Some(min) => result
            .files
            .iter()
            .filter(|f| f.summary.coverage * 100.0 < min)
            .collect(),
        None => Vec::new(),
    };
    let below_answered: Vec<&Report> = match args.min_answered {
        Some(min) => result
            .files
            .iter()
            .filter(|f| f.summary.answered_share * 100.0 < min)
            .collect(),
        None => Vec::new(),
    };
    let stale_level = if args.fail_stale {
        Level::Error
    } else {
        Level::Warning
    };
    match config.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&result)?)?,
        Format::Text => out!("{}", render(&result, args.max_age, config.quiet))?,
        Format::Github => out!("{}", github(&result, args.max_age, stale_level))?,
    }
    for report in &below {
        gate_failed(
            config.format,
            Some(&report.questionnaire),
            "coverage below --min",
            &below_min(report, args.min.unwrap_or(0.0)),
        )?;
    }
    for report in &below_answered {
        gate_failed(
            config.format,
            Some(&report.questionnaire),
            "answered share below --min-answered",
            &below_min_answered(report, args.min_answered.unwrap_or(0.0)),
        )?;
    }
    if let (Some(path), false) = (&args.write_baseline, config.quiet) {
        eprintln!("wrote {}", path.display());
    }
    let stale_fails = args.fail_stale && !result.stale.is_empty();
    Ok(
        if below.is_empty()
            && below_answered.is_empty()
            && result.regressions.is_empty()
            && !stale_fails
        {
            Outcome::Success
        } else {
            Outcome::Failed
        },
    )
}

fn below_min(report: &Report, min: f64) -> String {
    format!(
        "coverage {:.1}% is below --min {min}",
        report.summary.coverage * 100.0
    )
}

fn below_min_answered(report: &Report, min: f64) -> String {
    format!(
        "answered share {:.1}% (answered, sent unread, of all questions) is below \
         --min-answered {min}",
        report.summary.answered_share * 100.0
    )
}

fn render(result: &Coverage, max_age: Option<i64>, quiet: bool) -> String {
    let mut out = String::new();
    if !quiet {
        for f in &result.files {
            out.push_str(&summary_line(&f.questionnaire, &f.summary));
            out.push('\n');
        }
        let n = result.files.len();
        let total = format!("total ({n} file{})", if n == 1 { "" } else { "s" });
        out.push_str(&summary_line(&total, &result.total));
        out.push('\n');
    }
    for r in &result.regressions {
        out.push_str(&format!(
            "regression: {}: {}\n",
            r.at.file,
            regression_text(r)
        ));
    }
    for s in &result.stale {
        out.push_str(&format!(
            "stale: {}: {}\n",
            s.at.file,
            stale_text(s, max_age)
        ));
    }
    out
}

fn regression_text(r: &coverage::Regression) -> String {
    format!(
        "sheet {} row {}: {}: was {}, now {}",
        r.at.sheet,
        r.at.row,
        r.at.question,
        claim_text(r.was.status, r.was.answer),
        claim_text(r.now.status, r.now.answer)
    )
}

fn stale_text(s: &coverage::StaleRow, max_age: Option<i64>) -> String {
    format!(
        "sheet {} row {}: {}: cites {}, not reviewed in the last {} days",
        s.at.sheet,
        s.at.row,
        s.at.question,
        s.controls.join(", "),
        max_age.unwrap_or_default()
    )
}

fn github(result: &Coverage, max_age: Option<i64>, stale_level: Level) -> String {
    let mut out = String::new();
    for f in &result.files {
        let at = Place {
            file: Some(&f.questionnaire),
            ..Place::default()
        };
        out.push_str(&annotation(Level::Notice, &at, &counts(&f.summary)));
        out.push('\n');
    }
    for r in &result.regressions {
        let at = place(&r.at, "coverage regression");
        out.push_str(&annotation(Level::Error, &at, &regression_text(r)));
        out.push('\n');
    }
    for s in &result.stale {
        let at = place(&s.at, "stale record");
        out.push_str(&annotation(stale_level, &at, &stale_text(s, max_age)));
        out.push('\n');
    }
    out
}

/// A questionnaire row as an annotation's place: the row number is the csv line.
fn place<'a>(at: &'a coverage::At, title: &'a str) -> Place<'a> {
    Place {
        file: Some(&at.file),
        line: Some(at.row as usize),
        title: Some(title),
    }
}
