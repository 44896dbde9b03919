//! `onrecord learn`: write a review workbook's decisions into the record.

use std::path::Path;

use anyhow::Result;
use onrecord::learn::{self, Learning};
use onrecord::outputs::{Outputs, Replace};
use onrecord::record;
use onrecord::review;
use similar::TextDiff;

use super::Outcome;
use crate::cli::{Config, Format};

pub fn run(config: &Config, file: &Path, dry_run: bool) -> Result<Outcome> {
    let decided = review::read_decisions(file, &config.limits)?;
    let loaded = record::load(config.record()?, &config.limits)?;
    let learning = learn::plan(&loaded.record, &decided, config.today)?;
    if dry_run {
        for change in &learning.changes {
            out!("{}", diff(change))?;
        }
    } else if !learning.changes.is_empty() {
        // The record's files are replaced on purpose: only the review workbook is an input
        // no output may be.
        let mut outputs = Outputs::new(&[file], Replace::Force);
        for change in &learning.changes {
            let path = config.record()?.join(&change.path);
            outputs.claim(&path, "a record file")?;
            outputs.set(&path, change.after.clone().into_bytes())?;
        }
        outputs.commit()?;
    }
    match config.format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "decisions": decided.len(),
                "phrasings": learning.phrasings,
                "not_on_record": learning.gaps,
                "already_known": learning.known,
                "files": learning.changes.iter().map(|c| &c.path).collect::<Vec<_>>(),
                "written": !dry_run,
            }))?
        )?,
        _ if !config.quiet => eprintln!("{}", summary(&learning, decided.len(), dry_run)),
        _ => {}
    }
    Ok(Outcome::Success)
}

fn summary(learning: &Learning, decisions: usize, dry_run: bool) -> String {
    let verb = if dry_run { "would learn" } else { "learned" };
    let mut line = format!(
        "{decisions} decision(s): {verb} {} phrasing(s) and {} question(s) not on the record; {} already known",
        learning.phrasings, learning.gaps, learning.known
    );
    if !dry_run && !learning.changes.is_empty() {
        let files: Vec<&str> = learning.changes.iter().map(|c| c.path.as_str()).collect();
        line.push_str(&format!("\nwrote {}", files.join(", ")));
    }
    line
}

/// A unified diff of one file, with paths relative to the record (as `git diff` in the
/// record's repository shows them).
fn diff(change: &learn::FileChange) -> String {
    let old = if change.before.is_empty() {
        "/dev/null".to_string()
    } else {
        format!("a/{}", change.path)
    };
    TextDiff::from_lines(&change.before, &change.after)
        .unified_diff()
        .context_radius(3)
        .header(&old, &format!("b/{}", change.path))
        .to_string()
}
