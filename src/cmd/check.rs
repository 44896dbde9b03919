//! `onrecord check`: validate the record.

use anyhow::Result;
use onrecord::check::{self, CheckOptions};
use onrecord::diag::{Diagnostic, Severity};
use onrecord::record;

use super::{Level, Outcome, Place, annotation, display_path};
use crate::cli::{Config, Format};

pub fn run(config: &Config, max_age: i64) -> Result<Outcome> {
    let root = config.record()?;
    let loaded = record::load(root, &config.limits)?;
    let options = CheckOptions {
        today: config.today,
        max_age_days: max_age,
    };
    let report = check::check(&loaded, &options);
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let shown: Vec<Diagnostic> = report
        .diagnostics
        .iter()
        .map(|d| Diagnostic {
            path: display_path(root, &d.path),
            ..d.clone()
        })
        .collect();
    match config.format {
        Format::Json => {
            let json =
                serde_json::json!({"errors": errors, "warnings": warnings, "diagnostics": shown});
            outln!("{}", serde_json::to_string_pretty(&json)?)?;
        }
        Format::Github => {
            for d in &shown {
                outln!("{}", github_annotation(d))?;
            }
        }
        Format::Text => {
            for d in &shown {
                out!("{}", render(d))?;
            }
            if !config.quiet {
                outln!(
                    "{} error{}, {} warning{}",
                    errors,
                    plural(errors),
                    warnings,
                    plural(warnings)
                )?;
            }
        }
    }
    Ok(if errors > 0 {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `path:line: severity: message`, then an indented hint line.
pub fn render(d: &Diagnostic) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let place = if d.line > 0 {
        format!("{}:{}", d.path, d.line)
    } else {
        d.path.clone()
    };
    let mut text = format!("{place}: {severity}: {}\n", d.message);
    if let Some(hint) = &d.hint {
        text.push_str(&format!("  hint: {hint}\n"));
    }
    text
}

/// One diagnostic as a GitHub Actions annotation, its hint on a second line.
pub fn github_annotation(d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let mut message = d.message.clone();
    if let Some(hint) = &d.hint {
        message.push_str(&format!("\n{hint}"));
    }
    let at = Place {
        file: Some(&d.path),
        line: Some(d.line),
        title: None,
    };
    annotation(level, &at, &message)
}
