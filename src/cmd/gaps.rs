//! `onrecord gaps`: framework entries the record does not cover.

use anyhow::{Result, bail};
use onrecord::gaps::{self, FrameworkGaps, Gap};
use onrecord::record;

use super::{Level, Outcome, Place, annotation, gate_failed};
use crate::cli::{Config, Format};

pub fn run(config: &Config, framework: Option<&str>, min: Option<f64>) -> Result<Outcome> {
    let loaded = record::load(config.record()?, &config.limits)?;
    let record = &loaded.record;
    if let Some(key) = framework
        && record.catalog(key).is_none()
    {
        let keys: Vec<&str> = record.catalogs.iter().map(|c| c.key.as_str()).collect();
        bail!(
            "unknown framework `{key}`; this record has: {}",
            keys.join(", ")
        );
    }
    let result = gaps::gaps(record, framework);
    match config.format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"frameworks": result}))?
        )?,
        Format::Text => out!("{}", render(&result))?,
        Format::Github => {
            for f in &result {
                let title = format!("{} gap", f.name);
                let at = Place {
                    title: Some(&title),
                    ..Place::default()
                };
                for g in &f.uncovered {
                    let message = format!("{} {} is not covered by any control", g.id, g.title);
                    outln!("{}", annotation(Level::Warning, &at, &message))?;
                }
            }
        }
    }
    let below: Vec<&FrameworkGaps> = match min {
        Some(min) => result
            .iter()
            .filter(|f| f.coverage() * 100.0 < min)
            .collect(),
        None => Vec::new(),
    };
    for f in &below {
        let message = format!(
            "{} coverage {:.1}% is below --min {}",
            f.name,
            f.coverage() * 100.0,
            min.unwrap_or(0.0)
        );
        gate_failed(
            config.format,
            None,
            "framework coverage below --min",
            &message,
        )?;
    }
    Ok(if below.is_empty() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

fn render(result: &[FrameworkGaps]) -> String {
    let mut out = String::new();
    for f in result {
        let noun = match f.framework.as_str() {
            "soc2" => "criteria",
            "iso27001" => "controls",
            _ => "entries",
        };
        out.push_str(&format!(
            "{}: {}/{} {noun} covered ({:.1}%)\n",
            f.name,
            f.covered,
            f.entries,
            f.coverage() * 100.0
        ));
        for (series, covered, total) in &f.series {
            out.push_str(&format!("  {} {series}: {covered}/{total}\n", f.name));
        }
        list(&mut out, "uncovered", &f.uncovered);
        list(&mut out, "only `no` controls", &f.only_no);
        list(&mut out, "only `n/a` controls", &f.only_na);
    }
    out
}

fn list(out: &mut String, heading: &str, gaps: &[Gap]) {
    if gaps.is_empty() {
        return;
    }
    out.push_str(&format!("  {heading}:\n"));
    for g in gaps {
        let behind = if g.controls.is_empty() {
            String::new()
        } else {
            format!(" [{}]", g.controls.join(", "))
        };
        out.push_str(&format!("    {:<8} {}{behind}\n", g.id, g.title));
    }
}
