//! `onrecord check`: validate the record.

use anyhow::Result;
use onrecord::check::{self, CheckOptions};
use onrecord::diag::{Diagnostic, Severity};
use onrecord::record;

use super::{Outcome, display_path};
use crate::cli::{Config, Format};

pub fn run(config: &Config, max_age: i64) -> Result<Outcome> {
    let loaded = record::load(&config.record)?;
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
            path: display_path(&config.record, &d.path),
            ..d.clone()
        })
        .collect();
    match config.format {
        Format::Json => {
            let json =
                serde_json::json!({"errors": errors, "warnings": warnings, "diagnostics": shown});
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Format::Github => {
            for d in &shown {
                println!("{}", github_annotation(d));
            }
        }
        Format::Text => {
            for d in &shown {
                print!("{}", render(d));
            }
            if !config.quiet {
                println!(
                    "{} error{}, {} warning{}",
                    errors,
                    plural(errors),
                    warnings,
                    plural(warnings)
                );
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

/// A GitHub Actions workflow command; `%`, CR and LF are escaped as the syntax requires.
pub fn github_annotation(d: &Diagnostic) -> String {
    let escape_data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let escape_prop = |s: &str| escape_data(s).replace(':', "%3A").replace(',', "%2C");
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = d.message.clone();
    if let Some(hint) = &d.hint {
        message.push_str(&format!("\n{hint}"));
    }
    let line = if d.line > 0 {
        format!(",line={}", d.line)
    } else {
        String::new()
    };
    format!(
        "::{level} file={}{line}::{}",
        escape_prop(&d.path),
        escape_data(&message)
    )
}
